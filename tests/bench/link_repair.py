"""Link-repair benchmark: what an edge's pull sees through a lossy, long link.

Origin and edge in one process (as ``tests/integration/test_relay_loss.py``), an aiortc
publisher (320x240 flat frames, 30 fps, plus Opus) at the origin and one aiortc viewer
at the edge; the pull crosses ``tests/lossy_link.py`` (seeded random loss on the media,
a fixed delay each way). For each loss rate it prints one JSON line: the pull's NACKs,
repairs, keyframes asked for because of loss, freeze time and count (the edge's own
measure, ``streaming/link_health.py``), and the viewer's decoded frames and longest wait
between two frames. For tuning the repair settings; never pass/fail. (The issue's
freeze-time benchmark through two hops is ``tests/bench`` of the topology work.)

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python \\
        tests/bench/link_repair.py --loss 2,5,10 --one-way-ms 150 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


async def measure(loss: float, one_way: float, seconds: float, seed: int) -> dict[str, Any]:
    import aiohttp
    import pytest

    from config.event_file import load_event
    from tests.helpers import eventually
    from tests.integration.test_relay_links import CHANNEL, Cluster, close_peer
    from tests.integration.test_relay_loss import PullSpy, publish_offering_fec, relay_of
    from tests.lossy_link import LossyLink
    from tests.media_peers import subscribe

    link = LossyLink(seed=seed, loss=loss, delay=one_way)
    patches = pytest.MonkeyPatch()
    PullSpy(link, patches)
    peers: list[Any] = []
    with tempfile.TemporaryDirectory() as root:
        async with aiohttp.ClientSession() as http:
            cluster = Cluster(Path(root), load_event(), http)
            try:
                origin = await cluster.start("origin")
                edge = await cluster.start("edge", origin, wait=10.0)
                publisher, _ = await publish_offering_fec(http, f"{origin.url}/whip/{CHANNEL}")
                peers.append(publisher)
                viewer = await subscribe(http, f"{edge.url}/whep/{CHANNEL}")
                peers.append(viewer)
                # Warmed up: the first keyframe went through.
                await eventually(lambda: viewer.frames >= 30, "first frames", within=30)
                start_frames, start = viewer.frames, await relay_of(cluster, edge)
                viewer.longest_gap = 0.0
                await asyncio.sleep(seconds)  # the measured window
                end = await relay_of(cluster, edge)
                return {
                    "bench": "link_repair",
                    "loss": loss,
                    "one_way_ms": round(one_way * 1000),
                    "seconds": seconds,
                    "dropped_rtp": link.dropped,
                    "viewer_frames": viewer.frames - start_frames,
                    "viewer_longest_gap_s": round(viewer.longest_gap, 3),
                    **{
                        key: round(end[key] - start[key], 3)
                        for key in (
                            "nacks_sent",
                            "retransmissions",
                            "keyframes_for_loss",
                            "keyframe_requests_sent",
                            "freezes",
                            "freeze_s",
                        )
                    },
                    "rtt_s": end["rtt_s"],
                    "relay_attempts": end["attempts"],
                }
            finally:
                for peer in peers:
                    await close_peer(peer)
                await cluster.aclose()
                patches.undo()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", default="2,5", help="loss percentages, comma separated")
    parser.add_argument("--one-way-ms", type=float, default=150.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    for percent in (float(p) for p in args.loss.split(",")):
        result = asyncio.run(
            measure(percent / 100, args.one_way_ms / 1000, args.seconds, args.seed)
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
