"""What recording and HLS cost: CPU seconds to depacketize and remux one second of media.

Packets are made once (aiortc's H.264 and Opus encoders, 1280x720 noisy at 30 fps and
2.5 Mbit/s-ish, 20 ms Opus), then fed through the forwarding source, in the same run, to:

* ``forward_only``: no consumer (the forwarding path alone: subtract it from the rest);
* ``recorder_alone``: one ``ChannelRemux`` cut as the recorder cuts files
  (``recording.fragment_seconds``);
* ``hls_alone``: one cut as the HLS packager cuts parts (``hls.part_seconds``);
* ``both_shared``: both remuxes on one ``FrameSources`` (one depacketizing pass, two
  muxers): what a recorded and packaged channel costs now;
* ``both_separate``: both, each depacketizing for itself (the cost before the sharing:
  the anchor for ``both_shared``).

The sinks keep nothing (the bytes are counted), so the numbers are the remux layer's
own. Each case runs ``--repeat`` times; the median is printed, one JSON line per case.

    .venv/bin/python tests/bench/remux.py --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from config.hls_settings import HlsSettings
from config.recording_settings import RecordingSettings
from streaming.packet import MediaPacket
from streaming.remux import ChannelRemux, ContainerStart, FrameSources
from streaming.source import ChannelSource
from tests.remux_media import RtpMaker, tone

FPS = 30
RECORDER_FRAGMENT = RecordingSettings().fragment_seconds
HLS_PART = HlsSettings().part_seconds


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


def make_packets(seconds: int, epoch: int) -> list[list[MediaPacket]]:
    """One list of packets per media second."""
    video, audio = RtpMaker("video/H264", epoch=epoch), RtpMaker("audio/opus", 48000, epoch)
    video.encoder.target_bitrate = 2_500_000
    out: list[list[MediaPacket]] = []
    for second in range(seconds):
        packets: list[MediaPacket] = []
        for index in range(second * FPS, (second + 1) * FPS):
            packets += video.video_packets(index, 1280, 720, noisy=index % 3 == 0)
            for step in range(index * 5 // 3, (index + 1) * 5 // 3):
                packets += audio.packets(tone(step, 440), step * 0.02)
        out.append(packets)
    return out


async def feed(source: ChannelSource, seconds: Sequence[Sequence[MediaPacket]]) -> None:
    """Push each media second, then let the remux tasks run (as the loop would)."""
    for packets in seconds:
        for packet in packets:
            source.push(packet)
        for _ in range(3):
            await asyncio.sleep(0)


async def one_run(seconds: Sequence[Sequence[MediaPacket]], case: str) -> dict[str, float]:
    """CPU seconds of one case, and what it wrote, depacketized and dropped.

    Each run is a fresh source and publisher session (the packets take its epoch), so no
    run starts from the last one's picture or timeline."""
    source = ChannelSource("bench", time.monotonic)
    epoch = source.attach_publisher(Publisher())
    for packets in seconds:
        for packet in packets:
            packet.epoch = epoch
    cuts = {
        "forward_only": [],
        "recorder_alone": [RECORDER_FRAGMENT],
        "hls_alone": [HLS_PART],
        "both_shared": [RECORDER_FRAGMENT, HLS_PART],
        "both_separate": [RECORDER_FRAGMENT, HLS_PART],
    }[case]
    shared = FrameSources()
    everyone = [shared]
    sinks, remuxes = [], []
    for fragment in cuts:
        frames = shared if case != "both_separate" else FrameSources()
        if frames is not shared:
            everyone.append(frames)
        sink = Discard()
        sinks.append(sink)

        def open_sink(start: ContainerStart, sink: Discard = sink) -> Discard:
            return sink

        remuxes.append(
            ChannelRemux("bench", source, "H264", open_sink, (), fragment, frames=frames)
        )
    started = time.process_time()
    for remux in remuxes:
        remux.begin()
    await feed(source, seconds)
    for remux in remuxes:
        await remux.aclose()
    cpu = time.process_time() - started
    return {
        "cpu": cpu,
        "written_bytes": sum(s.bytes for s in sinks),
        "depacketized": sum(f.depacketized for f in everyone),
        "dropped": sum(r.dropped for r in remuxes),
    }


async def run(seconds: int, repeat: int) -> None:
    media = make_packets(seconds, 1)
    count = sum(len(packets) for packets in media)
    size = sum(len(p.payload) for packets in media for p in packets)
    common = {
        "media_seconds": seconds,
        "packets": count,
        "mbit_per_s": round(size * 8 / seconds / 1e6, 2),
        "repeat": repeat,
    }
    cases = ["forward_only", "recorder_alone", "hls_alone", "both_shared", "both_separate"]
    runs: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    for _ in range(repeat):  # interleaved, so a busy moment hits every case alike
        for case in cases:
            runs[case].append(await one_run(media, case))
    forward = statistics.median(r["cpu"] for r in runs["forward_only"])
    for case in cases:
        cpu = statistics.median(r["cpu"] for r in runs[case])
        last = runs[case][-1]
        line: dict[str, object] = {
            "case": case,
            **common,
            "cpu_ms_per_media_s": round(cpu * 1000 / seconds, 3),
        }
        if case != "forward_only":
            line["remux_ms_per_media_s"] = round((cpu - forward) * 1000 / seconds, 3)
            line["depacketized_packets"] = int(last["depacketized"])
            line["written_bytes"] = int(last["written_bytes"])
            line["dropped"] = int(last["dropped"])
        print(json.dumps(line))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.seconds, arguments.repeat))
