"""The servers the media benchmarks measure, each started as its own process tree.

venuebridge runs through its real entry point (``python -m web serve``) from a settings
file written here, with ``--workers N`` when asked (a supervisor and N workers, which
need Redis: tests/redis_server.py starts one). The relay baseline (aiortc's MediaRelay:
decode once, encode per subscriber) is a small aiohttp app in this module.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import MediaSettings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-producer-secret-0123456789"
CHANNEL = "gz-hall-1"
UNLIMITED = 1_000_000
MEDIA_LIMITS = (
    "max_sessions",
    "max_sessions_per_channel",
    "max_sessions_per_address",
    "setup_rate_per_minute",
    "setup_burst",
)


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up (status {process.returncode})")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # waiting for a child process to listen
    raise RuntimeError("the server did not start listening")


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM (a supervisor stops its workers), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settings_toml(
    port: int,
    data_dir: Path,
    codec: str,
    redis_url: str | None,
    native_send: bool = True,
    frame_send: bool = True,
) -> str:
    """Settings for a benchmark node: limits lifted (all subscribers share one address)."""
    lines = [
        'host = "127.0.0.1"',
        f"port = {port}",
        f'data_dir = "{data_dir}"',
        f'producer_secret = "{SECRET}"',
        f'video_codec = "{codec}"',
        'log_level = "WARNING"',
    ]
    if redis_url is not None:
        lines.append(f'redis_url = "{redis_url}"')
    lines += ["", "[media]", *(f"{name} = {UNLIMITED}" for name in MEDIA_LIMITS)]
    if not native_send:
        lines.append("native_send = false")
    if not frame_send:
        lines.append("frame_send = false")
    return "\n".join(lines) + "\n"


class ChildServer:
    """A benchmark server run as a child process that listens on ``port``."""

    stdout: int | None = None  # where the child's output goes (None: ours)

    def __init__(self) -> None:
        self.port = free_tcp_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(self.command(), cwd=ROOT, stdout=self.stdout)
        wait_listening(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


class VenuebridgeServer(ChildServer):
    """``python -m web serve`` with a benchmark settings file, optionally ``--workers N``."""

    def __init__(
        self,
        folder: Path,
        codec: str,
        workers: int | None = None,
        redis_url: str | None = None,
        native_send: bool = True,
        frame_send: bool = True,
    ) -> None:
        super().__init__()
        data_dir = folder / "data"
        data_dir.mkdir()
        self.settings = folder / "settings.toml"
        self.settings.write_text(
            settings_toml(self.port, data_dir, codec, redis_url, native_send, frame_send)
        )
        self.workers = workers

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "web", "serve", "--settings", str(self.settings)]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        return command


def unlimited_media(native_send: bool = True) -> MediaSettings:
    """Media limits lifted: every subscriber comes from one address, as fast as it can."""
    from config import MediaSettings

    limits = dict.fromkeys(MEDIA_LIMITS, UNLIMITED)
    return MediaSettings(**limits, native_send=native_send)  # type: ignore[arg-type]


def run_forward_server(port: int, data_dir: str, native_send: bool = True) -> None:
    """venuebridge in this process (the other benchmarks' ``fanout.py serve``)."""
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
