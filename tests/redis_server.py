"""A real redis-server on a free loopback port, started once per test session."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole test session."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@contextlib.contextmanager
def running_redis(
    directory: Path, persistence: Sequence[str] = ("--save", "", "--appendonly", "no")
) -> Iterator[str]:
    """A redis-server keeping its files in ``directory``; by default it keeps nothing."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/setup.sh --dev installs it)")
    for _ in range(5):
        port = _free_port()
        process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), *persistence,
             "--dir", str(directory), "--logfile", str(directory / "redis.log")],
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline and not _answers(port):
            time.sleep(0.02)  # waiting for a child process to listen, not synchronising tests
        if process.poll() is None and _answers(port):
            break
        process.kill()
        process.wait()
    else:
        pytest.fail(f"redis-server did not start; see {directory / 'redis.log'}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
