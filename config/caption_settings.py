"""The ``[captions]`` settings: limits of typed caption lines, WebVTT cues, and the
optional speech recognizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config.setting_sections import section_check


@dataclass(frozen=True, slots=True)
class CaptionSettings:
    """Caption limits (``[captions]``); each is asserted by a test."""

    # The longest line, in characters, after white space is folded.
    max_line_chars: int = 200
    # A captioner's lines refill at this rate, up to ``burst_lines`` at once (a paste).
    lines_per_second: float = 3.0
    burst_lines: int = 20
    # Lines a page gets when it starts watching a session's captions.
    history_lines: int = 20
    # A WebVTT cue ends when the next line begins, or after this many seconds.
    max_cue_seconds: float = 6.0
    # The public WebVTT export reads every line of a session from the store: per client
    # address, this many at once, then per minute (past it 429 with Retry-After).
    export_burst: int = 20
    exports_per_minute: int = 30
    # An offline speech recognizer (a Vosk model directory); None: no recognition, and
    # no audio is decoded at all.
    asr_model: Path | None = None
    # The model's language: only sessions whose floor language it is are recognized.
    # None: every session's floor language is fed to the one model.
    asr_language: str | None = None
    # Channels whose floor audio the recognizer captions; empty: every channel.
    asr_channels: tuple[str, ...] = ()


def validate_captions(captions: CaptionSettings) -> None:
    check = section_check("captions.")
    check("max_line_chars", 10 <= captions.max_line_chars <= 2000, "must be between 10 and 2000")
    check("lines_per_second", 0.1 <= captions.lines_per_second <= 100, "must be 0.1 to 100")
    check("burst_lines", 1 <= captions.burst_lines <= 200, "must be between 1 and 200")
    check("history_lines", 0 <= captions.history_lines <= 500, "must be between 0 and 500")
    check("max_cue_seconds", 0.5 <= captions.max_cue_seconds <= 60, "must be 0.5 to 60 seconds")
    check("export_burst", 1 <= captions.export_burst <= 10_000, "must be 1 to 10000")
    check("exports_per_minute", 1 <= captions.exports_per_minute <= 100_000, "must be 1 to 100000")
