"""ISO BMFF boxes of a fragmented MP4 as the muxer writes them: split into the init
segment (ftyp + moov) and fragments (moof + mdat), each fragment's start, duration and
whether it starts with a keyframe, read from its own boxes. Sans-I/O."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

_CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"moof", b"traf"}
_NON_SYNC = 0x10000  # sample_is_non_sync_sample in sample flags


def iter_boxes(
    data: bytes, offset: int = 0, end: int | None = None
) -> Iterator[tuple[bytes, int, int]]:
    """``(type, body start, box end)`` of each box in ``data[offset:end]``."""
    end = len(data) if end is None else end
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield kind, offset + header, offset + size
        offset += size


@dataclass(slots=True)
class Track:
    """One track of the init segment: what a fragment's times are counted in."""

    track_id: int
    timescale: int = 1000
    video: bool = False
    default_duration: int = 0
    default_flags: int = 0


@dataclass(slots=True)
class InitInfo:
    tracks: dict[int, Track] = field(default_factory=dict)

    def reference(self) -> Track | None:
        """The track fragments are timed by: the video track, else the first."""
        tracks = sorted(self.tracks.values(), key=lambda t: (not t.video, t.track_id))
        return tracks[0] if tracks else None


def read_init(moov: bytes) -> InitInfo:
    """Track ids, timescales, kinds and defaults from a moov box's body."""
    info = InitInfo()
    for kind, start, end in iter_boxes(moov):
        if kind == b"trak":
            track = _read_trak(moov, start, end)
            if track is not None:
                info.tracks[track.track_id] = track
        elif kind == b"mvex":
            for sub, body, stop in iter_boxes(moov, start, end):
                if sub == b"trex" and stop - body >= 24:
                    track_id, _, duration, _, flags = struct.unpack_from(">IIIII", moov, body + 4)
                    found = info.tracks.setdefault(track_id, Track(track_id))
                    found.default_duration, found.default_flags = duration, flags
    return info


def _read_trak(data: bytes, start: int, end: int) -> Track | None:
    track: Track | None = None
    timescale, video = 1000, False
    for kind, body, stop in iter_boxes(data, start, end):
        if kind == b"tkhd":
            version = data[body]
            track = Track(struct.unpack_from(">I", data, body + (20 if version == 1 else 12))[0])
        elif kind == b"mdia":
            for sub, sub_body, _ in iter_boxes(data, body, stop):
                if sub == b"mdhd":
                    version = data[sub_body]
                    at = sub_body + (20 if version == 1 else 12)
                    timescale = struct.unpack_from(">I", data, at)[0]
                elif sub == b"hdlr":
                    video = data[sub_body + 8 : sub_body + 12] == b"vide"
    if track is not None:
        track.timescale, track.video = timescale or 1000, video
    return track


@dataclass(frozen=True, slots=True)
class FragmentTiming:
    start: float  # seconds, the reference track's baseMediaDecodeTime
    duration: float
    keyframe: bool


def read_fragment(moof: bytes, init: InitInfo) -> FragmentTiming | None:
    """The timing of a moof box's body by the init's reference track (None if absent)."""
    reference = init.reference()
    if reference is None:
        return None
    for kind, start, end in iter_boxes(moof):
        if kind != b"traf":
            continue
        timing = _read_traf(moof, start, end, reference)
        if timing is not None:
            return timing
    return None


def _read_traf(data: bytes, start: int, end: int, track: Track) -> FragmentTiming | None:
    decode_time, duration_sum = 0, 0
    default_duration, default_flags = track.default_duration, track.default_flags
    first_flags: int | None = None
    for kind, body, _ in iter_boxes(data, start, end):
        flags = int.from_bytes(data[body + 1 : body + 4], "big")
        if kind == b"tfhd":
            if struct.unpack_from(">I", data, body + 4)[0] != track.track_id:
                return None
            at = body + 8
            at += 8 if flags & 0x01 else 0  # base data offset
            at += 4 if flags & 0x02 else 0  # sample description index
            if flags & 0x08:
                default_duration = struct.unpack_from(">I", data, at)[0]
                at += 4
            at += 4 if flags & 0x10 else 0  # default sample size
            if flags & 0x20:
                default_flags = struct.unpack_from(">I", data, at)[0]
        elif kind == b"tfdt":
            version = data[body]
            decode_time = struct.unpack_from(">Q" if version == 1 else ">I", data, body + 4)[0]
        elif kind == b"trun":
            count = struct.unpack_from(">I", data, body + 4)[0]
            at = body + 8 + (4 if flags & 0x01 else 0)
            if flags & 0x04:
                first_flags = struct.unpack_from(">I", data, at)[0]
                at += 4
            for index in range(count):
                if flags & 0x100:
                    duration_sum += struct.unpack_from(">I", data, at)[0]
                    at += 4
                else:
                    duration_sum += default_duration
                at += 4 if flags & 0x200 else 0
                if flags & 0x400:
                    if index == 0 and first_flags is None:
                        first_flags = struct.unpack_from(">I", data, at)[0]
                    at += 4
                at += 4 if flags & 0x800 else 0
    if first_flags is None:
        first_flags = default_flags
    keyframe = not track.video or not first_flags & _NON_SYNC
    scale = track.timescale
    return FragmentTiming(decode_time / scale, duration_sum / scale, keyframe)


class BoxSplitter:
    """Bytes from the muxer in; whole init segments and fragments out, in order."""

    def __init__(self) -> None:
        self.init: InitInfo | None = None
        self._buffer = bytearray()
        self._pending = bytearray()  # boxes of a fragment before its mdat (styp, moof…)
        self._moof: bytes | None = None

    def feed(self, data: bytes) -> list[tuple[bytes, FragmentTiming | None]]:
        """Returns ``(bytes, None)`` for the init segment, ``(bytes, timing)`` per fragment."""
        self._buffer += data
        out: list[tuple[bytes, FragmentTiming | None]] = []
        while len(self._buffer) >= 8:
            size = struct.unpack_from(">I", self._buffer, 0)[0]
            if size == 1:
                if len(self._buffer) < 16:
                    break
                size = struct.unpack_from(">Q", self._buffer, 8)[0]
            if size < 8 or len(self._buffer) < size:
                break
            box = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._take(box, out)
        return out

    def _take(self, box: bytes, out: list[tuple[bytes, FragmentTiming | None]]) -> None:
        kind = box[4:8]
        header = 16 if struct.unpack_from(">I", box, 0)[0] == 1 else 8
        self._pending += box
        if kind == b"moov":
            self.init = read_init(box[header:])
            out.append((bytes(self._pending), None))
            self._pending.clear()
        elif kind == b"moof":
            self._moof = box[header:]
        elif kind == b"mdat" and self._moof is not None and self.init is not None:
            timing = read_fragment(self._moof, self.init) or FragmentTiming(0.0, 0.0, False)
            out.append((bytes(self._pending), timing))
            self._pending.clear()
            self._moof = None
        elif kind == b"mfra":
            self._pending.clear()  # the index at the end: not part of any fragment
