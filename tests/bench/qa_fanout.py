"""Benchmark: Q&A fan-out over websockets (not part of pytest; prints JSON lines).

A real server process (``python -m web serve``, SQLite default) and N clients of the
``websockets`` library, spread over worker processes, all joined to one Q&A room. A
moderator approves a pending question (a "push"); we time, per client, from just before
the push until that client has the question frame, for several rounds. Also: the server's
RSS per connection, and optionally an idle-connections memory run.

    python tests/bench/qa_fanout.py --clients 1000 5000 --rounds 20 --idle 19800

Clocks: ``time.monotonic()`` is CLOCK_MONOTONIC, the same clock in every process here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOM = "overseas-talents-summit"
ROOT = Path(__file__).resolve().parents[2]


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


# ------------------------------------------------------------------ worker process


async def worker(url: str, count: int, connect_rate: int) -> None:
    """Open ``count`` viewer sockets in the room; report each question's arrival times."""
    arrivals: dict[str, list[float]] = {}
    sockets: list[Any] = []
    joined = 0
    errors: dict[str, int] = {}
    done = asyncio.Event()

    def settled() -> None:
        if joined + sum(errors.values()) == count:
            emit(kind="ready", joined=joined, errors=errors)

    async def client() -> None:
        try:
            await session()
        except Exception as error:
            if not done.is_set():
                name = type(error).__name__
                errors[name] = errors.get(name, 0) + 1
                settled()

    async def session() -> None:
        nonlocal joined
        async with websockets.connect(
            url, max_size=2**20, ping_interval=None, open_timeout=120
        ) as ws:
            sockets.append(ws)
            await ws.send(json.dumps({"type": "join", "room": ROOM}))
            async for raw in ws:
                now = time.monotonic()
                if '"type":"ack"' in raw and '"of":"join"' in raw:
                    joined += 1
                    settled()
                elif '"type":"question"' in raw and '"state":"approved"' in raw:
                    qid = json.loads(raw)["question"]["id"]
                    times = arrivals.setdefault(qid, [])
                    times.append(now)
                    if len(times) == joined:
                        emit(kind="arrived", question=qid, times=times)
                if done.is_set():
                    return

    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(client()))
        if (i + 1) % connect_rate == 0:
            await asyncio.sleep(0.05)  # pacing the connects only; nothing synchronises on it
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()  # the parent says stop
    done.set()
    for ws in sockets:
        await ws.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ------------------------------------------------------------------ parent process


class Server:
    def __init__(self, data_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "VENUEBRIDGE_LOG_LEVEL": "WARNING",
            # Not in a namespace: leave 8189 to whatever else runs on the machine.
            "VENUEBRIDGE_ICE_UDP_PORT": "0",
            # Every benchmark client is a new anonymous viewer on 127.0.0.1.
            "VENUEBRIDGE_LIMITS_ANONYMOUS_BURST_PER_ADDRESS": "1000000",
            # Thousands of sockets from one process: above the edge's connection cap.
            "VENUEBRIDGE_HTTP_MAX_CONNECTIONS": "30000",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--data-dir", str(data_dir)],
            cwd=ROOT, env=env, preexec_fn=raise_fd_limit,
        )  # fmt: skip
        self.data_dir = data_dir

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def token(self, *args: str) -> str:
        command = [sys.executable, "-m", "web", "token", "--quiet"]
        command += ["--data-dir", str(self.data_dir), *args]
        out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def request(ws: Any, message: dict[str, Any], ref: str) -> dict[str, Any]:
    await ws.send(json.dumps({**message, "ref": ref}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("ref") == ref:
            return frame


async def start_workers(url: str, n: int, processes: int) -> list[asyncio.subprocess.Process]:
    shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    workers = []
    for share in shares:
        if share == 0:
            continue
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--worker",
                url,
                str(share),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**26,
                preexec_fn=raise_fd_limit,
            )
        )
    return workers


async def read_kind(worker: asyncio.subprocess.Process, kind: str) -> dict[str, Any]:
    assert worker.stdout is not None
    while True:
        line = await worker.stdout.readline()
        if not line:
            raise RuntimeError("a worker died")
        frame = json.loads(line)
        if frame["kind"] == kind:
            return dict(frame)


async def stop_workers(workers: list[asyncio.subprocess.Process]) -> None:
    for w in workers:
        assert w.stdin is not None
        w.stdin.write(b"stop\n")
        await w.stdin.drain()
    for w in workers:
        try:
            await asyncio.wait_for(w.wait(), 60)
        except TimeoutError:
            w.kill()
            await w.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fanout_run(n: int, rounds: int, processes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        workers: list[asyncio.subprocess.Process] = []
        try:
            server.wait_ready()
            url = f"ws://127.0.0.1:{server.port}/ws"
            moderator_token = server.token(
                "--role", "moderator", "--session", ROOM, "--name", "bench-mod"
            )
            askers = [
                server.token("--role", "viewer", "--name", f"asker-{i}")
                for i in range((rounds + 2) // 3)
            ]
            mod = await websockets.connect(
                url, additional_headers={"Authorization": f"Bearer {moderator_token}"}
            )
            await request(mod, {"type": "join", "room": ROOM}, "j")
            pending = []
            for i, token in enumerate(askers):
                async with websockets.connect(
                    url, additional_headers={"Authorization": f"Bearer {token}"}
                ) as asker:
                    for k in range(3):
                        if len(pending) < rounds:
                            ack = await request(
                                asker,
                                {"type": "ask", "room": ROOM, "text": f"Bench question {i}-{k}?"},
                                f"a{k}",
                            )
                            pending.append(ack["question"])
            rss_before = rss_bytes(server.process.pid)
            started = time.monotonic()
            workers = await start_workers(url, n, processes)
            ready = await asyncio.gather(*(read_kind(w, "ready") for w in workers))
            connected = sum(r["joined"] for r in ready)
            if connected != n:
                emit(
                    kind="warning",
                    wanted=n,
                    connected=connected,
                    errors=[r["errors"] for r in ready],
                )
                n = connected
            connect_seconds = time.monotonic() - started
            rss_after = rss_bytes(server.process.pid)
            per_client: list[float] = []
            per_round: list[float] = []
            acked: list[float] = []
            for i, qid in enumerate(pending):
                waiting = [asyncio.create_task(read_kind(w, "arrived")) for w in workers]
                t0 = time.monotonic()
                ack = await request(
                    mod, {"type": "approve", "room": ROOM, "question": qid}, f"p{i}"
                )
                # The ack leaves after the fan-out loop: this is the server's share.
                acked.append(time.monotonic() - t0)
                assert ack["type"] == "ack", ack
                reports = await asyncio.wait_for(asyncio.gather(*waiting), 120)
                latencies = [t - t0 for r in reports for t in r["times"]]
                assert len(latencies) == n
                per_client.extend(latencies)
                per_round.append(max(latencies))
            emit(
                bench="qa_fanout",
                clients=n,
                rounds=len(pending),
                client_processes=len(workers),
                connect_seconds=round(connect_seconds, 2),
                latency_ms_p50=round(pct(per_client, 0.50) * 1000, 1),
                latency_ms_p99=round(pct(per_client, 0.99) * 1000, 1),
                latency_ms_max=round(max(per_client) * 1000, 1),
                server_fanout_ms_p50=round(statistics.median(acked) * 1000, 1),
                server_fanout_ms_max=round(max(acked) * 1000, 1),
                all_received_ms_p50=round(statistics.median(per_round) * 1000, 1),
                all_received_ms_max=round(max(per_round) * 1000, 1),
                server_rss_mib_before=round(rss_before / 2**20, 1),
                server_rss_mib_after=round(rss_after / 2**20, 1),
                server_rss_kib_per_connection=round((rss_after - rss_before) / n / 1024, 1),
            )
            await stop_workers(workers)
            await mod.close()
        finally:
            for w in workers:
                if w.returncode is None:
                    w.kill()
                    await w.wait()
            server.stop()


async def idle_run(n: int, processes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        workers: list[asyncio.subprocess.Process] = []
        try:
            server.wait_ready()
            url = f"ws://127.0.0.1:{server.port}/ws"
            rss_before = rss_bytes(server.process.pid)
            started = time.monotonic()
            workers = await start_workers(url, n, processes)
            ready = await asyncio.gather(*(read_kind(w, "ready") for w in workers))
            connected = sum(r["joined"] for r in ready)
            errors = [r["errors"] for r in ready]
            rss_after = rss_bytes(server.process.pid)
            emit(
                bench="qa_idle",
                wanted=n,
                connections=connected,
                errors=errors,
                connect_seconds=round(time.monotonic() - started, 2),
                server_rss_mib_before=round(rss_before / 2**20, 1),
                server_rss_mib_after=round(rss_after / 2**20, 1),
                server_rss_kib_per_connection=round((rss_after - rss_before) / n / 1024, 1),
                server_rss_mib_projected_20000=round(
                    (rss_before + (rss_after - rss_before) / n * 20000) / 2**20, 1
                ),
                fd_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            )
            await stop_workers(workers)
        finally:
            for w in workers:
                if w.returncode is None:
                    w.kill()
                    await w.wait()
            server.stop()


def main() -> None:
    # ``timeout`` sends SIGTERM: turn it into SystemExit so ``finally`` stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        asyncio.run(worker(sys.argv[2], int(sys.argv[3]), connect_rate=200))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2, help="client worker processes")
    parser.add_argument("--idle", type=int, default=0, help="also hold this many idle connections")
    args = parser.parse_args()
    for n in args.clients:
        if n > 0:
            asyncio.run(fanout_run(n, args.rounds, args.processes))
    if args.idle:
        asyncio.run(idle_run(args.idle, args.processes))


if __name__ == "__main__":
    main()
