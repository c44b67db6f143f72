"""How many UDP GSO sends a frame needs, for the RTP payloads aiortc's packetisers make.

A GSO send carries segments of one size, except that the last may be shorter. So a
frame goes out in one send per subscriber only if all its packets but the last are the
same size. aiortc's VP8 packetiser cuts max-size chunks and a short last one (one send
per frame). Its H.264 packetiser balances each FU-A run: the first ``len % n`` packets
are one byte larger than the rest, so a run needs two sends unless it divides evenly, and
every NAL unit (SPS, PPS, each slice) starts a new run. This counts it on the benchmarks'
own clips (``tests/bench/media_clip.py``: noise at the target bitrate, aiortc's
packetisers), one JSON line per codec and resolution; a measurement, never pass/fail.
With ``--pad``, packets one byte short of their run count as equal, as if the sender
added one byte of RTP padding to them.

    .venv/bin/python tests/bench/gso_sizes.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import media_clip


def gso_sends(sizes: list[int], pad: bool = False) -> int:
    """Fewest GSO sends for packets of ``sizes`` in order (equal runs, shorter last)."""
    sends, index = 0, 0
    while index < len(sizes):
        segment = sizes[index]
        index += 1
        while index < len(sizes) and (
            sizes[index] == segment or (pad and sizes[index] == segment - 1)
        ):
            index += 1
        if index < len(sizes) and sizes[index] < segment:
            index += 1  # a shorter packet may close the send
        sends += 1
    return sends


def measure(codec: str, resolution: media_clip.Resolution, pad: bool) -> dict[str, object]:
    clip = media_clip.make_clip(codec, resolution)
    encoder = media_clip.packetiser(codec)
    packets, sends, one_send, keyframe_sends = [], [], 0, []
    for index, (_, keyframe) in enumerate(clip):
        payloads, _ = encoder.pack(media_clip.clip_packet(clip, index))
        sizes = [len(payload) for payload in payloads]
        count = gso_sends(sizes, pad)
        packets.append(len(sizes))
        sends.append(count)
        one_send += count == 1
        if keyframe:
            keyframe_sends.append(count)
    return {
        "codec": codec,
        "resolution": resolution.name,
        "pad_one_byte": pad,
        "frames": len(clip),
        "packets_per_frame": round(statistics.mean(packets), 2),
        "gso_sends_per_frame": round(statistics.mean(sends), 2),
        "packets_per_send": round(sum(packets) / sum(sends), 2),
        "frames_in_one_send": round(one_send / len(clip), 3),
        "keyframe_sends": keyframe_sends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pad", action="store_true", help="also count with 1-byte padding")
    args = parser.parse_args()
    for codec in media_clip.CODECS:
        for resolution in media_clip.RESOLUTIONS.values():
            for pad in (False, True) if args.pad else (False,):
                print(json.dumps(measure(codec, resolution, pad)), flush=True)


if __name__ == "__main__":
    main()
