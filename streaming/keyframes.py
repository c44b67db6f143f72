"""Sans-I/O keyframe detection on RTP payloads (VP8 RFC 7741, H.264 RFC 6184)."""

from __future__ import annotations

H264_IDR = 5
H264_SPS = 7
H264_STAP_A = 24
H264_FU_A = 28


def vp8_is_keyframe(payload: bytes) -> bool:
    """True if this packet starts a VP8 key frame (start of partition 0, P bit clear)."""
    if not payload:
        return False
    first = payload[0]
    start, partition = first & 0x10, first & 0x07
    if not start or partition != 0:
        return False
    offset = 1
    if first & 0x80:  # X: extension byte follows
        if len(payload) < 2:
            return False
        ext = payload[1]
        offset = 2
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            if len(payload) <= offset:
                return False
            offset += 2 if payload[offset] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            offset += 1
        if ext & 0x30:  # T or K: one byte
            offset += 1
    if len(payload) <= offset:
        return False
    return payload[offset] & 0x01 == 0


def _h264_nal_is_key(nal_type: int) -> bool:
    return nal_type in (H264_IDR, H264_SPS)


def h264_is_keyframe(payload: bytes) -> bool:
    """True if this packet carries an SPS or the start of an IDR slice."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == H264_STAP_A:
        offset = 1
        while offset + 2 < len(payload):
            size = (payload[offset] << 8) | payload[offset + 1]
            offset += 2
            if size == 0 or offset + size > len(payload):
                return False
            if _h264_nal_is_key(payload[offset] & 0x1F):
                return True
            offset += size
        return False
    if nal_type == H264_FU_A:
        if len(payload) < 2:
            return False
        fu_header = payload[1]
        return bool(fu_header & 0x80) and _h264_nal_is_key(fu_header & 0x1F)
    return _h264_nal_is_key(nal_type)


def is_keyframe(video_codec: str, payload: bytes) -> bool:
    """Dispatch on the event's video codec (``H264`` or ``VP8``)."""
    if video_codec == "VP8":
        return vp8_is_keyframe(payload)
    return h264_is_keyframe(payload)
