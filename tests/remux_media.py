"""Real RTP for the remux tests, made by aiortc's own encoders and packetizers."""

from __future__ import annotations

import fractions
import math
import os

import av
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from streaming.packet import MediaPacket

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


def picture(width: int, height: int, shade: int, noisy: bool = False) -> av.VideoFrame:
    """A flat picture of ``shade`` (luma), or noise (big frames: FU-A fragments)."""
    frame = av.VideoFrame(width, height, "yuv420p")
    for index, plane in enumerate(frame.planes):
        if noisy:
            plane.update(os.urandom(plane.buffer_size))
        else:
            plane.update(bytes([shade if index == 0 else 128]) * plane.buffer_size)
    return frame


def tone(index: int, hertz: float, samples: int = 960, rate: int = 48000) -> av.AudioFrame:
    """20 ms of a sine at ``hertz`` (stereo s16), the ``index``th frame of the stream."""
    frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
    pcm = bytearray()
    for n in range(samples):
        value = int(8000 * math.sin(2 * math.pi * hertz * (index * samples + n) / rate))
        pcm += value.to_bytes(2, "little", signed=True) * 2
    frame.planes[0].update(bytes(pcm))
    frame.sample_rate = rate
    frame.pts = index * samples
    frame.time_base = fractions.Fraction(1, rate)
    return frame


class RtpMaker:
    """Encodes and packetizes with aiortc; numbers packets like a publisher would."""

    def __init__(self, mime: str, clock_rate: int = 90000, epoch: int = 1) -> None:
        channels = 2 if mime == "audio/opus" else None
        self.encoder = get_encoder(
            RTCRtpCodecParameters(mimeType=mime, clockRate=clock_rate, channels=channels)
        )
        self.video = mime.startswith("video/")
        self.epoch = epoch
        self.sequence = 1000
        self.timestamp_base = 0x7FFFF000 if self.video else 4_000_000_000

    def packets(
        self, frame: av.VideoFrame | av.AudioFrame, arrival: float, keyframe: bool = False
    ) -> list[MediaPacket]:
        payloads, timestamp = self.encoder.encode(frame, force_keyframe=keyframe)
        out = []
        for index, payload in enumerate(payloads):
            self.sequence = (self.sequence + 1) & 0xFFFF
            out.append(
                MediaPacket(
                    self.video,
                    payload,
                    self.sequence,
                    (timestamp + self.timestamp_base) & 0xFFFFFFFF,
                    index == len(payloads) - 1,
                    self.epoch,
                    arrival=arrival,
                )
            )
        return out

    def video_packets(
        self, index: int, width: int = 640, height: int = 360, noisy: bool = False, fps: int = 30
    ) -> list[MediaPacket]:
        frame = picture(width, height, (index * 7) % 220 + 16, noisy)
        frame.pts = index * (90000 // fps)
        frame.time_base = VIDEO_TIME_BASE
        return self.packets(frame, index / fps, keyframe=index % fps == 0)
