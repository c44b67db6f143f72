"""The unit the forwarder moves: one publisher RTP packet, parsed once, shared by all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, eq=False)
class MediaPacket:
    """An RTP packet's payload and the header facts subscribers rewrite from.

    ``epoch`` names the publisher session it came from: a subscriber whose packets change
    epoch (publisher reconnect, venue switch) re-bases its sequence numbers and timestamps.
    """

    video: bool
    payload: bytes
    sequence_number: int
    timestamp: int
    marker: bool
    epoch: int
    # When the packet reached us (monotonic seconds); paces timestamp re-basing.
    arrival: float = 0.0
    # Video only: the packet starts a new frame / carries keyframe data.
    frame_start: bool = False
    keyframe: bool = False
    # Older than what we already forwarded (a retransmission): never starts a picture.
    late: bool = False
