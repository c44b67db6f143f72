"""``workers = N``: a supervisor process and N worker processes that make one node.

``venuebridge serve`` with more than one worker (config/workers.py) becomes the
supervisor: it fixes what must be the same in every worker (the node id, the HTTP port)
and starts each worker as a fresh process (multiprocessing "spawn") running the whole
app. Every worker listens on the public port with SO_REUSEPORT (the kernel spreads the
connections) and on a private loopback port of its own, for its siblings: relay pulls
of a channel a sibling holds (web/worker_wiring.py) and session requests sent on to
the session's owner (web/worker_proxy.py). Worker ``i`` takes media port
``ice.udp_port + i``; only worker 0 runs the routing automation (``routing``).

A worker that dies is started again under the same index (same media port) after a
pause that doubles while it keeps dying. SIGTERM and SIGINT stop every worker and then
the supervisor; SIGHUP is passed on (each worker re-reads its TLS certificate).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from config import Settings, load_event
from config.node import node_identity
from config.settings import replace
from web.server import SHUTDOWN_TIMEOUT

logger = logging.getLogger(__name__)

RESTART_FIRST_SECONDS = 0.5
RESTART_MAX_SECONDS = 30.0
# A worker that ran this long before dying is restarted at once, not after a long pause.
HEALTHY_AFTER_SECONDS = 30.0
POLL_SECONDS = 0.25
_PR_SET_PDEATHSIG = 1


def worker_settings(settings: Settings, index: int) -> Settings:
    """Worker ``index``'s settings: its own media port; the routing automation on 0 only."""
    ice = settings.ice
    if ice.udp_port != 0:
        ice = dataclasses.replace(ice, udp_port=ice.udp_port + index)
    return replace(settings, ice=ice, routing=settings.routing and index == 0)


def pinned(settings: Settings) -> tuple[Settings, socket.socket | None]:
    """The settings every worker shares: a fixed HTTP port (port 0 is chosen here, and
    held) and the node's id (else each worker would derive its own)."""
    held = None
    if settings.port == 0:
        held = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind((settings.host, 0))
        settings = replace(settings, port=held.getsockname()[1])
    node = dataclasses.replace(settings.node, id=node_identity(settings).id)
    return replace(settings, node=node), held


def run_worker(settings: Settings, index: int, count: int) -> None:
    """A worker process: the whole app on the shared port and on its private listener."""
    import asyncio

    from web.app import create_app
    from web.keys import WORKER
    from web.logs import configure_logging
    from web.server import serve_until_signalled
    from web.worker_place import WorkerPlace
    from web.worker_proxy import to_owning_worker

    _die_with_parent()
    # A reload passed on before the server takes SIGHUP itself must not end the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    configure_logging(settings.log_level, settings.log_format)
    private = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    private.bind(("127.0.0.1", 0))
    place = WorkerPlace(index, count, f"http://127.0.0.1:{private.getsockname()[1]}")
    app = create_app(settings, load_event(settings.event_file))
    app[WORKER] = place
    # Outermost: a sibling's session is sent on before any check of ours runs.
    app.middlewares.insert(0, to_owning_worker)
    logger.info("worker %d of %d: media port %d", index, count, settings.ice.udp_port)
    asyncio.run(serve_until_signalled(app, settings, private))


def _die_with_parent() -> None:
    """Linux: the kernel sends this worker SIGTERM if the supervisor dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            logger.warning("cannot ask to be stopped with the supervisor")


@dataclass
class WorkerSlot:
    """One worker index: its current process, and when to start the next after a death."""

    index: int
    process: BaseProcess | None = None
    started: float = 0.0
    start_at: float = 0.0
    pause: float = RESTART_FIRST_SECONDS
    restarts: int = field(default=0)

    def died(self, now: float) -> None:
        assert self.process is not None
        code = self.process.exitcode
        self.process = None
        if now - self.started >= HEALTHY_AFTER_SECONDS:
            self.pause = RESTART_FIRST_SECONDS
        self.start_at = now + self.pause
        logger.error(
            "worker %d exited (code %s): restarting in %.1f s", self.index, code, self.pause
        )
        self.pause = min(RESTART_MAX_SECONDS, self.pause * 2)
        self.restarts += 1


class Supervisor:
    """Starts the workers, restarts the ones that die, and passes signals on."""

    def __init__(self, settings: Settings, count: int) -> None:
        self._settings = settings
        self._count = count
        self._context = multiprocessing.get_context("spawn")
        self._slots = [WorkerSlot(index) for index in range(count)]
        self._stopping = False
        self._reload = False

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self._reload = True

    def _start(self, slot: WorkerSlot, now: float) -> None:
        settings = worker_settings(self._settings, slot.index)
        process = self._context.Process(
            target=run_worker,
            args=(settings, slot.index, self._count),
            name=f"venuebridge-worker-{slot.index}",
        )
        process.start()
        slot.process, slot.started = process, now

    def _alive(self) -> list[BaseProcess]:
        return [slot.process for slot in self._slots if slot.process is not None]

    def run(self) -> int:
        """Until SIGTERM or SIGINT: keep every worker running."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        while not self._stopping:
            now = time.monotonic()
            for slot in self._slots:
                if slot.process is None and now >= slot.start_at:
                    self._start(slot, now)
            if self._reload:
                self._reload = False
                for process in self._alive():
                    _signal(process, signal.SIGHUP)
            wait([process.sentinel for process in self._alive()], timeout=POLL_SECONDS)
            now = time.monotonic()
            for slot in self._slots:
                dead = slot.process is not None and not slot.process.is_alive()
                if dead and not self._stopping:
                    slot.died(now)
        self._stop_all()
        return 0

    def _stop_all(self) -> None:
        for process in self._alive():
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT * 2
        for process in self._alive():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("%s did not stop in time: killed", process.name)
                process.kill()
                process.join()


def _signal(process: BaseProcess, signum: int) -> None:
    if process.pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signum)


def serve_workers(settings: Settings, count: int) -> int:
    """``venuebridge serve`` with ``count`` > 1 workers: supervise them until stopped."""
    settings, held = pinned(settings)
    logger.info(
        "node %s: %d workers on port %d, media ports %d..%d",
        settings.node.id,
        count,
        settings.port,
        settings.ice.udp_port,
        settings.ice.udp_port + count - 1 if settings.ice.udp_port else 0,
    )
    try:
        return Supervisor(settings, count).run()
    finally:
        if held is not None:
            held.close()
