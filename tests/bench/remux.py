"""What recording costs: CPU seconds to depacketize and remux one second of media.

Packets are made once (aiortc's H.264 and Opus encoders, 1280x720 noisy at 30 fps and
2.5 Mbit/s-ish, 20 ms Opus), then fed through the forwarding source with (a) no consumer
(the anchor: the forwarding path alone, in the same run) and (b) a ``ChannelRemux`` writing
fragmented MP4 to /dev/null-like memory. Prints one JSON line per case.

    .venv/bin/python tests/bench/remux.py --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streaming.packet import MediaPacket
from streaming.remux import ChannelRemux, ContainerStart
from streaming.source import ChannelSource
from tests.remux_media import RtpMaker, tone


class Discard:
    def __init__(self) -> None:
        self.bytes = 0

    def on_init(self, data: bytes) -> None:
        self.bytes += len(data)

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None:
        self.bytes += len(data)

    def on_close(self) -> None:
        """Nothing to close."""


class Publisher:
    def send_keyframe_request(self) -> None:
        """Keyframes come every second."""


def make_packets(seconds: int, epoch: int) -> list[MediaPacket]:
    video, audio = RtpMaker("video/H264", epoch=epoch), RtpMaker("audio/opus", 48000, epoch)
    video.encoder.target_bitrate = 2_500_000
    packets: list[MediaPacket] = []
    for index in range(seconds * 30):
        packets += video.video_packets(index, 1280, 720, noisy=index % 3 == 0)
        for step in range(index * 5 // 3, (index + 1) * 5 // 3):
            packets += audio.packets(tone(step, 440), step * 0.02)
    return packets


async def run(seconds: int) -> None:
    source = ChannelSource("bench", time.monotonic)
    epoch = source.attach_publisher(Publisher())
    packets = make_packets(seconds, epoch)
    size = sum(len(p.payload) for p in packets)
    started = time.process_time()
    for packet in packets:
        source.push(packet)
    anchor = time.process_time() - started
    sink = Discard()

    def open_sink(start: ContainerStart) -> Discard:
        return sink

    remux = ChannelRemux("bench", source, "H264", open_sink)
    started = time.process_time()
    remux.begin()
    for packet in packets:
        source.push(packet)
    await remux.aclose()
    remuxed = time.process_time() - started
    common = {
        "media_seconds": seconds,
        "packets": len(packets),
        "mbit_per_s": round(size * 8 / seconds / 1e6, 2),
    }
    print(
        json.dumps(
            {
                "case": "forward_only",
                **common,
                "cpu_ms_per_media_s": round(anchor * 1000 / seconds, 2),
            }
        )
    )
    print(
        json.dumps(
            {
                "case": "forward_and_remux",
                **common,
                "cpu_ms_per_media_s": round(remuxed * 1000 / seconds, 2),
                "written_bytes": sink.bytes,
                "dropped": remux.dropped,
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    asyncio.run(run(parser.parse_args().seconds))
