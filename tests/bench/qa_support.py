"""Processes of the Q&A fan-out benchmark: our server, client processes, measurements.

Used by tests/bench/qa_fanout.py; nothing here is timed itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# Files a server process holds besides its viewers' sockets (store, epoll, listeners,
# logs, the benchmark's moderator and spectator sockets...).
SPARE_FILES = 100


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def raise_fd_limit() -> None:
    """Soft file limit up to the hard one (raising the hard one needs CAP_SYS_RESOURCE)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def hard_fd_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (worker processes of a supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_listening(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)  # polling a child process's port, not synchronising a test
    raise RuntimeError(f"nothing listens on {port}")


class OurServer:
    """``python -m web serve`` (SQLite default, or ``--workers N`` on a Redis)."""

    def __init__(self, data_dir: Path, workers: int, redis_url: str | None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.redis_url = redis_url
        env = {
            **os.environ,
            "VENUEBRIDGE_LOG_LEVEL": "WARNING",
            # Not in a namespace: leave 8189 to whatever else runs on the machine.
            "VENUEBRIDGE_ICE_UDP_PORT": "0",
            # Every benchmark client is a new anonymous viewer on a loopback address.
            "VENUEBRIDGE_LIMITS_ANONYMOUS_BURST_PER_ADDRESS": "1000000",
            # Thousands of sockets: the edge's cap must not be what refuses them.
            "VENUEBRIDGE_HTTP_MAX_CONNECTIONS": str(hard_fd_limit() - 64),
        }
        command = [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port",
                   str(self.port), "--data-dir", str(data_dir)]  # fmt: skip
        if redis_url is not None:
            env["VENUEBRIDGE_REDIS_URL"] = redis_url
        if workers > 1:
            command += ["--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, preexec_fn=raise_fd_limit)

    def token(self, *args: str) -> str:
        command = [sys.executable, "-m", "web", "token", "--quiet"]
        command += ["--data-dir", str(self.data_dir), *args]
        env = dict(os.environ)
        if self.redis_url is not None:  # the signing key lives in Redis then
            env["VENUEBRIDGE_REDIS_URL"] = self.redis_url
        out = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Baseline:
    """``qa_baseline.py KIND PORT`` in ``processes`` processes sharing one port."""

    def __init__(self, kind: str, processes: int) -> None:
        self.kind = kind
        self.port = free_port()
        self.processes: list[asyncio.subprocess.Process] = []
        self.count = processes

    async def start(self) -> None:
        for _ in range(self.count):
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(HERE / "qa_baseline.py"), self.kind, str(self.port),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                limit=2**24, preexec_fn=raise_fd_limit,
            )  # fmt: skip
            self.processes.append(process)
            await read_kind(process, "listening")

    def rss(self) -> int:
        return sum(rss_bytes(p.pid) for p in self.processes)

    async def push(self, text: str) -> None:
        line = (json.dumps(text) + "\n").encode()
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(line)
        await asyncio.gather(*(p.stdin.drain() for p in self.processes if p.stdin))

    async def loop_ms(self) -> float:
        """The slowest process's write loop for the last push."""
        done = await asyncio.gather(*(read_kind(p, "pushed") for p in self.processes))
        return max(float(d["loop_ms"]) for d in done)

    async def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()  # its end of input ends it
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def start_clients(
    url: str, n: int, processes: int, sources: int
) -> list[asyncio.subprocess.Process]:
    shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    started = []
    for share in filter(None, shares):
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "qa_clients.py"), url, str(share), str(sources),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=2**26, preexec_fn=raise_fd_limit,
        )  # fmt: skip
        started.append(process)
    return started


async def read_kind(process: asyncio.subprocess.Process, kind: str) -> dict[str, Any]:
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"a child process ended before saying {kind!r}")
        frame = json.loads(line)
        if frame["kind"] == kind:
            return dict(frame)


async def stop_processes(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.stdin is not None and process.returncode is None:
            process.stdin.write(b"stop\n")
            await process.stdin.drain()
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()


class Profiler:
    """py-spy sampling a server process (and its workers) while the rounds run."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
             "--subprocesses", "--rate", "250", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # py-spy attaches; nothing measured waits on this

    def stop(self, top: int = 12) -> dict[str, Any]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        return summarise_profile(self.out, top)


def summarise_profile(path: Path, top: int) -> dict[str, Any]:
    """Self and total samples per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [f.split(" (")[0] + " " + f.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
                  for f in stack.split(";") if f]  # fmt: skip
        samples += count
        if frames:
            own[frames[-1]] += count
        for name in set(frames):
            total[name] += count

    def share(count: int) -> float:
        return round(100 * count / max(samples, 1), 1)

    return {
        "samples": samples,
        "self_percent": {k: share(c) for k, c in own.most_common(top)},
        "total_percent": {k: share(c) for k, c in total.most_common(top * 2)},
    }
