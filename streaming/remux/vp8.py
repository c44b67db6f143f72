"""VP8 RTP (RFC 7741) to frames, without decoding: the payload descriptor is stripped,
partitions joined; a key frame's header gives the picture size. Sans-I/O.

Like H.264, a lost packet loses frames up to the next key frame.
"""

from __future__ import annotations

from streaming.packet import MediaPacket
from streaming.remux.frames import MediaFrame, VideoFormat


def strip_descriptor(payload: bytes) -> tuple[bytes, bool] | None:
    """``(vp8 bytes, starts a frame)`` from one RTP payload; None if malformed."""
    if not payload:
        return None
    first = payload[0]
    offset = 1
    if first & 0x80:  # X: an extension byte
        if len(payload) < 2:
            return None
        extension = payload[1]
        offset = 2
        if extension & 0x80:  # I: picture id, one or two bytes
            if len(payload) <= offset:
                return None
            offset += 2 if payload[offset] & 0x80 else 1
        if extension & 0x40:  # L: TL0PICIDX
            offset += 1
        if extension & 0x30:  # T or K: TID/KEYIDX byte
            offset += 1
    if len(payload) <= offset:
        return None
    starts = bool(first & 0x10) and first & 0x07 == 0
    return payload[offset:], starts


def keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) if ``frame`` is a VP8 key frame (RFC 6386 9.1), else None."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


class Vp8Depacketizer:
    """RTP packets of one VP8 stream in, ``MediaFrame`` frames out."""

    def __init__(self) -> None:
        self.format: VideoFormat | None = None
        self.lost_frames = 0
        self._parts: list[bytes] = []
        self._timestamp: int | None = None
        self._epoch: int | None = None
        self._arrival = 0.0
        self._next_sequence: int | None = None
        self._broken = False
        self._wait_keyframe = True

    def push(self, packet: MediaPacket) -> list[MediaFrame]:
        """One packet; returns the frames it completed."""
        out: list[MediaFrame] = []
        if packet.epoch != self._epoch:
            self._epoch, self._parts, self._timestamp = packet.epoch, [], None
            self._next_sequence, self._broken, self._wait_keyframe = None, False, True
        elif self._next_sequence is not None:
            gap = (packet.sequence_number - self._next_sequence) & 0xFFFF
            if gap >= 0x8000:
                return out
            if gap:
                self._broken = True
        self._next_sequence = (packet.sequence_number + 1) & 0xFFFF
        stripped = strip_descriptor(packet.payload)
        if stripped is None:
            self._broken = True
            return out
        data, starts = stripped
        if self._timestamp is not None and (starts or packet.timestamp != self._timestamp):
            self._finish(out)
        if self._timestamp is None:
            if not starts:
                self._broken = True  # the frame's start was lost
            self._timestamp, self._arrival = packet.timestamp, packet.arrival
        self._parts.append(data)
        if packet.marker:
            self._finish(out)
        return out

    def _finish(self, out: list[MediaFrame]) -> None:
        data, timestamp, broken = b"".join(self._parts), self._timestamp, self._broken
        self._parts, self._timestamp, self._broken = [], None, False
        if timestamp is None or not data:
            return
        size = keyframe_size(data)
        if broken:
            self.lost_frames += 1
            self._wait_keyframe = True
            return
        if self._wait_keyframe and size is None:
            self.lost_frames += 1
            return
        self._wait_keyframe = False
        if size is not None and (
            self.format is None or self.format.width != size[0] or self.format.height != size[1]
        ):
            self.format = VideoFormat("VP8", size[0], size[1])
        keyframe = size is not None
        frame_format = self.format if keyframe else None
        out.append(
            MediaFrame(
                True, data, timestamp, self._epoch or 0, self._arrival, keyframe, frame_format
            )
        )
