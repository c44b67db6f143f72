"""The embedded store: one SQLite file in ``data_dir`` (WAL).

Every call runs on one dedicated worker thread that owns the connection, so the event
loop never waits on the disk: a commit with fsync can take milliseconds, which would
stall every websocket of the node. One thread also serialises writers, which SQLite
wants anyway, and keeps the connection on the thread that made it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from signaling.files import private_dir, private_file

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS room_events (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_values (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_items (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
"""


class SqliteEventStore:
    """``EventStore`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> SqliteEventStore:
        store = cls(path)
        await store._run(store._connect)
        return store

    async def _run(self, function: partial[T] | type[T] | object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function)  # type: ignore[arg-type]

    def _connect(self) -> None:
        private_dir(self._path.parent)
        # Created 0600 before SQLite opens it; SQLite gives -wal and -shm the same mode.
        private_file(self._path)
        connection = sqlite3.connect(self._path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL under WAL: durable across process crashes, at most the last commit
        # lost on power failure; fine for Q&A and much faster than FULL.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.executescript(SCHEMA)
        self._connection = connection

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the store is closed")
        return self._connection

    def _append(self, room: str, expected_seq: int, event: str) -> int | None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM room_events WHERE room = ?", (room,)
            ).fetchone()
            if last != expected_seq:
                db.execute("ROLLBACK")
                return None
            db.execute(
                "INSERT INTO room_events (room, seq, body) VALUES (?, ?, ?)",
                (room, expected_seq + 1, event),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return expected_seq + 1

    def _read(self, room: str, after: int) -> list[tuple[int, str]]:
        rows = self._db().execute(
            "SELECT seq, body FROM room_events WHERE room = ? AND seq > ? ORDER BY seq",
            (room, after),
        )
        return [(int(seq), str(body)) for seq, body in rows]

    def _last_seq(self, room: str) -> int:
        (last,) = (
            self._db()
            .execute("SELECT COALESCE(MAX(seq), 0) FROM room_events WHERE room = ?", (room,))
            .fetchone()
        )
        return int(last)

    def _put_value(self, key: str, value: str) -> None:
        self._db().execute(
            "INSERT INTO state_values (key, body) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body",
            (key, value),
        )

    def _get_value(self, key: str) -> str | None:
        row = self._db().execute("SELECT body FROM state_values WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _push_recent(self, key: str, item: str, keep: int) -> None:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM recent_items WHERE key = ?", (key,)
            ).fetchone()
            db.execute(
                "INSERT INTO recent_items (key, seq, body) VALUES (?, ?, ?)", (key, last + 1, item)
            )
            db.execute(
                "DELETE FROM recent_items WHERE key = ? AND seq <= ?", (key, last + 1 - keep)
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _recent(self, key: str) -> list[str]:
        rows = self._db().execute(
            "SELECT body FROM recent_items WHERE key = ? ORDER BY seq", (key,)
        )
        return [str(body) for (body,) in rows]

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def append(self, room: str, expected_seq: int, event: str) -> int | None:
        return await self._run(partial(self._append, room, expected_seq, event))

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]:
        return await self._run(partial(self._read, room, after))

    async def last_seq(self, room: str) -> int:
        return await self._run(partial(self._last_seq, room))

    async def put_value(self, key: str, value: str) -> None:
        await self._run(partial(self._put_value, key, value))

    async def get_value(self, key: str) -> str | None:
        return await self._run(partial(self._get_value, key))

    async def push_recent(self, key: str, item: str, keep: int) -> None:
        await self._run(partial(self._push_recent, key, item, keep))

    async def recent(self, key: str) -> list[str]:
        return await self._run(partial(self._recent, key))

    async def aclose(self) -> None:
        await self._run(partial(self._close))
        self._executor.shutdown(wait=True)
