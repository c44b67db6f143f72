"""What the recorder tells the rest of the system (met by ``signaling`` in ``web/``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol


class RecordingJournal(Protocol):
    """Hears of every recording file: opened, grown, closed, deleted by retention."""

    def file_opened(
        self, channel: str, path: Path, kind: str, languages: tuple[str, ...], started_at: datetime
    ) -> None: ...

    def file_progress(self, path: Path, duration: float, updated_at: datetime) -> None: ...

    def file_closed(self, path: Path, duration: float, ended_at: datetime, reason: str) -> None: ...

    def file_removed(self, path: Path) -> None: ...

    def close_unfinished(self, before: datetime | None = None, reason: str = "crash") -> int:
        """Files some process left open, not updated since ``before``: mark them ended."""
        ...
