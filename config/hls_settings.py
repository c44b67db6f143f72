"""The ``[hls]`` settings: the CMAF HLS window each programme channel keeps in memory."""

from __future__ import annotations

from dataclasses import dataclass

from config.setting_sections import section_check


@dataclass(frozen=True, slots=True)
class HlsSettings:
    """HLS packaging and cache lifetimes (``[hls]``); each limit is asserted by a test."""

    # Off: no /hls/ routes answer and no channel is packaged.
    enabled: bool = True
    # A segment is cut at the first keyframe after this much media; the publisher's
    # keyframe interval decides the real length (OBS: keyframe interval 2 s).
    segment_seconds: float = 2.0
    # Finished segments kept in memory and listed in the playlist, per channel.
    window_segments: int = 6
    # Low-latency parts: listed only while the writer's fragments are at most this long.
    part_seconds: float = 0.5
    # A segment is cut without a keyframe once it holds this many bytes (a publisher that
    # never sends one must not grow a segment without bound).
    max_segment_bytes: int = 16 * 1024 * 1024
    # Cache-Control max-age of playlists (seconds); segments and init are immutable.
    playlist_max_age: int = 1
    segment_max_age: int = 86_400
    # A blocking playlist reload (_HLS_msn) waits at most this long before a 503.
    block_seconds: float = 6.0


def validate_hls(hls: HlsSettings) -> None:
    check = section_check("hls.")
    check("segment_seconds", 0.5 <= hls.segment_seconds <= 12, "must be 0.5 to 12 seconds")
    check("window_segments", 3 <= hls.window_segments <= 60, "must be between 3 and 60")
    check("part_seconds", 0.1 <= hls.part_seconds <= 2, "must be 0.1 to 2 seconds")
    check("max_segment_bytes", 2**16 <= hls.max_segment_bytes <= 2**28, "must be 64 KiB to 256 MiB")
    check("playlist_max_age", 0 <= hls.playlist_max_age <= 10, "must be 0 to 10 seconds")
    check("segment_max_age", 60 <= hls.segment_max_age <= 31_536_000, "must be 60 s to a year")
    check("block_seconds", 0.5 <= hls.block_seconds <= 30, "must be 0.5 to 30 seconds")
