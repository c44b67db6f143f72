"""``venuebridge serve`` with its media port taken: start-up stops and says which setting."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from tests.media_peers import free_port


async def test_a_busy_media_port_stops_serve_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))  # every address: whatever the server binds collides
        busy = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "web", "serve", "--host", "127.0.0.1",
            "--port", str(free_port()), "--data-dir", str(tmp_path / "data"),
            env={**os.environ, "VENUEBRIDGE_ICE_UDP_PORT": str(busy)},
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    message = err.decode()
    assert f"setting 'ice.udp_port': cannot open UDP port {busy} for media" in message
    assert "Traceback" not in message
