"""Benchmark: Q&A fan-out over websockets, beside a bare baseline measured in the same run.

For each client count: our real server (``python -m web serve``, SQLite default, or
``--workers N`` on a Redis the benchmark starts) with N viewers in other processes
(tests/bench/qa_clients.py) joined to one Q&A room. A moderator approves a pending
question (a "push"); we time, per viewer, from just before the push until that viewer has
the question frame. Then the same viewers, the same number of sockets and the very same
frame texts against a bare server (tests/bench/qa_baseline.py: minimal aiohttp, and/or the
websockets library's ``broadcast``) with nothing else to do. Prints JSON lines: one per
server, then the ratio of p99 (and p50) latencies, ours over the baseline's.

    python tests/bench/qa_fanout.py --clients 1000 5000 20000 --rounds 20

A server process needs a file descriptor per socket: where the hard limit (``ulimit -Hn``)
is below what one process would need, the count is lowered and the line says so
(``wanted``, ``fd_hard_limit``); ``--workers`` spreads the sockets over processes.
``--profile DIR`` samples our server with py-spy during the rounds (slower; separate run).
Clocks: ``time.monotonic()`` is CLOCK_MONOTONIC, the same clock in every process here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.qa_support import (
    SPARE_FILES,
    Baseline,
    OurServer,
    Profiler,
    emit,
    hard_fd_limit,
    pct,
    raise_fd_limit,
    read_kind,
    rss_bytes,
    start_clients,
    stop_processes,
    wait_listening,
)

ROOM = "overseas-talents-summit"


async def request(ws: Any, message: dict[str, Any], ref: str) -> dict[str, Any]:
    await ws.send(json.dumps({**message, "ref": ref}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("ref") == ref:
            return dict(frame)


async def question_frame(spectator: Any, qid: str) -> str:
    """The public frame our server sent for ``qid``'s approval, as text."""
    while True:
        raw = await spectator.recv()
        frame = json.loads(raw)
        if frame.get("type") == "question" and frame["question"]["id"] == qid:
            return str(raw)


class Rounds:
    """Pushes and their arrival times at every viewer."""

    def __init__(self, server_share: str) -> None:
        self.server_share = server_share
        self.latencies: list[float] = []
        self.per_round: list[float] = []
        self.server_ms: list[float] = []

    async def run(
        self,
        clients: list[asyncio.subprocess.Process],
        n: int,
        push: Callable[[], Awaitable[float]],
    ) -> None:
        """One round: ``push`` sends and returns the server's own share in ms."""
        waiting = [asyncio.create_task(read_kind(c, "arrived")) for c in clients]
        t0 = time.monotonic()
        self.server_ms.append(await push())
        reports = await asyncio.wait_for(asyncio.gather(*waiting), 300)
        latencies = [t - t0 for r in reports for t in r["times"]]
        if len(latencies) != n:
            raise RuntimeError(f"{len(latencies)} arrivals for {n} viewers")
        self.latencies.extend(latencies)
        self.per_round.append(max(latencies))

    def summary(self) -> dict[str, Any]:
        def ms(seconds: float) -> float:
            return round(seconds * 1000, 1)

        return {
            "rounds": len(self.per_round),
            "latency_ms_p50": ms(pct(self.latencies, 0.50)),
            "latency_ms_p99": ms(pct(self.latencies, 0.99)),
            "latency_ms_max": ms(max(self.latencies)),
            "all_received_ms_p50": ms(statistics.median(self.per_round)),
            f"{self.server_share}_p50": round(statistics.median(self.server_ms), 1),
            f"{self.server_share}_max": round(max(self.server_ms), 1),
        }


async def connect_clients(
    url: str, n: int, processes: int, sources: int
) -> tuple[list[asyncio.subprocess.Process], float]:
    started = time.monotonic()
    clients = await start_clients(url, n, processes, sources)
    ready = await asyncio.gather(*(read_kind(c, "ready") for c in clients))
    joined = sum(r["joined"] for r in ready)
    if joined != n:
        await stop_processes(clients)
        raise RuntimeError(f"{joined} of {n} viewers joined: {[r['errors'] for r in ready]}")
    return clients, time.monotonic() - started


@contextlib.contextmanager
def maybe_redis(workers: int, directory: Path) -> Iterator[str | None]:
    if workers <= 1:
        yield None
        return
    from tests.redis_server import running_redis

    with running_redis(directory) as url:
        yield url


async def ours(n: int, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Our server; returns its summary and the public frame texts it sent."""
    with tempfile.TemporaryDirectory() as tmp, maybe_redis(args.workers, Path(tmp)) as redis:
        server = OurServer(Path(tmp) / "data", args.workers, redis)
        clients: list[asyncio.subprocess.Process] = []
        profiler: Profiler | None = None
        try:
            wait_listening(server.port)
            url = f"ws://127.0.0.1:{server.port}/ws"
            moderator = server.token("--role", "moderator", "--session", ROOM, "--name", "mod")
            askers = [server.token("--role", "viewer", "--name", f"asker-{i}")
                      for i in range((args.rounds + 2) // 3)]  # fmt: skip
            mod = await websockets.connect(
                url, additional_headers={"Authorization": f"Bearer {moderator}"}
            )
            await request(mod, {"type": "join", "room": ROOM}, "j")
            spectator = await websockets.connect(url, max_size=2**20)
            await request(spectator, {"type": "join", "room": ROOM}, "j")
            pending = await ask(url, askers, args.rounds)
            rss_before = rss_bytes(server.process.pid)
            clients, connect_seconds = await connect_clients(url, n, args.processes, args.sources)
            rss_after = rss_bytes(server.process.pid)
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                out = args.profile / f"venuebridge-{n}.txt"
                profiler = Profiler(server.process.pid, out)
            # From the approval sent to its ack: the store append and the fan-out loop.
            rounds = Rounds("server_ack_ms")
            texts = []
            for i, qid in enumerate(pending):

                async def approve(i: int = i, qid: str = qid) -> float:
                    sent = time.monotonic()
                    ack = await request(mod, {"type": "approve", "room": ROOM, "question": qid},
                                        f"p{i}")  # fmt: skip
                    assert ack["type"] == "ack", ack
                    # The ack leaves after the fan-out loop: the server's share.
                    return (time.monotonic() - sent) * 1000

                await rounds.run(clients, n, approve)
                texts.append(await question_frame(spectator, qid))
            profile = profiler.stop() if profiler is not None else None
            profiler = None
            await mod.close()
            await spectator.close()
            summary = {
                "server": f"venuebridge --workers {args.workers}",
                "connect_seconds": round(connect_seconds, 1),
                **rounds.summary(),
                **memory(rss_before, rss_after, n),
            }
            if profile is not None:
                emit(bench="qa_fanout_profile", clients=n, **profile)
            return summary, texts
        finally:
            if profiler is not None:
                profiler.stop()
            await stop_processes(clients)
            server.stop()


async def ask(url: str, askers: list[str], rounds: int) -> list[str]:
    """Pending questions to approve, three per asker (the per-identity limit)."""
    pending: list[str] = []
    for i, token in enumerate(askers):
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as asker:
            for k in range(3):
                if len(pending) < rounds:
                    text = f"How do overseas talents apply for the startup grant, part {i}-{k}?"
                    ack = await request(asker, {"type": "ask", "room": ROOM, "text": text}, f"a{k}")
                    pending.append(ack["question"])
    return pending


async def baseline(kind: str, n: int, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The bare server: the same viewers, the same frame texts."""
    server = Baseline(kind, max(1, args.workers))
    clients: list[asyncio.subprocess.Process] = []
    try:
        await server.start()
        rss_before = server.rss()
        url = f"ws://127.0.0.1:{server.port}/ws"
        clients, connect_seconds = await connect_clients(url, n, args.processes, args.sources)
        rss_after = server.rss()
        rounds = Rounds("server_loop_ms")  # the write loop of the slowest process
        for text in texts:

            async def push(text: str = text) -> float:
                await server.push(text)
                return await server.loop_ms()

            await rounds.run(clients, n, push)
        return {
            "server": f"baseline {kind}",
            "connect_seconds": round(connect_seconds, 1),
            **rounds.summary(),
            **memory(rss_before, rss_after, n),
        }
    finally:
        await stop_processes(clients)
        await server.stop()


def memory(before: int, after: int, n: int) -> dict[str, Any]:
    return {
        "server_rss_mib_before": round(before / 2**20, 1),
        "server_rss_mib_after": round(after / 2**20, 1),
        "server_rss_kib_per_connection": round((after - before) / n / 1024, 1),
    }


async def compare(wanted: int, args: argparse.Namespace) -> None:
    # One process per server worker holds n / workers sockets; the spectator, the
    # moderator and the askers take a few more.
    per_process = hard_fd_limit() - SPARE_FILES
    n = min(wanted, per_process * max(1, args.workers))
    common = {"bench": "qa_fanout", "clients": n, "client_processes": args.processes}
    if n != wanted:
        common.update(wanted=wanted, fd_hard_limit=hard_fd_limit())
    ours_summary, texts = await ours(n, args)
    emit(**common, **ours_summary, frame_bytes=len(texts[0].encode()))
    for kind in args.baseline:
        base = await baseline(kind, n, texts, args)
        emit(**common, **base)
        emit(
            bench="qa_fanout_ratio",
            clients=n,
            baseline=kind,
            p99_ratio=round(ours_summary["latency_ms_p99"] / base["latency_ms_p99"], 2),
            p50_ratio=round(ours_summary["latency_ms_p50"] / base["latency_ms_p50"], 2),
            target_p99_ratio=1.5,
        )


def main() -> None:
    # ``timeout`` sends SIGTERM: turn it into SystemExit so ``finally`` stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--sources", type=int, default=4, help="loopback source addresses")
    parser.add_argument(
        "--baseline", nargs="*", default=["aiohttp"], choices=["aiohttp", "websockets"]
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="our server's --workers (starts a redis-server)"
    )
    parser.add_argument("--profile", type=Path, help="py-spy our server into this folder")
    args = parser.parse_args()
    raise_fd_limit()
    for n in args.clients:
        asyncio.run(compare(n, args))


if __name__ == "__main__":
    main()
