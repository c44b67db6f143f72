"""One channel's CMAF HLS window: fMP4 fragments in, segments, parts and a playlist out.

Sans-I/O: the fragmented-MP4 writer hands over its init segment and each fragment (a
``moof``+``mdat`` pair) with its media time; the window groups fragments into segments
cut at keyframes and keeps the last ``window_segments`` of them in memory. Each fragment
is also a low-latency part. Nothing here awaits; the HTTP side asks ``has`` and waits on
its own event.

Names are unique for the life of the cache: every window gets a random ``stream`` id, and
segments are numbered by media sequence number within it, so an HTTP cache may keep any
segment URL forever (a restarted server starts a new stream id, never reusing a name).
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from config.hls_settings import HlsSettings

# Segments whose parts stay listed: LL-HLS asks for parts of the last few target durations.
PARTS_LISTED_SEGMENTS = 2
# Media time jumping ahead by more than this between fragments is a discontinuity.
GAP_SECONDS = 1.0
# A segment is cut at a keyframe once it holds this share of the target duration.
CUT_SHARE = 0.9


@dataclass(frozen=True, slots=True)
class Part:
    """One fragment of a segment; ``independent`` if it starts with a keyframe."""

    msn: int
    index: int
    data: bytes
    duration: float
    independent: bool


@dataclass(slots=True)
class Segment:
    """A run of parts from a keyframe; ``data`` is set once it is closed."""

    msn: int
    init: int
    start: float
    # Wall-clock time (UTC) of the first sample, for EXT-X-PROGRAM-DATE-TIME.
    wall: datetime
    discontinuity: bool
    parts: list[Part] = field(default_factory=list)
    data: bytes | None = None
    size: int = 0

    @property
    def duration(self) -> float:
        return sum(part.duration for part in self.parts)


class HlsWindow:
    """The init segments, the last segments and the one being filled, of one channel."""

    def __init__(self, settings: HlsSettings, stream: str | None = None, folder: str = "") -> None:
        self.settings = settings
        self.stream = stream or secrets.token_hex(6)
        # Where the playlist's file names live, relative to it ("" or "audio-ja/").
        self.folder = folder
        self._inits: dict[int, bytes] = {}
        self._init = 0
        self._segments: deque[Segment] = deque()
        self._open: Segment | None = None
        self._next_msn = 0
        self._discontinuities = 0
        self._pending_discontinuity = False
        self._longest_segment = 0.0
        self._longest_part = 0.0
        self._media_end = 0.0
        # Bumped on every change, so a waiter can tell something happened.
        self.version = 0

    # -- input --------------------------------------------------------------------------

    def on_init(self, data: bytes) -> None:
        """A new init segment (a new publisher or codec): the next segment starts afresh."""
        self._close_open()
        self._init += 1
        self._inits[self._init] = data
        self._pending_discontinuity = self._next_msn > 0
        self._forget_unused_inits()
        self.version += 1

    def on_fragment(
        self, data: bytes, start: float, duration: float, keyframe: bool, wall: datetime
    ) -> None:
        """One ``moof``+``mdat`` of ``duration`` seconds starting at media time ``start``."""
        if not self._inits:
            return  # nothing can play without an init segment
        current = self._open
        if current is None and not keyframe:
            return  # a segment must start at a keyframe
        if current is not None and start > self._media_end + GAP_SECONDS:
            # The publisher was away (media time is wall time): a gap is a discontinuity.
            self._close_open()
            self._pending_discontinuity = True
            current = None
            if not keyframe:
                return
        if current is not None and self._should_cut(current, keyframe):
            self._close_open()
            current = None
        if current is None:
            current = self._open = Segment(
                self._next_msn, self._init, start, wall, self._pending_discontinuity
            )
            self._next_msn += 1
            self._pending_discontinuity = False
        self._media_end = start + duration
        part = Part(current.msn, len(current.parts), data, duration, keyframe)
        current.parts.append(part)
        current.size += len(data)
        self._longest_part = max(self._longest_part, duration)
        self.version += 1

    def end(self) -> None:
        """The publisher left: close what is open; the next init marks a discontinuity."""
        self._close_open()
        self._pending_discontinuity = self._next_msn > 0
        self.version += 1

    def _should_cut(self, current: Segment, keyframe: bool) -> bool:
        if current.size >= self.settings.max_segment_bytes:
            return True
        return keyframe and current.duration >= CUT_SHARE * self.settings.segment_seconds

    def _close_open(self) -> None:
        current, self._open = self._open, None
        if current is None or not current.parts:
            return
        current.data = b"".join(part.data for part in current.parts)
        self._longest_segment = max(self._longest_segment, current.duration)
        self._segments.append(current)
        while len(self._segments) > self.settings.window_segments:
            # The playlist counts discontinuities that scrolled out of the window.
            if self._segments.popleft().discontinuity:
                self._discontinuities += 1
        # Parts older than the listed ones are not served: keep only the segment's bytes.
        for old in list(self._segments)[:-PARTS_LISTED_SEGMENTS]:
            old.parts = [Part(p.msn, p.index, b"", p.duration, p.independent) for p in old.parts]
        self._forget_unused_inits()

    def _forget_unused_inits(self) -> None:
        used = {segment.init for segment in self._segments} | {self._init}
        for init in [i for i in self._inits if i not in used]:
            del self._inits[init]

    # -- output -------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """At least one finished segment: a player can start."""
        return bool(self._segments)

    @property
    def parts_enabled(self) -> bool:
        """Parts are listed when the writer's fragments are short enough to help (at most
        half a segment: a writer that cuts only at keyframes gives no parts)."""
        return 0 < self._longest_part <= self.settings.segment_seconds / 2

    @property
    def part_target(self) -> float:
        """PART-TARGET: the setting, or the longest part seen if that is longer."""
        return max(self.settings.part_seconds, math.ceil(self._longest_part * 1000) / 1000)

    @property
    def last_msn(self) -> int:
        """The media sequence number of the segment being filled (or the next one)."""
        return self._next_msn - 1 if self._open is not None else self._next_msn

    def open_seconds(self) -> float:
        """Media in the segment being filled (0 when none is open)."""
        return self._open.duration if self._open is not None else 0.0

    @property
    def discontinuity_sequence(self) -> int:
        """Discontinuities that scrolled out of the window (EXT-X-DISCONTINUITY-SEQUENCE)."""
        return self._discontinuities

    def latest_segment(self) -> Segment | None:
        """The segment being filled, else the last closed one (None before any)."""
        if self._open is not None:
            return self._open
        return self._segments[-1] if self._segments else None

    def closed_segments(self) -> list[Segment]:
        """The finished segments in the window, oldest first (the subtitles mirror them)."""
        return list(self._segments)

    def init(self, number: int) -> bytes | None:
        return self._inits.get(number)

    def segment(self, msn: int) -> bytes | None:
        for segment in self._segments:
            if segment.msn == msn:
                return segment.data
        return None

    def part(self, msn: int, index: int) -> bytes | None:
        for segment in self._listed_part_segments():
            if segment.msn == msn and 0 <= index < len(segment.parts):
                return segment.parts[index].data or None
        return None

    def has(self, msn: int, part: int | None) -> bool:
        """The playlist already shows segment ``msn`` (whole, or up to ``part``)."""
        if part is None or not self.parts_enabled:
            return any(segment.msn >= msn for segment in self._segments)
        if any(segment.msn > msn for segment in self._segments):
            return True
        current = self._open
        if current is not None and current.msn > msn:
            return True
        return current is not None and current.msn == msn and len(current.parts) > part

    def memory_bytes(self) -> int:
        """Bytes held: what ``window_segments`` bounds (plus the open segment and inits)."""
        held = sum(len(s.data or b"") + sum(len(p.data) for p in s.parts) for s in self._segments)
        if self._open is not None:
            held += self._open.size
        return held + sum(len(data) for data in self._inits.values())

    def _listed_part_segments(self) -> list[Segment]:
        listed = list(self._segments)[-PARTS_LISTED_SEGMENTS:]
        return listed + ([self._open] if self._open is not None else [])

    def target_duration(self) -> int:
        """Whole seconds no segment exceeds (never less than the setting)."""
        return max(math.ceil(self.settings.segment_seconds), round(self._longest_segment + 0.49))

    def playlist(self) -> str:
        """The media playlist (LL-HLS tags when parts are enabled)."""
        parts = self.parts_enabled
        prefix = f"{self.folder}{self.stream}/"
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:9" if parts else "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{self.target_duration()}",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        if parts:
            part_target = self.part_target
            lines.append(
                f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={3 * part_target:.3f}"
            )
            lines.append(f"#EXT-X-PART-INF:PART-TARGET={part_target:.3f}")
        first = self._segments[0].msn if self._segments else self.last_msn
        lines.append(f"#EXT-X-MEDIA-SEQUENCE:{first}")
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{self._discontinuities}")
        with_parts = {s.msn for s in self._listed_part_segments()} if parts else set()
        shown_init = None
        listed = list(self._segments)
        if parts and self._open is not None:
            listed.append(self._open)  # its parts so far
        for segment in listed:
            if segment.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            if segment.init != shown_init:
                lines.append(f'#EXT-X-MAP:URI="{prefix}init-{segment.init}.mp4"')
                shown_init = segment.init
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_time(segment.wall)}")
            if segment.msn in with_parts:
                for part in segment.parts:
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    lines.append(
                        f"#EXT-X-PART:DURATION={part.duration:.3f},"
                        f'URI="{prefix}part-{part.msn}.{part.index}.m4s"{independent}'
                    )
            if segment.data is not None:
                lines.append(f"#EXTINF:{segment.duration:.3f},")
                lines.append(f"{prefix}seg-{segment.msn}.m4s")
        return "\n".join(lines) + "\n"


def iso_time(moment: datetime) -> str:
    """``moment`` as EXT-X-PROGRAM-DATE-TIME wants it (UTC, milliseconds, ``Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
