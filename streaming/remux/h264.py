"""H.264 RTP (RFC 6184) to access units, without decoding: single NAL units, STAP-A and
FU-A are joined into Annex B frames; SPS and PPS are kept for the container's init
segment and put in front of every IDR that lacks them. Sans-I/O.

A lost packet (a sequence gap) loses the frame it belongs to and every frame up to the
next keyframe: a recording shows a short freeze, never a smeared picture.
"""

from __future__ import annotations

from streaming.packet import MediaPacket
from streaming.remux.frames import MediaFrame, VideoFormat
from streaming.remux.h264_sps import sps_dimensions

START_CODE = b"\x00\x00\x00\x01"
NAL_IDR, NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD = 5, 6, 7, 8, 9
STAP_A, FU_A = 24, 28


def split_payload(payload: bytes) -> tuple[list[bytes], bool, bool]:
    """The NAL units (or NAL fragment) in one RTP payload: ``(units, fu_start, fu_end)``.

    For FU-A the single unit is the fragment, its NAL header rebuilt on the first one.
    A malformed payload gives no units.
    """
    if not payload:
        return [], False, False
    kind = payload[0] & 0x1F
    if kind == STAP_A:
        units, offset = [], 1
        while offset + 2 <= len(payload):
            size = int.from_bytes(payload[offset : offset + 2], "big")
            offset += 2
            if size == 0 or offset + size > len(payload):
                return [], False, False
            units.append(payload[offset : offset + size])
            offset += size
        return units, False, False
    if kind == FU_A:
        if len(payload) < 3:
            return [], False, False
        start, end = bool(payload[1] & 0x80), bool(payload[1] & 0x40)
        if start:
            header = bytes([(payload[0] & 0xE0) | (payload[1] & 0x1F)])
            return [header + payload[2:]], True, end
        return [payload[2:]], False, end
    if 1 <= kind <= 23:
        return [payload], False, False
    return [], False, False  # STAP-B, MTAP, FU-B: not sent by WebRTC endpoints


class H264Depacketizer:
    """RTP packets of one video stream in, ``MediaFrame`` access units out."""

    def __init__(self) -> None:
        self.sps = b""
        self.pps = b""
        self.format: VideoFormat | None = None
        self.lost_frames = 0
        self._units: list[bytes] = []
        self._fragment: bytearray | None = None
        self._timestamp: int | None = None
        self._epoch: int | None = None
        self._arrival = 0.0
        self._next_sequence: int | None = None
        self._broken = False  # the frame being gathered lost a packet
        self._wait_keyframe = True  # after a loss or at the start

    def push(self, packet: MediaPacket) -> list[MediaFrame]:
        """One packet; returns the frames it completed (zero, one, or two)."""
        out: list[MediaFrame] = []
        if packet.epoch != self._epoch:
            self._reset(packet.epoch)
        elif self._next_sequence is not None:
            gap = (packet.sequence_number - self._next_sequence) & 0xFFFF
            if gap >= 0x8000:
                return out  # a late or repeated packet: the frame is already gone
            if gap:
                self._broken = True
        self._next_sequence = (packet.sequence_number + 1) & 0xFFFF
        if self._timestamp is not None and packet.timestamp != self._timestamp:
            self._finish(out)  # the marker of the last frame was lost
        if self._timestamp is None:
            self._timestamp, self._arrival = packet.timestamp, packet.arrival
        self._add(packet.payload)
        if packet.marker:
            self._finish(out)
        return out

    def _reset(self, epoch: int) -> None:
        self._epoch = epoch
        self._units, self._fragment, self._timestamp = [], None, None
        self._next_sequence = None
        self._broken, self._wait_keyframe = False, True

    def _add(self, payload: bytes) -> None:
        units, fu_start, fu_end = split_payload(payload)
        if not units:
            self._broken = self._broken or bool(payload)
            return
        if payload[0] & 0x1F != FU_A:
            self._units.extend(units)
            return
        if fu_start:
            self._fragment = bytearray(units[0])
        elif self._fragment is None:
            self._broken = True  # the middle of a unit whose start we never saw
            return
        else:
            self._fragment += units[0]
        if fu_end:
            self._units.append(bytes(self._fragment))
            self._fragment = None

    def _finish(self, out: list[MediaFrame]) -> None:
        units, timestamp = self._units, self._timestamp
        broken = self._broken or self._fragment is not None
        self._units, self._fragment, self._timestamp, self._broken = [], None, None, False
        if timestamp is None or not units:
            return
        types = [unit[0] & 0x1F for unit in units]
        for unit, kind in zip(units, types, strict=True):
            if kind == NAL_SPS:
                self.sps = unit
            elif kind == NAL_PPS:
                self.pps = unit
        keyframe = NAL_IDR in types
        if broken:
            self.lost_frames += 1
            self._wait_keyframe = True
            return
        if self._wait_keyframe and not (keyframe and self.sps and self.pps):
            self.lost_frames += 1
            return
        self._wait_keyframe = False
        if keyframe:
            self._update_format()
            if NAL_SPS not in types or NAL_PPS not in types:
                units = [self.sps, self.pps, *(u for u in units if u[0] & 0x1F not in (7, 8))]
        data = b"".join(START_CODE + unit for unit in units if unit[0] & 0x1F != NAL_AUD)
        frame_format = self.format if keyframe else None
        out.append(
            MediaFrame(
                True, data, timestamp, self._epoch or 0, self._arrival, keyframe, frame_format
            )
        )

    def _update_format(self) -> None:
        extradata = START_CODE + self.sps + START_CODE + self.pps
        if self.format is not None and self.format.extradata == extradata:
            return
        try:
            width, height = sps_dimensions(self.sps)
        except ValueError:
            width, height = 0, 0  # the decoder will still find the size in the SPS
        self.format = VideoFormat("H264", width, height, extradata)
