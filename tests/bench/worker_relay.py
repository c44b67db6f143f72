"""What a sibling pull costs: one node of two workers, a channel published on worker 0.

``serve --workers 2`` on a fresh redis-server; the synthetic 720p30 2.5 Mbit/s publisher
of ``tests/bench/fanout.py`` publishes to worker 0's private listener. Measured, each
over the same window: the CPU of both workers with no pull (the anchor), then with
worker 1 pulling the channel once from worker 0 and carrying it with no subscriber of
its own (``relay.grace_seconds`` keeps the pull after one short-lived subscriber left),
then with one subscriber on worker 1. Prints JSON lines; never pass/fail.

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/worker_relay.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from tests.bench import fanout  # noqa: E402  (after the path is set)
from tests.integration.worker_node import _children, _listening_ports  # noqa: E402
from tests.redis_server import running_redis  # noqa: E402

CHANNEL = "gz-hall-1"
NODE = "bench-workers"


def _private_urls(client: redis.Redis, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    keys = [f"venuebridge:coet2018:node:{NODE}:workers:node:{i}" for i in (0, 1)]
    while time.monotonic() < deadline:
        raw = [client.get(key) for key in keys]
        if all(raw):
            return [json.loads(r)["url"] for r in raw if r]
        time.sleep(0.1)
    raise RuntimeError("the workers did not register")


def _pid_of(supervisor: int, url: str) -> int:
    port = int(url.rsplit(":", 1)[1])
    return next(pid for pid in _children(supervisor) if port in _listening_ports(pid))


def _cpu(pids: list[int], window: float) -> list[float]:
    """Percent of one core each process used over ``window`` seconds."""
    start = [sum(fanout._cpu_seconds(pid)) for pid in pids]
    wall = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - wall
    end = [sum(fanout._cpu_seconds(pid)) for pid in pids]
    return [round(100 * (e - s) / wall, 2) for s, e in zip(start, end, strict=True)]


def measure(window: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    port = fanout._free_port()
    with tempfile.TemporaryDirectory() as data, running_redis(Path(data)) as redis_url:
        env = {
            **os.environ,
            "VENUEBRIDGE_REDIS_URL": redis_url,
            "VENUEBRIDGE_WORKERS": "2",
            "VENUEBRIDGE_NODE_ID": NODE,
            "VENUEBRIDGE_PRODUCER_SECRET": fanout.SECRET,
            "VENUEBRIDGE_ICE_UDP_PORT": "0",
            "VENUEBRIDGE_RELAY_GRACE_SECONDS": "3600",
            "VENUEBRIDGE_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(Path(data) / "node")],
            env=env, cwd=ROOT,
        )  # fmt: skip
        children: list[subprocess.Popen[str]] = []
        try:
            fanout._wait_http(port)
            urls = _private_urls(redis.Redis.from_url(redis_url))
            pids = [_pid_of(server.pid, url) for url in urls]
            children.append(fanout._spawn("publish", "--url", f"{urls[0]}/whip/{CHANNEL}"))
            time.sleep(4)
            rows.append({"phase": "no pull", "cpu_percent": _cpu(pids, window)})
            # One subscriber on worker 1 for a moment: worker 1 pulls, and keeps the pull.
            brief = fanout._spawn(
                "subscribe", "--url", f"{urls[1]}/whep/{CHANNEL}",
                "--count", "1", "--warmup", "2", "--window", "2",
            )  # fmt: skip
            children.append(brief)
            assert brief.stdout is not None
            json.loads(brief.stdout.readline())
            result = json.loads(brief.stdout.readline())
            brief.wait(15)
            time.sleep(2)
            rows.append(
                {
                    "phase": "worker 1 holds one pull, no subscriber",
                    "cpu_percent": _cpu(pids, window),
                    "brief_subscriber_fps": result["fps"],
                }
            )
            held = fanout._spawn(
                "subscribe", "--url", f"{urls[1]}/whep/{CHANNEL}",
                "--count", "1", "--warmup", "2", "--window", str(window),
            )  # fmt: skip
            children.append(held)
            assert held.stdout is not None
            json.loads(held.stdout.readline())
            cpu = _cpu(pids, window)
            result = json.loads(held.stdout.readline())
            rows.append(
                {"phase": "one subscriber on worker 1", "cpu_percent": cpu, "fps": result["fps"]}
            )
        finally:
            for child in reversed(children):
                fanout._stop(child)
            with contextlib.suppress(Exception):
                fanout._stop(server)  # type: ignore[arg-type]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    fanout.make_clip()
    rows = measure(args.window)
    for row in rows:
        print(json.dumps(row), flush=True)
    anchor, pulled = rows[0]["cpu_percent"], rows[1]["cpu_percent"]
    print(
        json.dumps(
            {
                "summary": True,
                "pull_cost_receiving_worker_percent": round(pulled[1] - anchor[1], 2),
                "pull_cost_sending_worker_percent": round(pulled[0] - anchor[0], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
