"""The ``[recording]`` settings: which channels are written to disk, where, for how long,
and the free-space floor below which recording stops (with an alarm)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config.setting_sections import section_check


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    """Recording of live channels (``[recording]``); each limit is asserted by a test."""

    # Record programme channels / return feeds while they are live.
    programme: bool = True
    returns: bool = True
    # Where the files go; None: ``<data_dir>/recordings``.
    directory: Path | None = None
    # Files older than this many days are deleted (0: keep everything).
    retention_days: float = 30.0
    # Below this much free space (MiB) on the recording disk, recording stops (an alarm on
    # /healthz and /metrics, a log line) until space is back.
    min_free_mb: int = 2048
    # A file never runs longer than this (it also ends at session boundaries).
    rotate_minutes: float = 60.0
    # A file whose channel sent nothing for this long ends (the publisher left); a
    # publisher back sooner continues the same file (a gap, then a new fragment).
    idle_close_seconds: float = 30.0
    # A fragment per keyframe, or at least every this many seconds.
    fragment_seconds: float = 2.0
    # Live interpretations go into the file as extra audio tracks (a new language going
    # live starts a new file, since a file's tracks are fixed when it starts).
    languages: bool = True


def validate_recording(recording: RecordingSettings) -> None:
    check = section_check("recording.")
    check("retention_days", 0 <= recording.retention_days <= 3650, "must be 0 to 3650 days")
    check("min_free_mb", 0 <= recording.min_free_mb <= 100_000_000, "must be 0 to 100000000")
    check(
        "rotate_minutes", 1 <= recording.rotate_minutes <= 60, "must be 1 to 60 (hourly at least)"
    )
    check("idle_close_seconds", 1 <= recording.idle_close_seconds <= 3600, "must be 1 to 3600")
    check("fragment_seconds", 0.5 <= recording.fragment_seconds <= 10, "must be 0.5 to 10")
