"""Keeping as-run records in the event store, so they survive restarts and are shared.

Each change of an airing is appended as a JSON document to the event's ``asrun`` stream;
loading folds the stream, the newest version of each airing winning. A heartbeat
stream says when the log was last alive, for closing airings after an unclean stop.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from signaling.records.airing import Airing, LanguageChange, OffAir, Status

# Appends retry when another writer moved the stream on; this bounds a pathological race.
MAX_APPEND_ATTEMPTS = 50


class AppendLog(Protocol):
    """The part of the control plane's event store that records need."""

    async def append(self, room: str, expected_seq: int, event: str) -> int | None: ...

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]: ...

    async def last_seq(self, room: str) -> int: ...


def airing_to_json(airing: Airing) -> str:
    data: dict[str, Any] = {}
    for name in Airing.__dataclass_fields__:
        value = getattr(airing, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Status):
            value = value.value
        elif name == "off_air":
            value = [_interval_json(interval) for interval in airing.off_air]
        elif name == "languages":
            value = [{"at": c.at.isoformat(), "language": c.language} for c in airing.languages]
        data[name] = value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def airing_from_json(text: str) -> Airing:
    data = json.loads(text)
    for name in ("scheduled_start", "scheduled_end", "actual_start", "actual_end"):
        if data.get(name):
            data[name] = datetime.fromisoformat(data[name])
    data["status"] = Status(data["status"])
    data["off_air"] = tuple(_interval(item) for item in data.get("off_air", ()))
    data["languages"] = tuple(
        LanguageChange(datetime.fromisoformat(item["at"]), item.get("language"))
        for item in data.get("languages", ())
    )
    known = {k: v for k, v in data.items() if k in Airing.__dataclass_fields__}
    return Airing(**known)


def _interval_json(interval: OffAir) -> dict[str, Any]:
    end = interval.end.isoformat() if interval.end else None
    return {"start": interval.start.isoformat(), "end": end, "cause": interval.cause}


def _interval(data: dict[str, Any]) -> OffAir:
    end = datetime.fromisoformat(data["end"]) if data.get("end") else None
    return OffAir(datetime.fromisoformat(data["start"]), end, data["cause"])


class AiringStore:
    def __init__(self, log: AppendLog, event_id: str) -> None:
        self._log = log
        self._records = f"asrun:{event_id}"
        self._heartbeats = f"asrun-alive:{event_id}"
        self._began = f"asrun-began:{event_id}"

    async def _append(self, stream: str, document: str) -> None:
        for _ in range(MAX_APPEND_ATTEMPTS):
            seq = await self._log.last_seq(stream)
            if await self._log.append(stream, seq, document) is not None:
                return
        raise RuntimeError(f"could not append to {stream}: too much contention")

    async def save(self, airings: list[Airing]) -> None:
        for airing in airings:
            await self._append(self._records, airing_to_json(airing))

    async def alive(self, at: datetime) -> None:
        await self._append(self._heartbeats, json.dumps({"at": at.isoformat()}))

    async def load(self) -> list[Airing]:
        latest: dict[str, Airing] = {}
        for _, document in await self._log.read(self._records):
            airing = airing_from_json(document)
            latest[airing.id] = airing
        return list(latest.values())

    async def began(self, now: datetime) -> datetime:
        """When this event's log began; the first caller's ``now`` sets it, once."""
        entries = await self._log.read(self._began)
        if not entries:
            await self._log.append(self._began, 0, json.dumps({"at": now.isoformat()}))
            entries = await self._log.read(self._began)  # another node may have won
        return datetime.fromisoformat(json.loads(entries[0][1])["at"])

    async def last_alive(self) -> datetime | None:
        """The last heartbeat, or None when the log never ran."""
        last = await self._log.last_seq(self._heartbeats)
        if last == 0:
            return None
        entries = await self._log.read(self._heartbeats, after=last - 1)
        return datetime.fromisoformat(json.loads(entries[-1][1])["at"]) if entries else None
