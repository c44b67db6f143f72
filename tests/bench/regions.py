"""Regional-edge benchmarks on the namespace topology (``tests/topology``): JSON lines.

``hops``: a chain origin -> region edge -> city edge, each node in its own namespace.
One 720p30 H.264 publisher (``tests/bench/fanout.py``'s clip, in its own process) at the
origin; three light viewers in this process, one per node. The same frame (its payload's
hash: forwarding never changes a payload) is seen arriving at each viewer on this
process's clock, so a hop's added latency is ``arrival(hop n) - arrival(hop n-1)``. Also
the time to first frame of a late joiner at the city edge: cold (neither edge pulls the
channel yet: both pulls are made for it) and warm (the pulls are up).

``loss``: origin and one edge; the long-haul link between them gets a one-way delay in
both node processes (``tests/topology/delay.py``) and random loss on its media packets,
both directions (nftables in the edge's namespace). A decoding aiortc viewer at the edge
counts what it can show: freezes (a wait for the next decoded frame longer than
max(3 frame times, a frame time + 150 ms), the rule of WebRTC's freezeCount), their
total and longest, and frames lost (publisher frames, from the timestamps, never
decoded). The publisher ignores keyframe requests and sends one every 2 s, like OBS.

Origin CPU against edge viewers is ``tests/bench/relay_fanout.py`` (``make bench-regions``
runs all three). Measurements, never pass/fail:

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/regions.py hops
    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/regions.py \\
        loss --loss 0,2,5 --delay-ms 150 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import fanout  # noqa: E402  (after the path is set)

CHANNEL = "gz-hall-1"
FRAME_TIME = 1 / fanout.FPS
PTS_PER_FRAME = 90000 // fanout.FPS
# Clip frames repeat every few seconds; an arrival further apart than this is another lap.
SAME_FRAME_WITHIN = 1.5
PACKETS_PER_SECOND = 300  # about, for the 2.5 Mbit/s clip with its audio
CLIP_SECRET = {"VENUEBRIDGE_PRODUCER_SECRET": fanout.SECRET}  # the clip publisher's key


# A minimum playout delay for the page's receivers (Chromium: RTCRtpReceiver.jitterBufferTarget).
JITTER_TARGET = """(ms) => {
  for (const receiver of window.vbPc.getReceivers()) receiver.jitterBufferTarget = ms;
}"""


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (share 0..1)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def freezes(times: list[float], frame_time: float = FRAME_TIME) -> tuple[int, float, float]:
    """``(count, total seconds, longest wait)`` of freezes between frame arrival ``times``."""
    threshold = max(3 * frame_time, frame_time + 0.150)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    frozen = [gap for gap in gaps if gap > threshold]
    return len(frozen), sum(frozen), max(gaps, default=0.0)


@contextlib.asynccontextmanager
async def topology(http: Any) -> AsyncIterator[Any]:
    from tests.topology.cluster import Topology

    with tempfile.TemporaryDirectory() as root:
        topo = Topology(Path(root), http)
        try:
            await topo.start_redis()
            yield topo
        finally:
            await topo.aclose()


@contextlib.contextmanager
def clip_publisher(url: str) -> Any:
    """The 720p clip publisher of fanout.py, as a separate process (its own CPU)."""
    child = fanout._spawn("publish", "--url", url)
    try:
        yield child
    finally:
        fanout._stop(child)


async def wait_for(predicate: Callable[[], Any], what: str, within: float = 30) -> None:
    from tests.helpers import eventually

    await eventually(predicate, what, within)


# -- hops ---------------------------------------------------------------------------------


class HopClock:
    """Arrival time of each frame (payload hash) at each hop, and the per-hop differences."""

    def __init__(self, hops: int) -> None:
        self.seen: list[dict[bytes, float]] = [{} for _ in range(hops)]
        self.added: list[list[float]] = [[] for _ in range(hops)]
        self.recording = False

    def at(self, hop: int) -> Callable[[bytes, float], None]:
        def arrived(digest: bytes, when: float) -> None:
            self.seen[hop][digest] = when
            if not self.recording:
                return
            # The hop before got this frame earlier (as a rule): that pair is complete now.
            before = self.seen[hop - 1].get(digest) if hop > 0 else None
            if before is not None and when - before < SAME_FRAME_WITHIN:
                self.added[hop].append(when - before)
            # The hop after got it first (scheduling can do that): that pair completes now.
            after = self.seen[hop + 1].get(digest) if hop + 1 < len(self.seen) else None
            if after is not None and 0 <= when - after < SAME_FRAME_WITHIN:
                self.added[hop + 1].append(after - when)

        return arrived


async def late_joiner(http: Any, url: str) -> float:
    from tests.topology.viewers import watch

    viewer = await watch(http, url)
    try:
        await wait_for(lambda: viewer.video.first_frame_at is not None, "a first frame", 30)
        first = viewer.first_frame_after
        assert first is not None
        return first
    finally:
        await viewer.close()


async def run_hops(args: argparse.Namespace) -> None:
    import aiohttp

    from tests.helpers import eventually
    from tests.topology.cluster import UNLIMITED_MEDIA
    from tests.topology.viewers import watch

    env = {**UNLIMITED_MEDIA, **CLIP_SECRET, "VENUEBRIDGE_RELAY_GRACE_SECONDS": "1"}
    async with aiohttp.ClientSession() as http, topology(http) as topo:
        origin = await topo.add("origin", "cn", env=env)
        region = await topo.add("edge-region", "eu", origin, env=env)
        city = await topo.add("edge-city", "eu", region, env=env)
        urls = [f"{node.url}/whep/{CHANNEL}" for node in (origin, region, city)]
        with clip_publisher(f"{origin.url}/whip/{CHANNEL}"):
            await eventually(lambda: topo.live(origin, CHANNEL), "the origin to go live", 30)
            clock = HopClock(3)
            at_origin = await watch(http, urls[0], on_frame=clock.at(0))
            await wait_for(lambda: at_origin.video.frames > 30, "frames at the origin")

            async def edges_idle() -> bool:
                for node in (region, city):
                    if (await topo.get(node, "/api/streams"))["relays"]:
                        return False
                return True

            cold: list[float] = []
            for _ in range(args.cold):
                await eventually(edges_idle, "both edges to drop their pulls", 30)
                cold.append(await late_joiner(http, urls[2]))
            at_city = await watch(http, urls[2], on_frame=clock.at(2))
            at_region = await watch(http, urls[1], on_frame=clock.at(1))
            viewers = [at_origin, at_region, at_city]
            await wait_for(lambda: all(v.video.frames > 30 for v in viewers), "frames at all hops")
            warm = [await late_joiner(http, urls[2]) for _ in range(args.warm)]
            clock.recording = True
            await asyncio.sleep(args.seconds)
            clock.recording = False
            for viewer in viewers:
                await viewer.close()
    for hop in (1, 2):
        samples = [1000 * s for s in clock.added[hop]]
        print(
            json.dumps(
                {
                    "bench": "added_latency_per_hop",
                    "hop": hop,
                    "from": ("origin", "edge-region")[hop - 1],
                    "to": ("edge-region", "edge-city")[hop - 1],
                    "frames": len(samples),
                    "p50_ms": round(percentile(samples, 0.5), 2) if samples else None,
                    "p99_ms": round(percentile(samples, 0.99), 2) if samples else None,
                    "max_ms": round(max(samples), 2) if samples else None,
                }
            ),
            flush=True,
        )
    print(
        json.dumps(
            {
                "bench": "first_frame_two_hops_late_joiner",
                "cold_ms": [round(1000 * s) for s in cold],
                "warm_ms": [round(1000 * s) for s in warm],
                "cold_p50_ms": round(1000 * statistics.median(cold)) if cold else None,
                "warm_p50_ms": round(1000 * statistics.median(warm)) if warm else None,
            }
        ),
        flush=True,
    )


# -- loss -------------------------------------------------------------------------------


async def decoding_viewer(http: Any, url: str, frames: list[tuple[float, int]]) -> Any:
    """An aiortc player (jitter buffer, NACKs, decoder): (arrival, pts) of each frame."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError

    from tests.media_peers import client_configuration

    pc = RTCPeerConnection(client_configuration())
    video = pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp"}
    async with http.post(url, data=pc.localDescription.sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            raise RuntimeError(f"WHEP {url}: {response.status} {body}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def read() -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await video.receiver.track.recv()
                frames.append((time.monotonic(), int(frame.pts)))

    return pc, asyncio.get_running_loop().create_task(read())


def browser_window(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What Chromium's counters say about the window between two readings."""
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after if key != "longestMs"}
    emitted = delta.get("jitterBufferEmittedCount", 0)
    return {
        "frames_decoded": delta.get("framesDecoded"),
        "frames_presented": delta.get("presented"),
        "frames_dropped": delta.get("framesDropped"),
        "freezes": delta.get("freezeCount"),
        "freeze_total_s": round(delta.get("totalFreezesDuration", 0.0), 3),
        "longest_gap_s": round(after.get("longestMs", 0.0) / 1000, 3),
        "packets_lost": delta.get("packetsLost"),
        "nacks_sent": delta.get("nackCount"),
        "plis_sent": delta.get("pliCount"),
        "jitter_buffer_ms": round(1000 * delta.get("jitterBufferDelay", 0) / emitted)
        if emitted
        else None,
    }


async def one_loss_run(http: Any, loss: int, args: argparse.Namespace) -> dict[str, Any]:
    from tests.topology.browser import BROWSER_STATS, chromium_viewer
    from tests.topology.cluster import MEDIA_PORT, UNLIMITED_MEDIA
    from tests.topology.viewers import watch

    async with topology(http) as topo, contextlib.AsyncExitStack() as stack:
        env = {**UNLIMITED_MEDIA, **CLIP_SECRET}
        origin = await topo.add("origin", "cn", env=env)
        edge = await topo.add("edge-eu", "eu", origin, env=env)
        for near_end, far_end in ((origin, edge), (edge, origin)):
            near_end.delay_ms, near_end.delay_to = args.delay_ms, [far_end.address]
            await near_end.stop()
            await near_end.start(http)
        if loss:
            edge.namespace.lose(loss, origin.address, MEDIA_PORT)
        stack.enter_context(clip_publisher(f"{origin.url}/whip/{CHANNEL}"))
        await wait_for(lambda: topo.live(origin, CHANNEL), "the origin to go live")
        whep = f"{edge.url}/whep/{CHANNEL}"
        frames: list[tuple[float, int]] = []
        if args.aiortc:
            pc, reader = await decoding_viewer(http, whep, frames)
            stack.push_async_callback(pc.close)
            stack.callback(reader.cancel)
        light = await watch(http, whep)
        stack.push_async_callback(light.close)
        page = None
        if args.browser:
            page = await stack.enter_async_context(
                chromium_viewer(f"{edge.url}/healthz", f"/whep/{CHANNEL}")
            )
            if args.jitter_target_ms is not None:
                await page.evaluate(JITTER_TARGET, args.jitter_target_ms)
        await wait_for(lambda: light.video.frames > 30, "frames at the edge", 60)
        await asyncio.sleep(args.warmup)
        start = len(frames)
        light.video.missing.clear()
        late_before = light.video.late
        browser_before: dict[str, Any] = {}
        if page is not None:
            await page.evaluate("() => { window.vbLongest = 0; }")
            browser_before = await page.evaluate(BROWSER_STATS)
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        ended = time.monotonic()
        window = frames[start:]
        browser_after = await page.evaluate(BROWSER_STATS) if page is not None else {}
        edge_streams = await topo.get(edge, "/api/streams")
        dropped = edge.namespace.dropped()
        # Skipped just before the end may still come: leave out the last second's packets.
        newest = light.video.highest_sequence or 0
        recent = {(newest - n) % 65536 for n in range(PACKETS_PER_SECOND)}
        missing = len(light.video.missing - recent)
        late = light.video.late - late_before
    count, total, longest = freezes([started, *(t for t, _ in window), ended])
    pts = sorted({p for _, p in window})
    expected = (pts[-1] - pts[0]) // PTS_PER_FRAME + 1 if pts else 0
    relay = (edge_streams.get("relays") or [{}])[0]
    row: dict[str, Any] = {
        "bench": "edge_viewer_under_long_haul_loss",
        "chromium_jitter_target_ms": args.jitter_target_ms,
        "loss_percent": loss,
        "one_way_delay_ms": args.delay_ms,
        "window_s": round(ended - started, 1),
        "packets_dropped_by_nft": dropped,
        "packets_never_at_viewer": missing,
        "packets_late_at_viewer": late,
        "relay_state": relay.get("state"),
        "relay_attempts": relay.get("attempts"),
        "relay_repair_hold": {
            key: relay.get(key)
            for key in (
                "rtt_s",
                "retransmissions",
                "hold_s",
                "held_packets",
                "holes_repaired_in_hold",
                "hold_skipped",
                "hold_longest_wait_s",
            )
        },
    }
    if args.aiortc:
        row["aiortc"] = {
            "frames_decoded": len(window),
            "frames_expected": expected,
            "frames_lost": max(0, expected - len(pts)),
            "freezes": count,
            "freeze_total_s": round(total, 3),
            "longest_gap_s": round(longest, 3),
        }
    if page is not None:
        row["chromium"] = browser_window(browser_before, browser_after)
        sent = round((ended - started) * fanout.FPS)
        decoded = row["chromium"]["frames_decoded"] or 0
        row["chromium"]["frames_not_decoded"] = max(0, sent - decoded)
    return row


async def run_loss(args: argparse.Namespace) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for loss in (int(n) for n in args.loss.split(",")):
            row = await one_loss_run(http, loss, args)
            print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    hops = sub.add_parser("hops")
    hops.add_argument("--seconds", type=float, default=20.0)
    hops.add_argument("--cold", type=int, default=3)
    hops.add_argument("--warm", type=int, default=5)
    loss = sub.add_parser("loss")
    loss.add_argument("--loss", default="0,2,5")
    loss.add_argument("--delay-ms", type=float, default=150.0)
    loss.add_argument("--seconds", type=float, default=30.0)
    loss.add_argument("--warmup", type=float, default=5.0)
    loss.add_argument("--no-browser", dest="browser", action="store_false")
    loss.add_argument("--aiortc", action="store_true", help="also an aiortc decoding viewer")
    loss.add_argument(
        "--jitter-target-ms", type=float, help="the Chromium page's receivers' jitterBufferTarget"
    )
    args = parser.parse_args()
    fanout.make_clip()
    asyncio.run(run_hops(args) if args.command == "hops" else run_loss(args))


if __name__ == "__main__":
    main()
