"""Janus 1.1.2 (Debian's package) as the anchor of the media benchmark, run in the same run.

Janus is configured only from files written here into a temporary directory: the core
with ``event_loops = 2`` (the tuning the issue's comparison used), the HTTP transport on
127.0.0.1 and a free port, the streaming plugin with one plain-RTP mountpoint per codec
listening on 127.0.0.1, and nothing else (the plugin and transport folders hold only
those two libraries). No STUN server; ICE is restricted to the namespace's interface
(``vb0`` from scripts/netns.sh). The publisher feeds a mountpoint the same payloads it
sends venuebridge over WHIP; viewers go through Janus's HTTP API (``JanusViewer``).

Installing Janus is for the benchmark only (never CI):
``apt-get install -y --no-install-recommends janus``.
"""

from __future__ import annotations

import itertools
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JANUS = "/usr/bin/janus"
LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")
INSTALL_HINT = "as root: apt-get install -y --no-install-recommends janus"
PAYLOAD_TYPES = {"H264": 102, "VP8": 96}
OPUS_PT = 111
H264_FMTP = "profile-level-id=42e01f;packetization-mode=1"


@dataclass(frozen=True, slots=True)
class Mountpoint:
    """One streaming mountpoint: its id and the loopback ports it takes RTP on."""

    id: int
    codec: str
    video_port: int
    audio_port: int


def janus_missing() -> str | None:
    """Why Janus cannot run here, or None."""
    if not Path(JANUS).exists():
        return f"Janus is not installed ({INSTALL_HINT})"
    for library in ("plugins/libjanus_streaming.so", "transports/libjanus_http.so"):
        if not (LIBRARIES / library).exists():
            return f"{LIBRARIES / library} is missing ({INSTALL_HINT})"
    return None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _core_config(folder: Path, ice_interface: str) -> str:
    return f"""general: {{
	configs_folder = "{folder}"
	plugins_folder = "{folder}/plugins"
	transports_folder = "{folder}/transports"
	events_folder = "{folder}/events"
	loggers_folder = "{folder}/loggers"
	log_to_stdout = false
	log_to_file = "{folder}/janus.log"
	debug_level = 3
	admin_secret = "{secrets.token_hex(16)}"
	# Viewers hang up explicitly; no keep-alive traffic to skew the CPU figure.
	session_timeout = 0
	event_loops = 2
}}
certificates: {{
}}
media: {{
	ipv6 = false
	rtp_port_range = "20000-40000"
}}
nat: {{
	nice_debug = false
	ice_enforce_list = "{ice_interface}"
	ignore_mdns = true
}}
plugins: {{
}}
transports: {{
}}
loggers: {{
}}
events: {{
	broadcast = false
}}
"""


def _http_config(port: int) -> str:
    return f"""general: {{
	json = "compact"
	base_path = "/janus"
	http = true
	port = {port}
	ip = "127.0.0.1"
	https = false
}}
admin: {{
	admin_base_path = "/admin"
	admin_http = false
	admin_https = false
}}
"""


def _mountpoint_config(mountpoint: Mountpoint) -> str:
    codec = mountpoint.codec
    fmtp = f'\n\t\t\tfmtp = "{H264_FMTP}"' if codec == "H264" else ""
    return f"""bench-{codec.lower()}: {{
	type = "rtp"
	id = {mountpoint.id}
	description = "benchmark clip, {codec}"
	media = (
		{{
			type = "audio"
			mid = "a"
			label = "audio"
			port = {mountpoint.audio_port}
			iface = "127.0.0.1"
			pt = {OPUS_PT}
			codec = "opus"
		}},
		{{
			type = "video"
			mid = "v"
			label = "video"
			port = {mountpoint.video_port}
			iface = "127.0.0.1"
			pt = {PAYLOAD_TYPES[codec]}
			codec = "{codec.lower()}"{fmtp}
			# New viewers get the last keyframe at once, as venuebridge does.
			bufferkf = true
		}}
	)
}}
"""


class JanusServer:
    """A Janus process configured for the benchmark; ``stop()`` ends it."""

    def __init__(self, folder: Path, ice_interface: str = "vb0") -> None:
        self.folder = folder
        self.http_port = free_port()
        ids = itertools.count(1)
        self.mountpoints = {
            codec: Mountpoint(
                next(ids), codec, free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
            )
            for codec in PAYLOAD_TYPES
        }
        self._write(ice_interface)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/janus"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _write(self, ice_interface: str) -> None:
        folder = self.folder
        for sub in ("plugins", "transports", "events", "loggers"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        # Only these two libraries are in the folders Janus loads from.
        (folder / "plugins/libjanus_streaming.so").symlink_to(
            LIBRARIES / "plugins/libjanus_streaming.so"
        )
        (folder / "transports/libjanus_http.so").symlink_to(
            LIBRARIES / "transports/libjanus_http.so"
        )
        (folder / "janus.jcfg").write_text(_core_config(folder, ice_interface))
        (folder / "janus.transport.http.jcfg").write_text(_http_config(self.http_port))
        mountpoints = "".join(_mountpoint_config(m) for m in self.mountpoints.values())
        (folder / "janus.plugin.streaming.jcfg").write_text("general: {\n}\n" + mountpoints)

    def start(self, timeout: float = 20.0) -> None:
        missing = janus_missing()
        if missing is not None:
            raise RuntimeError(missing)
        self.process = subprocess.Popen(
            [JANUS, "--config", str(self.folder / "janus.jcfg"), "--configs-folder",
             str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Janus exited at start-up:\n{self.log_tail()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.http_port)) == 0:
                    return
            time.sleep(0.1)  # waiting for a child process to listen
        raise RuntimeError(f"Janus did not start listening:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        log = self.folder / "janus.log"
        return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class JanusViewer:
    """One viewer's session and streaming-plugin handle, over Janus's HTTP API."""

    def __init__(self, http: Any, url: str) -> None:
        self._http = http
        self._url = url
        self.session: int | None = None
        self.handle: int | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6)}
        async with self._http.post(f"{self._url}{path}", json=body) as response:
            reply: dict[str, Any] = await response.json(content_type=None)
        if reply.get("janus") == "error":
            raise RuntimeError(f"Janus: {reply.get('error')}")
        return reply

    async def watch(self, mountpoint: int) -> str:
        """Create a session, attach the streaming plugin, ask to watch: Janus's SDP offer."""
        self.session = (await self._post("", {"janus": "create"}))["data"]["id"]
        attach = {"janus": "attach", "plugin": "janus.plugin.streaming"}
        self.handle = (await self._post(f"/{self.session}", attach))["data"]["id"]
        watch = {"janus": "message", "body": {"request": "watch", "id": mountpoint}}
        await self._post(f"/{self.session}/{self.handle}", watch)
        while True:  # the offer comes as an asynchronous event: long-poll for it
            async with self._http.get(f"{self._url}/{self.session}?maxev=1") as response:
                event = await response.json(content_type=None)
            if event.get("jsep", {}).get("type") == "offer":
                return str(event["jsep"]["sdp"])
            data = event.get("plugindata", {}).get("data", {})
            if "error" in data:
                raise RuntimeError(f"Janus streaming: {data['error']}")

    async def start(self, answer_sdp: str) -> None:
        """Send our answer; Janus starts sending once ICE and DTLS are up."""
        start = {
            "janus": "message",
            "body": {"request": "start"},
            "jsep": {"type": "answer", "sdp": answer_sdp},
        }
        await self._post(f"/{self.session}/{self.handle}", start)

    async def hang_up(self) -> None:
        if self.session is not None:
            await self._post(f"/{self.session}", {"janus": "destroy"})
            self.session = None
