"""Relay benchmark: origin CPU with 1..N viewers spread over two edges (should stay flat).

One synthetic 720p30 2.5 Mbit/s publisher at the origin; two edges pull the channel from
it (``relay.upstream``); N WHEP subscribers split over the edges. Each edge pulls once,
so the origin serves two sessions whatever N is: its CPU should not grow with N, while
each edge's does. The three nodes share one signing key, as a deployment's nodes do: an
edge pulls with its own relay token, which an origin with another key refuses (403, and
the edge answers its viewers 409 "not live"). Prints JSON lines (one per N, then a
summary); never pass/fail. Reuses the publisher and subscribers of ``tests/bench/fanout.py``.

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python \\
        tests/bench/relay_fanout.py run --counts 2,16,48
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import fanout  # noqa: E402  (after the path is set)

CHANNEL = "gz-hall-1"  # a programme channel: the pulls need no token


def run_node(port: int, data_dir: str, upstream: str | None) -> None:
    from aiohttp import web

    from config import IceSettings, RelaySettings, Settings
    from web.app import create_app

    settings = Settings(
        host="127.0.0.1",
        port=port,
        data_dir=Path(data_dir),
        producer_secret=fanout.SECRET,
        media=fanout.unlimited_media(),
        relay=RelaySettings(upstream=upstream),
        ice=IceSettings(udp_port=0),  # three nodes on one machine: a free media port each
    )
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None)


def _share_signing_key(dirs: list[str]) -> None:
    """One signing key in every node's data dir (no Redis here to share it through)."""
    from signaling.auth import load_or_create_secret
    from signaling.auth.secret import SECRET_FILE
    from signaling.files import private_dir

    first = Path(dirs[0])
    load_or_create_secret(first)
    for other in dirs[1:]:
        private_dir(Path(other))
        shutil.copy2(first / SECRET_FILE, Path(other) / SECRET_FILE)  # keeps mode 0600


def _spawn_node(port: int, data_dir: str, upstream: str | None) -> subprocess.Popen[str]:
    extra = ["--upstream", upstream] if upstream else []
    return subprocess.Popen(
        [sys.executable, str(HERE), "node", "--port", str(port), "--data-dir", data_dir, *extra],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def measure(count: int, warmup: float, window: float) -> dict[str, Any]:
    ports = [fanout._free_port() for _ in range(3)]
    base = [f"http://127.0.0.1:{p}" for p in ports]
    with tempfile.TemporaryDirectory() as data:
        dirs = [str(Path(data) / name) for name in ("origin", "edge-a", "edge-b")]
        _share_signing_key(dirs)
        origin = _spawn_node(ports[0], dirs[0], None)
        children = [origin]
        try:
            fanout._wait_http(ports[0])
            edges = [_spawn_node(ports[i], dirs[i], base[0]) for i in (1, 2)]
            children += edges
            for port in ports[1:]:
                fanout._wait_http(port)
            children.append(fanout._spawn("publish", "--url", f"{base[0]}/whip/{CHANNEL}"))
            time.sleep(3)
            halves = [count // 2 + count % 2, count // 2]
            subs = [
                fanout._spawn(
                    "subscribe",
                    "--url",
                    f"{base[1 + i]}/whep/{CHANNEL}",
                    "--count",
                    str(n),
                    "--warmup",
                    str(warmup),
                    "--window",
                    str(window),
                )
                for i, n in enumerate(halves)
                if n > 0
            ]
            children += subs
            for sub in subs:
                assert sub.stdout is not None
                json.loads(sub.stdout.readline())
            nodes = [origin, *edges]
            start = [fanout._cpu_seconds(n.pid) for n in nodes]
            wall_start = time.monotonic()
            results = []
            for sub in subs:
                assert sub.stdout is not None
                results.append(json.loads(sub.stdout.readline()))
            end = [fanout._cpu_seconds(n.pid) for n in nodes]
            wall = time.monotonic() - wall_start
        finally:
            for child in children[4:]:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(15)
            for child in reversed(children):
                fanout._stop(child)
    cpu = [100 * (sum(e) - sum(s)) / wall for s, e in zip(start, end, strict=True)]
    fps = [f for r in results for f in r["fps"]]
    return {
        "edge_viewers": count,
        "origin_cpu_percent": round(cpu[0], 2),
        "edge_a_cpu_percent": round(cpu[1], 2),
        "edge_b_cpu_percent": round(cpu[2], 2),
        "min_fps": round(min(fps), 1) if fps else 0.0,
        "mean_fps": round(statistics.fmean(fps), 1) if fps else 0.0,
        "no_frames": sum(r["no_frames"] for r in results),
        "failed_setups": [f for r in results for f in r.get("failed", [])][:3],
        "window_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run")
    run.add_argument("--counts", default="2,16,48")
    run.add_argument("--warmup", type=float, default=4.0)
    run.add_argument("--window", type=float, default=10.0)
    node = sub.add_parser("node")
    node.add_argument("--port", type=int, required=True)
    node.add_argument("--data-dir", required=True)
    node.add_argument("--upstream")
    args = parser.parse_args(sys.argv[1:] or ["run"])
    if args.command == "node":
        run_node(args.port, args.data_dir, args.upstream)
        return
    fanout.make_clip()
    rows = []
    for count in (int(n) for n in args.counts.split(",")):
        row = measure(count, args.warmup, args.window)
        rows.append(row)
        print(json.dumps(row), flush=True)
    origin = [row["origin_cpu_percent"] for row in rows]
    print(
        json.dumps(
            {
                "summary": True,
                "origin_cpu_percent_min": min(origin),
                "origin_cpu_percent_max": max(origin),
                "edge_viewers": [row["edge_viewers"] for row in rows],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
