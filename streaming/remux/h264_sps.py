"""The picture size in an H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1), read
without decoding: a container's track header wants it before the first frame."""

from __future__ import annotations

# Profiles whose SPS carries chroma format, bit depths and scaling matrices.
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class _Bits:
    def __init__(self, data: bytes) -> None:
        self._data = _unescape(data)
        self._position = 0

    def bit(self) -> int:
        byte = self._position >> 3
        if byte >= len(self._data):
            raise ValueError("the SPS ends early")
        value = (self._data[byte] >> (7 - (self._position & 7))) & 1
        self._position += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def unsigned(self) -> int:
        """ue(v): Exp-Golomb."""
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("a bad Exp-Golomb code in the SPS")
        return (1 << zeros) - 1 + self.bits(zeros)

    def signed(self) -> int:
        """se(v)."""
        code = self.unsigned()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _unescape(data: bytes) -> bytes:
    # Emulation prevention: 00 00 03 -> 00 00.
    return data.replace(b"\x00\x00\x03", b"\x00\x00")


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following != 0:
            following = (last + bits.signed() + 256) % 256
        last = following if following != 0 else last


def sps_dimensions(sps: bytes) -> tuple[int, int]:
    """(width, height) in pixels from an SPS NAL unit (header byte included);
    ``ValueError`` if it cannot be read."""
    bits = _Bits(sps[1:])
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.unsigned()  # seq_parameter_set_id
    chroma_format = 1
    if profile in _HIGH_PROFILES:
        chroma_format = bits.unsigned()
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        bits.unsigned()  # bit_depth_luma
        bits.unsigned()  # bit_depth_chroma
        bits.bit()  # qpprime_y_zero_transform_bypass
        if bits.bit():  # seq_scaling_matrix_present
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.unsigned()  # log2_max_frame_num_minus4
    order_type = bits.unsigned()
    if order_type == 0:
        bits.unsigned()
    elif order_type == 1:
        bits.bit()
        bits.signed()
        bits.signed()
        for _ in range(bits.unsigned()):
            bits.signed()
    bits.unsigned()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_allowed
    width_mbs = bits.unsigned() + 1
    height_units = bits.unsigned() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field
    bits.bit()  # direct_8x8_inference
    width, height = width_mbs * 16, height_units * 16 * (2 - frame_mbs_only)
    if bits.bit():  # frame_cropping
        left, right, top, bottom = (bits.unsigned() for _ in range(4))
        crop_x = 1 if chroma_format == 0 or chroma_format == 3 else 2
        crop_y = (1 if chroma_format in (0, 3) else (2 if chroma_format == 1 else 1)) * (
            2 - frame_mbs_only
        )
        width -= (left + right) * crop_x
        height -= (top + bottom) * crop_y
    if width <= 0 or height <= 0:
        raise ValueError("the SPS gives no picture size")
    return width, height
