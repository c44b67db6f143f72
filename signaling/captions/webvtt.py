"""A session's caption lines in one language as a WebVTT file (W3C WebVTT). Pure.

Cue times are relative to the session's start (the caller chooses it: the as-run
record's actual start, or the scheduled one). A cue lasts until the next line begins,
or ``max_cue`` seconds at most. Lines kept at the same instant (a paste) share one cue,
one line each. Text is escaped: ``&``, ``<`` and ``>`` never become markup.
"""

from __future__ import annotations

from itertools import groupby

from signaling.captions.lines import CaptionLine

HEADER = "WEBVTT"


def timestamp(seconds: float) -> str:
    """``seconds`` as a WebVTT timestamp ``HH:MM:SS.mmm`` (never negative)."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{millis:03d}"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(lines: list[CaptionLine], start: float, max_cue: float, note: str = "") -> str:
    """The WebVTT document; ``note`` (e.g. where the start came from) goes in a NOTE."""
    out = [HEADER, ""]
    if note:
        out += [f"NOTE {' '.join(note.split())}", ""]
    # Lines before the start (typed during the pre-roll) begin at 00:00:00.000.
    groups = [
        (max(0.0, at - start), [line.text for line in group])
        for at, group in groupby(sorted(lines, key=lambda line: (line.at, line.seq)), key=_at)
    ]
    for index, (begin, texts) in enumerate(groups):
        end = begin + max_cue
        if index + 1 < len(groups):
            end = min(end, groups[index + 1][0])
        # Two lines within a millisecond would make an empty cue: give it one.
        end = max(end, begin + 0.001)
        out.append(f"{timestamp(begin)} --> {timestamp(end)}")
        out.extend(escape(text) for text in texts)
        out.append("")
    return "\n".join(out)


def _at(line: CaptionLine) -> float:
    return line.at
