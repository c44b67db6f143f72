"""The unit the remux layer moves: one encoded media frame, depacketized, never decoded."""

from __future__ import annotations

from dataclasses import dataclass

VIDEO_RATE = 90000  # RTP clock of every video codec we carry
OPUS_RATE = 48000  # RTP clock of Opus (RFC 7587), whatever the real sample rate


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """What a container's video track is declared with: a change needs a new init segment.

    ``extradata`` is the H.264 SPS and PPS in Annex B (empty for VP8).
    """

    codec: str  # "H264" or "VP8"
    width: int
    height: int
    extradata: bytes = b""


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One access unit (video) or one Opus packet (audio).

    ``data`` is Annex B (start codes) for H.264, a raw frame for VP8 and Opus.
    ``timestamp`` is the RTP timestamp (unwrapped later by ``MediaTimeline``); ``epoch``
    the publisher session it came from, so a reconnect can be re-based.
    """

    video: bool
    data: bytes
    timestamp: int
    epoch: int
    arrival: float  # monotonic seconds the frame's first packet reached us
    keyframe: bool = False
    # Video keyframes: the format the frame needs (dimensions, parameter sets).
    format: VideoFormat | None = None
    # Audio only: which audio track (0: the floor; 1.. the interpretations).
    track: int = 0
