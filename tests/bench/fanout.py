"""Fan-out benchmark: one synthetic 720p30 2.5 Mbit/s publisher, N WHEP subscribers.

Prints JSON lines. Not part of the pass/fail suite. The server, the publisher and the
subscribers run in separate processes; the server's CPU is read from /proc for its pid
alone. Subscribers count frames from RTP marker bits without decoding (one extra sample
subscriber decodes, to check the picture). ``--baseline`` also runs aiortc's MediaRelay
(decode once, encode per subscriber) in the same harness.

Run it inside a network namespace with a non-loopback address (see scripts/bench.sh):

    flock /tmp/vb-heavy.lock bash scripts/bench.sh --counts 1,16,64 --baseline
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import os
import pickle
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from config import MediaSettings

WIDTH, HEIGHT, FPS, BITRATE, GOP = 1280, 720, 30, 2_500_000, 60
SECRET = "bench-producer-secret-0123456789"
CLIP = Path(tempfile.gettempdir()) / "venuebridge-bench-720p.pickle"
TICKS = os.sysconf("SC_CLK_TCK")


# -- the synthetic clip ----------------------------------------------------------------------


def make_clip(frames: int = 4 * FPS) -> list[tuple[bytes, bool]]:
    """Pre-encode 720p H.264 at 2.5 Mbit/s (CBR, keyframe every 2 s); cached in /tmp."""
    if CLIP.exists():
        return pickle.loads(CLIP.read_bytes())  # type: ignore[no-any-return]
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.framerate = fractions.Fraction(FPS, 1)
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = BITRATE
    codec.profile = "Baseline"
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:nal-hrd=cbr:"
        f"vbv-maxrate={BITRATE // 1000}:vbv-bufsize={BITRATE // 2000}",
    }
    rng = random.Random(7)
    packets: list[tuple[bytes, bool]] = []
    for index in range(frames):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        luma = bytearray(rng.randbytes(frame.planes[0].buffer_size))
        # A moving bright bar so a decoded sample shows motion.
        row = (index * 8) % (HEIGHT - 40)
        stride = frame.planes[0].line_size
        luma[row * stride : (row + 40) * stride] = b"\xf0" * (40 * stride)
        frame.planes[0].update(bytes(luma))
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = index
        for packet in codec.encode(frame):
            packets.append((bytes(packet), bool(packet.is_keyframe)))
    for packet in codec.encode(None):
        packets.append((bytes(packet), bool(packet.is_keyframe)))
    CLIP.write_bytes(pickle.dumps(packets))
    return packets


# -- publisher -------------------------------------------------------------------------------


async def run_publisher(url: str) -> None:
    import av
    from aiortc import (
        MediaStreamTrack,
        RTCConfiguration,
        RTCPeerConnection,
        RTCRtpSender,
        RTCSessionDescription,
    )

    from tests.media_peers import SilenceTrack

    clip = make_clip()

    class ClipTrack(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.index = 0
            self.start = time.monotonic()

        async def recv(self) -> av.Packet:
            due = self.start + self.index / FPS
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            data, _ = clip[self.index % len(clip)]
            packet = av.Packet(data)
            packet.pts = self.index * (90000 // FPS)
            packet.time_base = fractions.Fraction(1, 90000)
            self.index += 1
            return packet

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video = pc.addTransceiver(ClipTrack(), direction="sendonly")
    video.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    )
    pc.addTransceiver(SilenceTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await _post(url, pc.localDescription.sdp, SECRET)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.Event().wait()


async def _post(url: str, sdp: str, token: str | None = None) -> str:
    import aiohttp

    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as http, http.post(url, data=sdp, headers=headers) as r:
        body = await r.text()
        if r.status != 201:
            raise RuntimeError(f"{url}: {r.status} {body}")
        return body


# -- subscribers -----------------------------------------------------------------------------


class FrameCounter:
    """Counts video frames by RTP marker bit: no depacketising, no decoding."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_frame: float | None = None
        self.frames = 0
        self.packets = 0

    def on_receive_started(self, payload_types: dict[int, str], sink: Any) -> None:
        # Only the clear RTP header is read: skip SRTP decryption to keep the load
        # generator light (the header is not encrypted in SRTP).
        with contextlib.suppress(AttributeError):
            sink._dtls._rx_srtp.unprotect = lambda data: data

    def on_rtp(self, ssrc: int, pt: int, seq: int, ts: int, marker: bool, payload: bytes) -> None:
        self.packets += 1
        if marker:
            self.frames += 1
            if self.first_frame is None:
                self.first_frame = time.monotonic()

    def on_sender_report(self, ssrc: int, ntp: int) -> None:
        pass


class NullCounter(FrameCounter):
    pass


async def _counting_subscriber(url: str) -> tuple[Any, FrameCounter]:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from streaming.aiortc_glue import take_over_receiver

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    counter = FrameCounter(time.monotonic())
    video = pc.addTransceiver("video", direction="recvonly")
    audio = pc.addTransceiver("audio", direction="recvonly")
    take_over_receiver(video, counter)
    take_over_receiver(audio, NullCounter(counter.started))
    await pc.setLocalDescription(await pc.createOffer())
    answer = await _post(url, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc, counter


async def _decoding_sample(url: str, result: dict[str, Any]) -> Any:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await _post(url, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    track = pc.getTransceivers()[0].receiver.track

    async def read() -> None:
        while True:
            frame = await track.recv()
            result["decoded"] = result.get("decoded", 0) + 1
            result["resolution"] = f"{frame.width}x{frame.height}"

    return pc, asyncio.get_running_loop().create_task(read())


async def run_subscribers(url: str, count: int, warmup: float, window: float, sample: bool) -> None:
    sample_result: dict[str, Any] = {}
    pcs: list[Any] = []
    counters: list[FrameCounter] = []
    for _ in range(count):
        pc, counter = await _counting_subscriber(url)
        pcs.append(pc)
        counters.append(counter)
    sample_task = None
    if sample:
        sample_pc, sample_task = await _decoding_sample(url, sample_result)
        pcs.append(sample_pc)
    await asyncio.sleep(warmup)
    marks = [c.frames for c in counters]
    print(json.dumps({"event": "window_start"}), flush=True)
    await asyncio.sleep(window)
    fps = [(c.frames - m) / window for c, m in zip(counters, marks, strict=True)]
    ttff = [c.first_frame - c.started for c in counters if c.first_frame is not None]
    print(
        json.dumps(
            {
                "event": "result",
                "fps": fps,
                "ttff": ttff,
                "no_frames": sum(1 for c in counters if c.first_frame is None),
                "sample": sample_result,
            }
        ),
        flush=True,
    )
    if sample_task is not None:
        sample_task.cancel()
    await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)


# -- servers ---------------------------------------------------------------------------------


def unlimited_media(native_send: bool = True) -> MediaSettings:
    """Media limits lifted: every subscriber comes from one address, as fast as it can."""
    from config import MediaSettings

    unlimited = 1_000_000
    return MediaSettings(
        max_sessions=unlimited,
        max_sessions_per_channel=unlimited,
        max_sessions_per_address=unlimited,
        setup_rate_per_minute=unlimited,
        setup_burst=unlimited,
        native_send=native_send,
    )


def run_forward_server(port: int, data_dir: str, native_send: bool = True) -> None:
    from aiohttp import web

    from config import Settings
    from web.app import create_app

    settings = Settings(
        host="127.0.0.1",
        port=port,
        data_dir=Path(data_dir),
        producer_secret=SECRET,
        media=unlimited_media(native_send),
    )
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None)


def run_relay_server(port: int) -> None:
    """The baseline: aiortc's MediaRelay, decoding once and encoding for every subscriber."""
    from aiohttp import web
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay

    relay = MediaRelay()
    tracks: dict[str, Any] = {}
    pcs: set[Any] = set()

    async def whip(request: web.Request) -> web.Response:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pcs.add(pc)
        pc.on("track", lambda track: tracks.__setitem__(track.kind, track))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=await request.text(), type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(
            status=201, text=pc.localDescription.sdp, content_type="application/sdp"
        )

    async def whep(request: web.Request) -> web.Response:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pcs.add(pc)
        offer = RTCSessionDescription(sdp=await request.text(), type="offer")
        await pc.setRemoteDescription(offer)
        for transceiver in pc.getTransceivers():
            if transceiver.kind in tracks:
                transceiver.sender.replaceTrack(relay.subscribe(tracks[transceiver.kind]))
                transceiver.direction = "sendonly"
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(
            status=201, text=pc.localDescription.sdp, content_type="application/sdp"
        )

    app = web.Application()
    app.router.add_post("/whip/{channel}", whip)
    app.router.add_post("/whep/{channel}", whep)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# -- orchestration ---------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE), *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def _py_spy(pid: int, seconds: float, path: str) -> subprocess.Popen[str]:
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "200", "--native", "--format", "raw", "--output", path]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, text=True)


def _wait_http(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(
    mode: str,
    count: int,
    processes: int,
    warmup: float,
    window: float,
    profile: str | None = None,
    spy: str | None = None,
    plain_send: bool = False,
) -> dict[str, Any]:
    """One run: start server and publisher, add ``count`` subscribers, measure a window."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        extra = ["--profile", profile] if profile else []
        extra += ["--plain-send"] if plain_send else []
        server = _spawn(
            "serve", "--mode", mode, "--port", str(port), "--data-dir", data_dir, *extra
        )
        children: list[subprocess.Popen[str]] = [server]
        try:
            _wait_http(port)
            base = f"http://127.0.0.1:{port}"
            children.append(_spawn("publish", "--url", f"{base}/whip/gz-hall-1"))
            time.sleep(3)  # the publisher connects and sends its first keyframes
            per_process = [count // processes + (i < count % processes) for i in range(processes)]
            subs = [
                _spawn(
                    "subscribe",
                    "--url",
                    f"{base}/whep/gz-hall-1",
                    "--count",
                    str(n),
                    "--warmup",
                    str(warmup),
                    "--window",
                    str(window),
                    *(["--sample"] if i == 0 and mode == "forward" else []),
                )
                for i, n in enumerate(per_process)
                if n > 0
            ]
            children += subs
            for sub in subs:  # all subscribers start their window at about the same time
                assert sub.stdout is not None
                json.loads(sub.stdout.readline())
            cpu_start, wall_start = _cpu_seconds(server.pid), time.monotonic()
            if spy:  # sample the server during the window only (py-spy, raw stacks)
                children.append(_py_spy(server.pid, window, f"{spy}.{mode}-{count}.raw"))
            results = []
            for sub in subs:
                assert sub.stdout is not None
                results.append(json.loads(sub.stdout.readline()))
            cpu_end = _cpu_seconds(server.pid)
            user, system = cpu_end[0] - cpu_start[0], cpu_end[1] - cpu_start[1]
            wall = time.monotonic() - wall_start
            rss = _rss_mb(server.pid)
        finally:
            for child in children[2:]:  # subscribers close their connections and exit
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(15)
            for child in reversed(children):
                _stop(child)
    fps = [f for r in results for f in r["fps"]]
    ttff = sorted(t for r in results for t in r["ttff"])
    sample = results[0]["sample"] if results else {}
    return {
        "mode": mode,
        "native_send": mode == "forward" and not plain_send,
        "subscribers": count,
        "server_cpu_percent": round(100 * (user + system) / wall, 2),
        "server_user_percent": round(100 * user / wall, 2),
        "server_system_percent": round(100 * system / wall, 2),
        "server_rss_mb": round(rss, 1),
        "min_fps": round(min(fps), 1) if fps else 0.0,
        "mean_fps": round(statistics.fmean(fps), 1) if fps else 0.0,
        "no_frames": sum(r["no_frames"] for r in results),
        "ttff_p50_ms": round(1000 * statistics.median(ttff)) if ttff else None,
        "ttff_max_ms": round(1000 * max(ttff)) if ttff else None,
        "sample_decoded_frames": sample.get("decoded", 0),
        "sample_resolution": sample.get("resolution"),
        "window_s": round(wall, 1),
    }


def _slope(rows: list[dict[str, Any]]) -> float | None:
    """Server CPU percent per added subscriber: least-squares slope over the runs."""
    if len(rows) < 2:
        return None
    xs = [float(row["subscribers"]) for row in rows]
    ys = [float(row["server_cpu_percent"]) for row in rows]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def orchestrate(args: argparse.Namespace) -> None:
    make_clip()
    runs = [("forward", int(n)) for n in args.counts.split(",")]
    if args.baseline:
        runs += [("relay", int(n)) for n in args.baseline_counts.split(",")]
    rows: dict[str, list[dict[str, Any]]] = {"forward": [], "relay": []}
    for mode, count in runs:
        profile = args.profile if mode == "forward" else None
        spy = args.py_spy if mode == "forward" else None
        row = measure(
            mode, count, args.processes, args.warmup, args.window, profile, spy, args.plain_send
        )
        rows[mode].append(row)
        print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {"summary": True}
    for mode, mode_rows in rows.items():
        slope = _slope(mode_rows)
        if slope is not None:
            summary[f"{mode}_cpu_percent_per_subscriber"] = round(slope, 3)
            summary[f"{mode}_subscribers_per_core"] = round(100 / slope) if slope > 0 else None
    forward = summary.get("forward_cpu_percent_per_subscriber")
    relay = summary.get("relay_cpu_percent_per_subscriber")
    if forward and relay:
        summary["relay_over_forward_per_subscriber"] = round(relay / forward, 1)
    if any(row["min_fps"] < 29 for row in rows["relay"]):
        summary["note"] = "the baseline fell below 29 fps: CPU-bound, its slope is a lower bound"
    print(json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run")
    run.add_argument("--counts", default="1,16,64")
    run.add_argument("--baseline", action="store_true")
    # The baseline encodes once per subscriber: two already load this 2-core box heavily.
    run.add_argument("--baseline-counts", default="1,2")
    run.add_argument("--processes", type=int, default=2)
    run.add_argument("--warmup", type=float, default=4.0)
    run.add_argument("--window", type=float, default=10.0)
    run.add_argument("--profile", help="profile the server (forward mode) into this file")
    run.add_argument("--py-spy", help="sample the server's window with py-spy into PREFIX.*.raw")
    run.add_argument("--plain-send", action="store_true", help="media.native_send = false")
    serve = sub.add_parser("serve")
    serve.add_argument("--mode", choices=["forward", "relay"], required=True)
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--data-dir", required=True)
    serve.add_argument("--profile", help="write cProfile stats of the server here")
    serve.add_argument("--plain-send", action="store_true")
    publish = sub.add_parser("publish")
    publish.add_argument("--url", required=True)
    subscribe = sub.add_parser("subscribe")
    subscribe.add_argument("--url", required=True)
    subscribe.add_argument("--count", type=int, required=True)
    subscribe.add_argument("--warmup", type=float, required=True)
    subscribe.add_argument("--window", type=float, required=True)
    subscribe.add_argument("--sample", action="store_true")
    args = parser.parse_args(sys.argv[1:] or ["run"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.command == "serve":
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        try:
            if args.mode == "forward":
                run_forward_server(args.port, args.data_dir, not args.plain_send)
            else:
                run_relay_server(args.port)
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
    elif args.command == "publish":
        asyncio.run(run_publisher(args.url))
    elif args.command == "subscribe":
        asyncio.run(run_subscribers(args.url, args.count, args.warmup, args.window, args.sample))
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
