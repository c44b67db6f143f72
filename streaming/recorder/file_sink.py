"""A ``FragmentSink`` that writes a container to a file, fragment by fragment.

Each fragment is handed to the kernel (``os.write`` on an unbuffered descriptor) the
moment the muxer completes it, so a killed server leaves a file whose every complete
fragment plays; only the fragment being gathered is lost. (Power loss is another matter:
the page cache is not synced per fragment.)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from streaming.recorder.ports import RecordingJournal
from streaming.remux import ContainerStart

logger = logging.getLogger(__name__)

# The index hears of a growing file at most this often (media seconds).
PROGRESS_EVERY_SECONDS = 10.0


def file_path(directory: Path, start: ContainerStart) -> Path:
    """``<dir>/<channel>/<channel>-<UTC start>.<kind>``, unique even within one second."""
    stamp = start.started_at.strftime("%Y%m%dT%H%M%S")
    folder = directory / start.channel
    path = folder / f"{start.channel}-{stamp}Z.{start.kind}"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{start.channel}-{stamp}Z-{counter}.{start.kind}"
    return path


class FileSink:
    """One recording file; tells the journal when it opens, grows and closes."""

    def __init__(
        self,
        directory: Path,
        start: ContainerStart,
        journal: RecordingJournal,
        on_write: Callable[[int], None] = lambda size: None,
    ) -> None:
        self.start = start
        self.path = file_path(directory, start)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.end_reason = "shutdown"
        self.duration = 0.0
        self.bytes = 0
        self.failed = False
        self._journal = journal
        self._on_write = on_write
        self._reported = 0.0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        journal.file_opened(start.channel, self.path, start.kind, start.languages, start.started_at)

    @property
    def ends_at(self) -> datetime:
        return self.start.started_at + timedelta(seconds=self.duration)

    def on_init(self, data: bytes) -> None:
        self._write(data)

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        self._write(data)
        self.duration = max(self.duration, start + duration)
        if self.duration - self._reported >= PROGRESS_EVERY_SECONDS:
            self._reported = self.duration
            self._journal.file_progress(self.path, self.duration, self.ends_at)

    def on_close(self) -> None:
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        self._journal.file_closed(self.path, self.duration, self.ends_at, self.end_reason)

    def _write(self, data: bytes) -> None:
        if self._fd < 0 or self.failed:
            return
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as error:
            # A full or failing disk: this file stops growing; the recorder's disk check
            # raises the alarm. The forwarding never notices.
            self.failed = True
            logger.error("recording %s failed: %s", self.path, error)
            return
        self.bytes += len(data)
        self._on_write(len(data))
