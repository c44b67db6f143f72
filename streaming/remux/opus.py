"""Opus RTP (RFC 7587): one packet is one frame, the payload as it is. Sans-I/O."""

from __future__ import annotations

from streaming.packet import MediaPacket
from streaming.remux.frames import MediaFrame


def opus_frame(packet: MediaPacket, track: int = 0) -> MediaFrame | None:
    """The Opus frame in ``packet`` for audio ``track``; None for an empty payload (DTX
    keep-alives carry one or two bytes and are kept: they decode to silence)."""
    if not packet.payload:
        return None
    return MediaFrame(
        False, packet.payload, packet.timestamp, packet.epoch, packet.arrival, track=track
    )
