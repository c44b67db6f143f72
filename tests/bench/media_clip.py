"""The benchmarks' synthetic clips: 4 s of noise with a moving bar, pre-encoded once.

Noise keeps the encoder at its bitrate cap, so every frame is as large as a busy camera
picture would make it. Each (codec, resolution) pair is cached in /tmp; the publishers
turn a clip into RTP payloads with aiortc's own packetisers (``pack``), so venuebridge's
WHIP ingest and Janus's plain-RTP mountpoint receive exactly the same payloads.
"""

from __future__ import annotations

import fractions
import pickle
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FPS = 30
GOP = 2 * FPS  # a keyframe every 2 s, as the venue encoders are set up
CLIP_SECONDS = 4
VIDEO_CLOCK = 90_000


@dataclass(frozen=True, slots=True)
class Resolution:
    """A picture size and the bitrate we encode it at."""

    name: str
    width: int
    height: int
    bitrate: int


RESOLUTIONS = {
    "720p": Resolution("720p", 1280, 720, 2_500_000),
    "360p": Resolution("360p", 640, 360, 1_000_000),
}
CODECS = ("H264", "VP8")

Clip = list[tuple[bytes, bool]]  # (encoded frame, is keyframe)


def clip_path(codec: str, resolution: Resolution) -> Path:
    name = f"venuebridge-bench-v2-{codec.lower()}-{resolution.name}-{resolution.bitrate}.pickle"
    return Path(tempfile.gettempdir()) / name


def _encoder(codec: str, resolution: Resolution) -> Any:
    import av

    bitrate = resolution.bitrate
    if codec == "H264":
        context = av.CodecContext.create("libx264", "w")
        context.profile = "Baseline"
        context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:nal-hrd=cbr:"
            f"vbv-maxrate={bitrate // 1000}:vbv-bufsize={bitrate // 2000}",
        }
    elif codec == "VP8":
        context = av.CodecContext.create("libvpx", "w")
        context.gop_size = GOP
        # Real-time CBR like a browser's VP8: no look-ahead, no alt-ref frames.
        context.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "auto-alt-ref": "0",
            "keyint_min": str(GOP),
            "minrate": str(bitrate),
            "maxrate": str(bitrate),
            "bufsize": str(bitrate // 2),
            "error-resilient": "1",
        }
    else:
        raise ValueError(f"no clip encoder for codec {codec!r}")
    context.width, context.height, context.pix_fmt = resolution.width, resolution.height, "yuv420p"
    context.framerate = fractions.Fraction(FPS, 1)
    context.time_base = fractions.Fraction(1, FPS)
    context.bit_rate = bitrate
    return context


def make_clip(codec: str, resolution: Resolution) -> Clip:
    """The clip for ``codec`` at ``resolution``, encoded on first use and cached."""
    path = clip_path(codec, resolution)
    if path.exists():
        return pickle.loads(path.read_bytes())  # type: ignore[no-any-return]
    import av

    context = _encoder(codec, resolution)
    width, height = resolution.width, resolution.height
    rng = random.Random(7)
    clip: Clip = []
    for index in range(CLIP_SECONDS * FPS):
        frame = av.VideoFrame(width, height, "yuv420p")
        # Six bits of noise: VP8 cannot squeeze full-range noise under ~8 Mbit/s even at
        # its coarsest quantiser, this much keeps both encoders at their target bitrate.
        luma = bytearray(b & 0x3F for b in rng.randbytes(frame.planes[0].buffer_size))
        # A moving bright bar so a decoded sample shows motion.
        bar = height // 18
        row = (index * 8) % (height - bar)
        stride = frame.planes[0].line_size
        luma[row * stride : (row + bar) * stride] = b"\xf0" * (bar * stride)
        frame.planes[0].update(bytes(luma))
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = index
        if index % GOP == 0:
            frame.pict_type = av.video.frame.PictureType.I
        clip += [(bytes(p), bool(p.is_keyframe)) for p in context.encode(frame)]
    clip += [(bytes(p), bool(p.is_keyframe)) for p in context.encode(None)]
    path.write_bytes(pickle.dumps(clip))
    return clip


def clip_packet(clip: Clip, index: int) -> Any:
    """Frame ``index`` (looping) as an ``av.Packet`` stamped on the 90 kHz clock."""
    import av

    data, _ = clip[index % len(clip)]
    packet = av.Packet(data)
    packet.pts = index * (VIDEO_CLOCK // FPS)
    packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
    return packet


def clip_bitrate(clip: Clip) -> float:
    """Mean bits per second of the clip at ``FPS``."""
    return sum(len(data) for data, _ in clip) * 8 * FPS / len(clip)


def packetiser(codec: str) -> Any:
    """aiortc's encoder for ``codec``; only its ``pack`` (RTP payloads of a frame) is used."""
    from aiortc.codecs.h264 import H264Encoder
    from aiortc.codecs.vpx import Vp8Encoder

    return H264Encoder() if codec == "H264" else Vp8Encoder()


if __name__ == "__main__":
    for codec in CODECS:
        for resolution in RESOLUTIONS.values():
            clip = make_clip(codec, resolution)
            keys = sum(1 for _, key in clip if key)
            rate = clip_bitrate(clip) / 1000
            name = f"{codec} {resolution.name}"
            print(f"{name}: {len(clip)} frames, {keys} keyframes, {rate:.0f} kbit/s")
