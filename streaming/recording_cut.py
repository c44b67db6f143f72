"""Cutting stretches of recorded files into one file by stream copy (PyAV; no decoding).

Each stretch starts at the keyframe at or before its start offset (a cut anywhere else
would begin with pictures that cannot be decoded) and ends at its end offset; stretches
from several files (a rotation, a publisher's reconnect) follow one another on one
timeline. Audio and video of a stretch keep their places relative to each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream


class CutError(Exception):
    """A stretch could not be cut (a missing or unreadable file, no keyframe, no streams)."""


@dataclass(frozen=True, slots=True)
class Stretch:
    """Seconds ``start`` to ``end`` of the file at ``path``."""

    path: Path
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class CutResult:
    """What was written: the seconds copied per stretch (from its keyframe) and in all."""

    path: Path
    seconds: float
    stretches: tuple[float, ...]
    lead_in: tuple[float, ...]  # per stretch: how far before its start its keyframe was


def _time(value: int | None, base: Fraction | None) -> float | None:
    return float(value * base) if value is not None and base is not None else None


def _keyframe_at_or_before(container: av.container.InputContainer, at: float) -> float:
    """The time of the video keyframe at or before ``at`` (or the first one after, when
    the file starts later); a file without video starts where asked."""
    video = next(iter(container.streams.video), None)
    if video is None:
        return at
    base = video.time_base
    target = int(at / base) if base else 0
    container.seek(max(0, target), stream=video, backward=True, any_frame=False)
    found = None
    for packet in container.demux(video):
        when = _time(packet.pts, base)
        if when is None or not packet.is_keyframe:
            continue
        if when <= at + 1e-6 or found is None:
            found = when
        if when > at + 1e-6:
            break
    container.seek(0)  # the caller demuxes again from the start of the file
    if found is None:
        raise CutError("no keyframe in the file")
    return found


def cut(stretches: list[Stretch], output: Path, container: str = "mp4") -> CutResult:
    """Write ``stretches`` one after another to ``output`` by stream copy
    (``container``: "mp4" for H.264 + Opus, "webm" for VP8 + Opus, as recorded)."""
    if not stretches:
        raise CutError("nothing to cut")
    out = av.open(str(output), "w", format=container)
    mapped: dict[tuple[str, int], av.stream.Stream] = {}
    copied: list[float] = []
    lead_in: list[float] = []
    position = 0.0  # where the next stretch starts on the output's timeline
    try:
        for stretch in stretches:
            try:
                source = av.open(str(stretch.path))
            except (OSError, av.FFmpegError) as error:
                raise CutError(f"cannot read {stretch.path.name}: {error}") from None
            with source:
                begin = _keyframe_at_or_before(source, stretch.start)
                _copy(source, out, mapped, begin, stretch.end, position)
            length = max(0.0, stretch.end - begin)
            copied.append(round(length, 3))
            lead_in.append(round(max(0.0, stretch.start - begin), 3))
            position += length
    finally:
        out.close()
    return CutResult(output, round(position, 3), tuple(copied), tuple(lead_in))


def _copy(
    source: av.container.InputContainer,
    out: av.container.OutputContainer,
    mapped: dict[tuple[str, int], av.stream.Stream],
    begin: float,
    end: float,
    position: float,
) -> None:
    """Copy packets of ``source`` from ``begin`` to ``end``, moved to start at ``position``."""
    wanted = [*source.streams.video[:1], *source.streams.audio]
    if not wanted:
        raise CutError("the file has neither video nor audio")
    targets = {}
    for number, stream in enumerate(s for s in wanted if s.type == "audio"):
        targets[stream.index] = _target(out, mapped, ("audio", number), stream)
    for stream in source.streams.video[:1]:
        targets[stream.index] = _target(out, mapped, ("video", 0), stream)
    last_dts: dict[int, int] = {}
    for packet in source.demux(wanted):
        base = packet.time_base
        when = _time(packet.pts, base)
        if when is None or base is None or packet.pts is None or packet.dts is None:
            continue  # the demuxer's flush packet, or one with no time
        if when < begin - 1e-6 or when >= end:
            continue
        shift = round((position - begin) / base)
        target = targets[packet.stream.index]
        pts, dts = packet.pts + shift, packet.dts + shift
        if dts < 0 or dts <= last_dts.get(target.index, -1):
            continue  # times must rise in the output; a duplicate adds nothing
        packet.pts, packet.dts = pts, dts
        last_dts[target.index] = dts
        packet.stream = target
        out.mux(packet)


def _target(
    out: av.container.OutputContainer,
    mapped: dict[tuple[str, int], av.stream.Stream],
    key: tuple[str, int],
    stream: av.stream.Stream,
) -> av.stream.Stream:
    """The output stream for ``key``, made from the first file's stream of that kind."""
    if key not in mapped:
        mapped[key] = out.add_stream_from_template(stream)
    return mapped[key]
