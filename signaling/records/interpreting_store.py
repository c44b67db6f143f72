"""Interpreters' on-air intervals in the event store, and the recorder that keeps them.

Like the as-run records (``signaling/records/store.py``): every change of an interval is
appended as a JSON document to the event's ``interpreting`` stream, and loading folds it,
the newest version of each interval winning; the same SQLite or Redis store, so they
survive a restart and every node reads them. At start-up a turn an unclean stop left on
air is closed at the as-run log's last heartbeat, as airings are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime

from signaling.records.interpreting import InterpretingLog, LanguageNote, OnAir
from signaling.records.store import AppendLog
from signaling.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# Appends retry when another writer moved the stream on; this bounds a pathological race.
MAX_APPEND_ATTEMPTS = 50
# Changes waiting to be written; the media plane's callback never waits on the disk.
QUEUE_LIMIT = 4096
STOP_WAIT = 5.0


def interval_to_json(interval: OnAir) -> str:
    data = asdict(interval)
    data["start"] = interval.start.isoformat()
    data["end"] = interval.end.isoformat() if interval.end else None
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def interval_from_json(text: str) -> OnAir:
    data = json.loads(text)
    return OnAir(
        id=str(data["id"]),
        channel=str(data["channel"]),
        language=str(data["language"]),
        interpreter=str(data["interpreter"]),
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
        note=str(data.get("note", "")),
    )


class InterpretingStore:
    """The ``interpreting:{event}`` stream of the event store."""

    def __init__(self, log: AppendLog, event_id: str) -> None:
        self._log = log
        self._stream = f"interpreting:{event_id}"

    async def save(self, intervals: list[OnAir]) -> None:
        for interval in intervals:
            document = interval_to_json(interval)
            for _ in range(MAX_APPEND_ATTEMPTS):
                seq = await self._log.last_seq(self._stream)
                if await self._log.append(self._stream, seq, document) is not None:
                    break
            else:
                raise RuntimeError(f"could not append to {self._stream}: too much contention")

    async def load(self) -> list[OnAir]:
        latest: dict[str, OnAir] = {}
        for _, document in await self._log.read(self._stream):
            interval = interval_from_json(document)
            latest[interval.id] = interval
        return list(latest.values())


async def open_interpreting_log(
    store: InterpretingStore, last_alive: datetime | None
) -> InterpretingLog:
    """The log as stored, with turns a killed node left on air closed at ``last_alive``."""
    log = InterpretingLog(await store.load())
    if last_alive is not None and log.open_intervals():
        closed = log.recover(last_alive)
        logger.warning("closed %d interpreter turn(s) left open by an unclean stop", len(closed))
        await store.save(closed)
    return log


class InterpretingRecorder:
    """The media plane's language listener: folds each on-air change into the log and
    writes what changed from one task, in order."""

    def __init__(
        self,
        log: InterpretingLog,
        store: InterpretingStore,
        clock: Callable[[datetime], datetime] = lambda at: at,
    ) -> None:
        """``clock`` turns the media plane's real time into the records' clock time (a
        rehearsal's), the time the airings are on."""
        self.log = log
        self._store = store
        self._clock = clock
        self._queue: asyncio.Queue[list[OnAir]] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self._saving: list[OnAir] = []  # taken from the queue, being written
        # Told after each change is written (the routing matrix shows who is on air).
        self.on_change: Callable[[], Awaitable[None]] | None = None

    def on_air(self) -> dict[str, dict[str, str]]:
        """Per channel: language -> the interpreter on air in that booth now."""
        booths: dict[str, dict[str, str]] = {}
        for turn in self.log.open_intervals():
            booths.setdefault(turn.channel, {})[turn.language] = turn.interpreter
        return booths

    def language_changed(self, event: LanguageNote) -> None:
        """Who is on air in a booth changed (called from the media plane, never waits)."""
        changed = self.log.heard(
            event.channel, event.language, event.interpreter, self._clock(event.at)
        )
        if not changed:
            return
        try:
            self._queue.put_nowait(changed)
        except asyncio.QueueFull:
            self.dropped += 1
            logger.warning("interpreting records: write queue full, %d dropped", self.dropped)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="interpreting")

    async def _run(self) -> None:
        while True:
            self._saving = await self._queue.get()
            try:
                await self._store.save(self._saving)
            except Exception:
                logger.exception("could not keep %d interpreter turn(s)", len(self._saving))
            self._saving = []
            if self.on_change is not None:
                try:
                    await self.on_change()
                except Exception:
                    logger.exception("could not announce who is on air in the booths")

    async def flush(self) -> None:
        """Write what is queued now (tests, and a clean stop)."""
        while not self._queue.empty():
            await self._store.save(self._queue.get_nowait())

    async def aclose(self, at: datetime) -> None:
        """A clean stop at ``at``: turns on air end then, everything queued is written."""
        if self._task is not None:
            task, self._task = self._task, None
            await cancel_and_wait(task, STOP_WAIT, "the interpreting recorder")
        # A write the cancel cut short is written again (the newest version wins on load).
        saving, self._saving = self._saving, []
        await self._store.save(saving)
        await self.flush()
        await self._store.save(self.log.stop(at))
