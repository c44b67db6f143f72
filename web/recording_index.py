"""Where the records find the recording index: the recorder's (issue 16, part 1).

Until the recorder's index is wired in, no file is known: airings list no recordings,
and the CLI says so rather than guessing at files on disk.
"""

from __future__ import annotations

from collections.abc import Sequence

from config import Settings
from signaling.records.recording_join import IndexedFile, RecordingIndex


class NoRecordings:
    """An index with no files (recording is off, or not part of this build)."""

    def files(self) -> Sequence[IndexedFile]:
        return ()


def open_recording_index(settings: Settings) -> RecordingIndex:
    """The index of the recordings ``settings`` point at."""
    del settings  # the recorder's directory setting arrives with its layer
    return NoRecordings()
