"""Captions as HLS WebVTT subtitles, and the master playlist that lists them (and the
language audio renditions). Pure.

The subtitle playlist of a language mirrors the video window: one ``.vtt`` per closed
video segment, same media sequence number, duration, discontinuities and program date
time, so a player switching languages finds the same segment boundaries. Each ``.vtt``
holds the cues that *begin* within its segment's wall-clock span (a cue may run past the
segment's end; it is never repeated in the next one, so a player never shows it twice).

Timing: ``X-TIMESTAMP-MAP`` ties the file's local time 0 to the segment's first media
sample (its fMP4 decode time, in 90 kHz units as the HLS spec asks), and cue times are
seconds from the segment's wall-clock start: hls.js and Safari place them on the video.

Caption lines come through the ``CaptionLines`` port (the control plane keeps them; this
layer never imports it: ``web/`` wires the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from streaming.hls.window import HlsWindow, iso_time

SUBTITLE_GROUP = "subs"
AUDIO_GROUP = "audio"
# The 90 kHz clock X-TIMESTAMP-MAP counts in; it wraps at 2**33 like MPEG-TS.
MPEGTS_HZ = 90_000
MPEGTS_WRAP = 2**33


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption line: when it was said (epoch seconds) and its text."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class Rendition:
    """One language of the channel's session: its tag and the name a player shows."""

    language: str
    name: str


class CaptionLines(Protocol):
    """What the subtitles need from whoever keeps caption lines."""

    # A cue lasts until the next line, or this long at most.
    max_cue_seconds: float

    def languages(self, channel: str) -> list[Rendition]:
        """The caption languages of the session ``channel`` shows now (maybe none)."""
        ...

    async def cues(self, channel: str, language: str) -> list[Cue]:
        """That session's lines in ``language``, in order."""
        ...


def master_playlist(
    subtitles: list[Rendition], audio: Sequence[str] = (), media_uri: str = "index.m3u8"
) -> str:
    """One video variant (the media playlist) with a SUBTITLES group of every caption
    language and, when a language is live, an AUDIO group: the floor (the variant's own
    audio, so no URI) and each language's audio-only playlist."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Floor",'
            "DEFAULT=YES,AUTOSELECT=YES"
        )
    for language in audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",LANGUAGE="{language}",'
            f'NAME="{language}",DEFAULT=NO,AUTOSELECT=YES,URI="audio-{language}.m3u8"'
        )
    # No subtitle track is DEFAULT: the viewer page shows captions in a box of its own, so
    # a player shows subtitles only when someone picks a language.
    for rendition in subtitles:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLE_GROUP}",'
            f'LANGUAGE="{rendition.language}",NAME="{_quoted(rendition.name)}",'
            "DEFAULT=NO,AUTOSELECT=YES,"
            f'URI="subs-{rendition.language}.m3u8"'
        )
    # The bandwidth is a nominal figure: one variant, so a player never chooses by it.
    attributes = "BANDWIDTH=2000000"
    if audio:
        attributes += f',AUDIO="{AUDIO_GROUP}"'
    if subtitles:
        attributes += f',SUBTITLES="{SUBTITLE_GROUP}"'
    lines += [f"#EXT-X-STREAM-INF:{attributes}", media_uri]
    return "\n".join(lines) + "\n"


def subtitle_playlist(window: HlsWindow, language: str) -> str:
    """The WebVTT media playlist of ``language``: one file per closed video segment."""
    segments = window.closed_segments()
    first = segments[0].msn if segments else window.last_msn
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{window.target_duration()}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{window.discontinuity_sequence}",
    ]
    for segment in segments:
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_time(segment.wall)}")
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(f"{window.stream}/subs-{language}-{segment.msn}.vtt")
    return "\n".join(lines) + "\n"


def subtitle_segment(
    cues: list[Cue], wall: datetime, media_start: float, duration: float, max_cue: float
) -> str:
    """The WebVTT file of one segment starting at ``wall`` (media time ``media_start``)."""
    begin = wall.timestamp()
    mpegts = round(media_start * MPEGTS_HZ) % MPEGTS_WRAP
    out = ["WEBVTT", f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000", ""]
    ordered = sorted(cues, key=lambda cue: cue.at)
    for index, cue in enumerate(ordered):
        if not begin <= cue.at < begin + duration:
            continue
        # Lines said together (a paste) share their instant: one cue, one line each.
        if index > 0 and ordered[index - 1].at == cue.at and ordered[index - 1].at >= begin:
            continue
        texts = [c.text for c in ordered[index:] if c.at == cue.at]
        later = [c.at for c in ordered[index:] if c.at > cue.at]
        end = min(cue.at + max_cue, later[0]) if later else cue.at + max_cue
        out.append(
            f"{_timestamp(cue.at - begin)} --> {_timestamp(max(end, cue.at + 0.001) - begin)}"
        )
        out.extend(_escape(text) for text in texts)
        out.append("")
    return "\n".join(out)


def _timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quoted(text: str) -> str:
    # A quoted-string in a playlist may not hold a double quote or a line break.
    return " ".join(text.replace('"', "'").split())
