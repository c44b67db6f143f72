"""nginx from Debian as an HTTP cache (``proxy_cache``) in front of an origin, for tests.

The test writes the configuration into a temporary directory and runs nginx in the
foreground as its child (``daemon off``, one process), then stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from tests.media_peers import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_cache_path {dir}/cache keys_zone=hls:10m max_size=1g inactive=10m;
    server {{
        listen 127.0.0.1:{port};
        location /hls/ {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache hls;
            # The origin's Cache-Control decides how long; concurrent misses of one URL
            # wait for the first (a blocking playlist reload may take a segment).
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_lock_age 10s;
            proxy_read_timeout 15s;
            proxy_cache_use_stale updating;
            proxy_cache_background_update on;
            add_header X-Cache $upstream_cache_status;
        }}
    }}
}}
"""


@contextlib.asynccontextmanager
async def nginx_cache(directory: Path, origin_port: int) -> AsyncIterator[int]:
    """nginx caching ``127.0.0.1:origin_port`` on a free port (yielded) until the block ends."""
    port = free_port()
    config = directory / "nginx.conf"
    text = CONFIG.format(dir=directory, port=port, origin=origin_port)
    await asyncio.to_thread(_write, config, text)
    process = await asyncio.create_subprocess_exec(
        NGINX, "-c", str(config), "-p", str(directory), stderr=asyncio.subprocess.PIPE
    )
    try:
        await _wait_listening(port, process)
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def _write(config: Path, text: str) -> None:
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)


async def _wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(200):
        if process.returncode is not None:
            error = await process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"nginx exited: {error.decode(errors='replace')}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError("nginx did not listen within 10 s")
