"""Fan-out benchmark: one synthetic clip published, N subscribers, venuebridge beside Janus.

Prints a JSON line per (server, codec, resolution, subscriber count), then a summary:
the fitted server CPU per subscriber (least squares over the counts), subscribers per
core, the ratio venuebridge/Janus (target <= 0.5) and the lowest fps of any subscriber
(target >= 29). Not part of the pass/fail suite.

The server (all its processes: pid and descendants), the publisher and the subscribers
run in separate processes. Both servers receive the same clip payloads (WHIP for
venuebridge, plain RTP into a streaming mountpoint for Janus) and are read by the same
subscriber code (tests/bench/media_subscribers.py). Janus 1.1.2 comes from Debian
(tests/bench/janus_anchor.py); ``--servers venuebridge`` runs without it. ``--baseline``
adds aiortc's MediaRelay (decode once, encode per subscriber), 720p H.264 only.

Run it inside a network namespace with a non-loopback address (see scripts/bench.sh):

    flock /tmp/vb-heavy.lock bash scripts/bench.sh --counts 1,16,64
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

from tests.bench.fanout_report import summary  # noqa: E402
from tests.bench.janus_anchor import OPUS_PT, PAYLOAD_TYPES, JanusServer, janus_missing  # noqa: E402
from tests.bench.media_clip import CODECS, RESOLUTIONS  # noqa: E402
from tests.bench.media_clip import FPS as FPS  # noqa: E402
from tests.bench.media_clip import make_clip as clip_for  # noqa: E402
from tests.bench.media_servers import (  # noqa: E402
    CHANNEL,
    ROOT,
    SECRET,
    ChildServer,
    VenuebridgeServer,
    free_tcp_port,
    run_forward_server,
    run_relay_server,
    stop_process,
)
from tests.bench.media_servers import unlimited_media as unlimited_media  # noqa: E402
from tests.bench.media_subscribers import summarise  # noqa: E402
from tests.bench.proc_cpu import TreeCpu, cpu_seconds, machine_busy_seconds  # noqa: E402


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE), *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


class _RelayServer(ChildServer):
    """The MediaRelay baseline as a child process (``fanout.py serve-relay``)."""

    stdout = subprocess.DEVNULL

    def command(self) -> list[str]:
        return [sys.executable, str(HERE), "serve-relay", "--port", str(self.port)]


def _py_spy(pid: int, seconds: float, path: str) -> subprocess.Popen[str]:
    """Sample the server's window with py-spy (raw stacks, native frames too)."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "200", "--native", "--format", "raw", "--output", path]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, text=True)


def worker_figures(base: str) -> dict[str, Any]:
    """What the server says about itself in /metrics: subscribers and CPU per worker."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError as error:
        return {"error": str(error)}
    names = {
        "venuebridge_worker_subscribers": "subscribers",
        "venuebridge_worker_cpu_cores": "cpu_percent",
        "venuebridge_worker_cpu_cores_per_subscriber": "cpu_percent_per_subscriber",
    }
    figures: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        match = re.fullmatch(r'(\w+)\{worker="([^"]*)"\} (\S+)', line)
        if match is None or match[1] not in names:
            continue
        value = float(match[3])
        key = names[match[1]]
        figures.setdefault(match[2], {})[key] = (
            value if key == "subscribers" else round(100 * value, 3)
        )
    return figures


def _start_server(
    kind: str, folder: Path, codec: str, native_send: bool, options: dict[str, Any]
) -> Any:
    if kind == "janus":
        server: Any = JanusServer(folder, options.get("ice_interface", "vb0"))
    elif kind == "relay":
        server = _RelayServer()
    else:
        # "venuebridge-packets": the native path without frames (media.frame_send = false).
        server = VenuebridgeServer(
            folder,
            codec,
            options.get("workers"),
            options.get("redis_url"),
            native_send,
            frame_send=kind != "venuebridge-packets",
        )
    server.start()
    return server


def _publisher_args(kind: str, server: Any, codec: str, resolution: str) -> list[str]:
    clip = ["--codec", codec, "--resolution", resolution]
    if kind == "janus":
        mount = server.mountpoints[codec]
        return ["publish", *clip, "--rtp-video", str(mount.video_port), "--rtp-audio",
                str(mount.audio_port), "--video-pt", str(PAYLOAD_TYPES[codec])]  # fmt: skip
    return ["publish", *clip, "--whip", f"{server.base}/whip/{CHANNEL}"]


def _subscriber_target(kind: str, server: Any, codec: str) -> list[str]:
    if kind == "janus":
        return ["--url", server.url, "--mountpoint", str(server.mountpoints[codec].id)]
    return ["--url", f"{server.base}/whep/{CHANNEL}"]


def measure(
    kind: str, codec: str, resolution: str, count: int, args: argparse.Namespace, **options: Any
) -> dict[str, Any]:
    """One run: start the server and the publisher, add ``count`` subscribers, measure."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as folder:
        native_send = not getattr(args, "plain_send", False)
        server = _start_server(kind, Path(folder), codec, native_send, options)
        children: list[subprocess.Popen[str]] = []
        results: list[dict[str, Any]] = []
        try:
            children.append(_spawn(*_publisher_args(kind, server, codec, resolution)))
            time.sleep(3)  # the publisher connects and sends its first keyframe
            processes = max(1, min(args.processes, count))
            per_process = [count // processes + (i < count % processes) for i in range(processes)]
            subscribers = [
                _spawn(
                    "subscribe",
                    *_subscriber_target(kind, server, codec),
                    "--count",
                    str(n),
                    "--warmup",
                    str(args.warmup),
                    "--window",
                    str(args.window),
                    *([] if args.receiver_reports else ["--no-receiver-reports"]),
                )
                for n in per_process
                if n > 0
            ]
            children += subscribers
            for sub in subscribers:  # all subscribers start their window at about the same time
                assert sub.stdout is not None
                json.loads(sub.stdout.readline())
            cpu = TreeCpu(server.pid)
            cpu.start()
            # The load generator shares the machine: its CPU and the machine's, so a run
            # where the box (not the server) ran out shows as such.
            load = [TreeCpu(child.pid) for child in children]
            for tree in load:
                tree.start()
            machine_start = machine_busy_seconds()
            if getattr(args, "py_spy", None) and kind.startswith("venuebridge"):
                path = f"{args.py_spy}.{kind}-{codec}-{resolution}-{count}.raw"
                children.append(_py_spy(server.pid, args.window, path))
            processes_at_start = cpu.started_with
            wall_start = time.monotonic()
            own_figures: dict[str, Any] = {}
            if kind.startswith("venuebridge"):
                time.sleep(args.window / 2)  # mid-window: every subscriber still connected
                own_figures = worker_figures(server.base)
            for sub in subscribers:
                assert sub.stdout is not None
                results.append(json.loads(sub.stdout.readline()))
            used = cpu.read()
            wall = time.monotonic() - wall_start
            generator = sum(u + s for tree in load for u, s in tree.read().values())
            machine_end = machine_busy_seconds()
            rss = cpu.rss_mb()
        finally:
            for child in children[1:]:  # subscribers hang up and exit by themselves
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(20)
            for child in reversed(children):
                stop_process(child)
            server.stop()
    user = sum(u for u, _ in used.values())
    system = sum(s for _, s in used.values())
    busy = sorted((100 * (u + s) / wall for u, s in used.values()), reverse=True)
    return {
        "server": kind,
        "codec": codec,
        "resolution": resolution,
        "subscribers": count,
        "receiver_reports": args.receiver_reports,
        **({"native_send": native_send} if kind.startswith("venuebridge") else {}),
        **({"workers": options["workers"]} if options.get("workers") else {}),
        "server_cpu_percent": round(100 * (user + system) / wall, 2),
        "server_user_percent": round(100 * user / wall, 2),
        "server_system_percent": round(100 * system / wall, 2),
        "server_processes": [processes_at_start, len(used)],
        "busiest_processes_percent": [round(b, 1) for b in busy[:4]],
        "server_rss_mb": round(rss, 1),
        **summarise(results),
        **({"metrics_per_worker": own_figures} if own_figures else {}),
        "load_generator_cpu_percent": round(100 * generator / wall, 1),
        # Busy share of all the machine's cores (100 = every core busy), other jobs too.
        "machine_busy_percent": round(
            100 * (machine_end[0] - machine_start[0]) / (machine_end[1] - machine_start[1]), 1
        ),
        "window_s": round(wall, 1),
    }


def orchestrate(args: argparse.Namespace) -> None:
    codecs = args.codecs.split(",")
    resolutions = args.resolutions.split(",")
    servers = args.servers.split(",")
    if "janus" in servers and (missing := janus_missing()) is not None:
        sys.exit(f"fanout: {missing}; or run with --servers venuebridge")
    for codec in codecs:
        for resolution in resolutions:
            clip_for(codec, RESOLUTIONS[resolution])
    rows: list[dict[str, Any]] = []
    for codec in codecs:
        for resolution in resolutions:
            for count in (int(n) for n in args.counts.split(",")):
                # Interleaved, so a neighbour's load on a shared machine hits both servers.
                for kind in servers:
                    row = measure(kind, codec, resolution, count, args)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    if args.baseline:
        for count in (int(n) for n in args.baseline_counts.split(",")):
            row = measure("relay", "H264", "720p", count, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps(summary(rows)), flush=True)


# -- shared with relay_fanout, regions, encode_bitrates and steering ---------------------------

_free_port = free_tcp_port
_stop = stop_process


def make_clip() -> Any:
    """The 720p H.264 clip the other benchmarks publish."""
    return clip_for("H264", RESOLUTIONS["720p"])


def _wait_http(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # waiting for a child process to listen
    raise RuntimeError("server did not start")


def _cpu_seconds(pid: int) -> tuple[float, float]:
    return cpu_seconds(pid) or (0.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run")
    run.add_argument("--counts", default="1,16,64")
    run.add_argument("--codecs", default=",".join(CODECS))
    run.add_argument("--resolutions", default=",".join(RESOLUTIONS))
    run.add_argument("--servers", default="venuebridge,janus")
    run.add_argument("--baseline", action="store_true")
    # The baseline encodes once per subscriber: two already load this 2-core box heavily.
    run.add_argument("--baseline-counts", default="1,2")
    run.add_argument("--processes", type=int, default=2)
    run.add_argument("--warmup", type=float, default=4.0)
    run.add_argument("--window", type=float, default=10.0)
    run.add_argument("--plain-send", action="store_true", help="media.native_send = false")
    run.add_argument("--py-spy", help="sample venuebridge's window with py-spy: PREFIX.*.raw")
    run.add_argument(
        "--no-receiver-reports",
        dest="receiver_reports",
        action="store_false",
        help="subscribers send no RTCP receiver reports (they do by default, like browsers)",
    )
    relay = sub.add_parser("serve-relay")
    relay.add_argument("--port", type=int, required=True)
    serve = sub.add_parser("serve", help="venuebridge in-process (the other benchmarks)")
    serve.add_argument("--mode", choices=["forward", "relay"], required=True)
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--data-dir", required=True)
    serve.add_argument("--plain-send", action="store_true")
    publish = sub.add_parser("publish")
    publish.add_argument("--codec", choices=CODECS, default="H264")
    publish.add_argument("--resolution", choices=list(RESOLUTIONS), default="720p")
    publish.add_argument("--whip", "--url", help="publish over WHIP to this URL")
    publish.add_argument("--rtp-video", type=int, help="send plain RTP to this loopback port")
    publish.add_argument("--rtp-audio", type=int)
    publish.add_argument("--video-pt", type=int)
    subscribe = sub.add_parser("subscribe")
    subscribe.add_argument("--url", required=True)
    subscribe.add_argument("--mountpoint", type=int, help="Janus: watch this mountpoint")
    subscribe.add_argument("--count", type=int, required=True)
    subscribe.add_argument("--warmup", type=float, required=True)
    subscribe.add_argument("--window", type=float, required=True)
    subscribe.add_argument("--no-receiver-reports", dest="reports", action="store_false")
    args = parser.parse_args(sys.argv[1:] or ["run"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.command == "serve-relay":
        run_relay_server(args.port)
    elif args.command == "serve":
        if args.mode == "forward":
            run_forward_server(args.port, args.data_dir, not args.plain_send)
        else:
            run_relay_server(args.port)
    elif args.command == "publish":
        from tests.bench.media_publishers import run_rtp_publisher, run_whip_publisher

        if args.whip:
            asyncio.run(run_whip_publisher(args.whip, SECRET, args.codec, args.resolution))
        else:
            asyncio.run(
                run_rtp_publisher(args.rtp_video, args.rtp_audio, args.codec, args.resolution,
                                  args.video_pt, OPUS_PT)
            )  # fmt: skip
    elif args.command == "subscribe":
        from tests.bench.media_subscribers import run_subscribers

        asyncio.run(
            run_subscribers(
                args.url, args.count, args.warmup, args.window, args.mountpoint, args.reports
            )
        )
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
