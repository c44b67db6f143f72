"""The recording index: which file holds which channel from when to when.

Each recording file (``<dir>/<channel>/<channel>-<UTC start>.mp4``) has a sidecar
``<file>.json`` beside it, rewritten atomically (temp file + rename) when the file opens,
every few fragments, and when it ends, so the index survives a crash of the server
(the recorder's ``close_unfinished``, at start and every 10 minutes, marks files no
process updated for two minutes as ended at their last update).

The contract readers (records, the player, exports, ``venuebridge recordings``) rely on:

* ``RecordingFile``: ``channel``, ``name`` (path relative to the recordings directory,
  ``/``-separated), ``path`` (absolute), ``kind`` ("mp4": H.264 + Opus; "webm": VP8 +
  Opus), ``languages`` (one per audio track in order; "" is the floor), ``started_at``
  (UTC wall-clock of the first frame = media time 0), ``ended_at`` (None while open),
  ``updated_at`` (last fragment flushed), ``duration`` (media seconds written so far),
  ``end_reason`` (why it ended: rotation, session, hourly, reconnect, format, shutdown,
  disk-floor, crash).
* Media time is wall-clock since ``started_at`` (a publisher's absence is a gap in the
  file, not a cut), so ``offset_at(when)`` is ``when - started_at`` in seconds, and
  ``covers(start, end)`` says whether any of the interval is in the file.
* ``RecordingIndex(directory).files(channel=None, start=None, end=None)``: the files of
  a channel (or all) overlapping an interval, oldest first.

The media plane reports through ``RecordingIndex``'s ``file_opened`` / ``file_progress``
/ ``file_closed`` / ``file_removed`` / ``close_unfinished`` (it satisfies the media plane's
``RecordingJournal`` port; ``web/recording_wiring.py`` connects them).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """One recording file and the stretch of wall-clock time it holds."""

    channel: str
    name: str
    path: Path
    kind: str
    languages: tuple[str, ...]
    started_at: datetime
    updated_at: datetime
    duration: float
    ended_at: datetime | None = None
    end_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def covered_until(self) -> datetime:
        """The wall-clock time of the file's last media (now-ish while open)."""
        return self.started_at + timedelta(seconds=self.duration)

    def offset_at(self, when: datetime) -> float | None:
        """Seconds into the file where ``when`` (UTC) is; None if the file does not hold it."""
        offset = (when - self.started_at).total_seconds()
        if offset < 0 or offset > self.duration:
            return None
        return offset

    def covers(self, start: datetime, end: datetime | None) -> bool:
        """Some of ``start``..``end`` (None: open-ended) is in this file."""
        return self.started_at < (end or datetime.max.replace(tzinfo=UTC)) and (
            start < self.covered_until
        )


def to_json(entry: RecordingFile) -> dict[str, object]:
    """The sidecar's content (``path`` is not stored: the sidecar sits beside the file)."""
    return {
        "version": FORMAT_VERSION,
        "channel": entry.channel,
        "name": entry.name,
        "kind": entry.kind,
        "languages": list(entry.languages),
        "started_at": entry.started_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "duration": round(entry.duration, 3),
        "ended_at": entry.ended_at.isoformat() if entry.ended_at else None,
        "end_reason": entry.end_reason,
    }


def from_json(data: object, directory: Path) -> RecordingFile:
    """A sidecar's content back; ``ValueError`` naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a recording sidecar must hold a JSON object")
    try:
        name = str(data["name"])
        ended = data.get("ended_at")
        reason = data.get("end_reason")
        return RecordingFile(
            channel=str(data["channel"]),
            name=name,
            path=directory / name,
            kind=str(data["kind"]),
            languages=tuple(str(x) for x in data.get("languages", [""])),
            started_at=_utc(data["started_at"]),
            updated_at=_utc(data["updated_at"]),
            duration=float(data["duration"]),
            ended_at=_utc(ended) if ended else None,
            end_reason=str(reason) if reason is not None else None,
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"a recording sidecar lacks or mangles {error}") from None


def _utc(text: object) -> datetime:
    when = datetime.fromisoformat(str(text))
    if when.tzinfo is None:
        raise ValueError(f"time without a zone: {text}")
    return when.astimezone(UTC)


class RecordingIndex:
    """Sidecar files under ``directory``: written by the recorder, read by everyone."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._open: dict[str, RecordingFile] = {}  # by name: what this process writes

    # -- reading ------------------------------------------------------------------------

    def files(
        self, channel: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> list[RecordingFile]:
        """Files of ``channel`` (None: all) overlapping ``start``..``end``, oldest first."""
        found = []
        for entry in self._scan():
            if channel is not None and entry.channel != channel:
                continue
            if start is not None and not entry.covers(start, end):
                continue
            if start is None and end is not None and entry.started_at >= end:
                continue
            found.append(entry)
        return sorted(found, key=lambda e: (e.started_at, e.channel))

    def _scan(self) -> Iterator[RecordingFile]:
        if not self.directory.is_dir():
            return
        for sidecar in self.directory.glob(f"*/*{SIDECAR_SUFFIX}"):
            try:
                yield from_json(json.loads(sidecar.read_text("utf-8")), self.directory)
            except (OSError, ValueError) as error:
                logger.warning("skipping recording sidecar %s: %s", sidecar, error)

    # -- writing (the media plane's RecordingJournal port) ---------------------------------

    def file_opened(
        self, channel: str, path: Path, kind: str, languages: tuple[str, ...], started_at: datetime
    ) -> None:
        entry = RecordingFile(
            channel, self._name(path), path, kind, languages, started_at, started_at, 0.0
        )
        self._open[entry.name] = entry
        self._write(entry)

    def file_progress(self, path: Path, duration: float, updated_at: datetime) -> None:
        name = self._name(path)
        entry = self._open.get(name)
        if entry is not None:
            entry = replace(entry, duration=duration, updated_at=updated_at)
            self._open[name] = entry
            self._write(entry)

    def file_closed(self, path: Path, duration: float, ended_at: datetime, reason: str) -> None:
        entry = self._open.pop(self._name(path), None)
        if entry is not None:
            self._write(
                replace(
                    entry,
                    duration=duration,
                    updated_at=ended_at,
                    ended_at=ended_at,
                    end_reason=reason,
                )
            )

    def file_removed(self, path: Path) -> None:
        self._open.pop(self._name(path), None)
        with contextlib.suppress(FileNotFoundError):
            self._sidecar(path).unlink()

    def close_unfinished(self, before: datetime | None = None, reason: str = "crash") -> int:
        """Mark files left open by a process that died as ended at their last update:
        those not written by this index and, with ``before``, not updated since then
        (another worker sharing the directory is still writing its own)."""
        count = 0
        for entry in self._scan():
            if not entry.open or entry.name in self._open:
                continue
            if before is not None and entry.updated_at >= before:
                continue
            self._write(replace(entry, ended_at=entry.updated_at, end_reason=reason))
            count += 1
        return count

    def _name(self, path: Path) -> str:
        return path.relative_to(self.directory).as_posix()

    def _sidecar(self, path: Path) -> Path:
        return path.with_name(path.name + SIDECAR_SUFFIX)

    def _write(self, entry: RecordingFile) -> None:
        target = self._sidecar(entry.path)
        temporary = target.with_name(target.name + ".tmp")
        try:
            temporary.write_text(json.dumps(to_json(entry)), "utf-8")
            os.replace(temporary, target)
        except OSError as error:  # a full disk must not stop the recording itself
            logger.warning("could not write the recording sidecar %s: %s", target, error)
