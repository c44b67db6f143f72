"""What a caption line is, how one is checked, and how fast a captioner may send. Pure.

Text is data: it is trimmed and bounded here, and pages set it as text, never markup.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import msgspec

from signaling.errors import BadMessage, RateLimited, Refused


@dataclass(frozen=True, slots=True)
class CaptionLimits:
    """The limits of the ``[captions]`` settings, as the control plane uses them."""

    max_line_chars: int = 200
    # A captioner's lines refill at this rate, up to ``burst_lines`` at once (a paste).
    lines_per_second: float = 3.0
    burst_lines: int = 20
    # Lines a page is sent when it starts watching (the ones said just before).
    history_lines: int = 20
    # A WebVTT cue lasts until the next line, or this long at most.
    max_cue_seconds: float = 6.0


class CaptionLine(msgspec.Struct, frozen=True, kw_only=True):
    """One kept line: its number in the session's language log, text, time and author."""

    seq: int
    text: str
    at: float  # seconds since the epoch, on the server's (event) clock
    by: str


def clean_line(text: str, limits: CaptionLimits) -> str:
    """``text`` with its white space folded; refused when empty, too long or not text."""
    line = " ".join(text.split())
    if not line:
        raise Refused("the caption line is empty", code="empty")
    if len(line) > limits.max_line_chars:
        raise Refused(
            f"a caption line is {len(line)} characters; at most {limits.max_line_chars} "
            f"(setting captions.max_line_chars): split it",
            code="too_long",
        )
    if any(not character.isprintable() for character in line):
        raise BadMessage("a caption line may not hold control characters")
    return line


def clean_lines(texts: list[str], limits: CaptionLimits) -> list[str]:
    """Every line checked; blank ones (a paste's empty lines) are left out, not refused."""
    kept = [" ".join(text.split()) for text in texts]
    kept = [text for text in kept if text]
    if not kept:
        raise Refused("the caption line is empty", code="empty")
    if len(kept) > limits.burst_lines:
        raise Refused(
            f"{len(kept)} lines at once; at most {limits.burst_lines} "
            f"(setting captions.burst_lines)",
            code="too_many_lines",
        )
    return [clean_line(text, limits) for text in kept]


class LineRate:
    """Token buckets of lines per captioner: ``burst`` at once, refilled at ``per_second``.

    Several lines (a paste) take several tokens at once, all or nothing, so a refused
    paste loses nothing: the page keeps it and sends it again a moment later.
    """

    def __init__(self, per_second: float, burst: int, size: int = 10_000) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._size = size
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, lines: int, now: float) -> None:
        """Take ``lines`` tokens for ``key``; ``RateLimited`` (nothing taken) when short."""
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._per_second)
        if tokens < lines:
            self._buckets[key] = (tokens, now)
            wait = (lines - tokens) / self._per_second
            raise RateLimited(
                f"too many caption lines: at most {self._per_second:g} a second "
                f"(setting captions.lines_per_second); wait {wait:.1f} s and send again",
                code="caption_flood",
            )
        self._buckets[key] = (tokens - lines, now)
        if len(self._buckets) > self._size:
            self._buckets.popitem(last=False)
