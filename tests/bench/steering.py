"""Steering benchmark: what a 307 adds to a WHEP set-up (POST to 201), p50 and p99.

Two in-process nodes on a real redis-server: "gz" (region cn, an aiortc publisher) and
"edge-us" (region us, pulling the channel from gz). Each round makes one recvonly offer
and POSTs it twice: straight to edge-us, and to gz with ``?region=us`` (307, followed, to
edge-us: the directory read, the redirect, the second request). Offers are made before
the clock starts; sessions are deleted after. Prints JSON lines; never pass/fail.

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/steering.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streaming.hub import MediaHub

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

CHANNEL = "gz-hall-1"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(rounds: int) -> None:
    try:
        await measure(rounds)
    except BaseException:
        import traceback

        traceback.print_exc()
        raise


async def measure(rounds: int) -> None:
    from config import RelaySettings, load_event
    from config.settings import NodeSettings, Settings
    from tests.bench.fanout import SECRET as secret
    from tests.bench.fanout import unlimited_media
    from tests.helpers import local_settings
    from tests.media_peers import free_port
    from tests.redis_server import running_redis
    from web.app import create_app
    from web.keys import MEDIA
    from web.server import start_server

    media = unlimited_media()
    with tempfile.TemporaryDirectory() as folder, running_redis(Path(folder)) as redis_url:
        event = load_event(Settings().event_file)
        servers, urls = [], {}
        for node_id, region in (("gz", "cn"), ("edge-us", "us")):
            port = free_port()
            urls[node_id] = f"http://127.0.0.1:{port}"
            settings = local_settings(
                data_dir=Path(folder) / node_id,
                producer_secret=secret,
                redis_url=redis_url,
                routing=node_id == "gz",
                media=media,
                node=NodeSettings(id=node_id, region=region, url=urls[node_id]),
                relay=RelaySettings(),
            )
            app = create_app(settings, event)
            servers.append((app, await start_server(app, settings, port=port)))
        gz, edge = urls["gz"], urls["edge-us"]
        try:
            direct, steered = await rounds_of(rounds, gz, edge, secret, servers[0][0][MEDIA])
        finally:
            for _, server in reversed(servers):
                await server.aclose()
    report(direct, steered)


async def rounds_of(
    rounds: int, gz: str, edge: str, secret: str, origin: MediaHub
) -> tuple[list[float], list[float]]:
    import aiohttp
    from aiortc import RTCPeerConnection

    from tests.helpers import eventually
    from tests.media_peers import publish

    async with aiohttp.ClientSession() as http:
        publisher = await publish(http, f"{gz}/whip/{CHANNEL}", secret, 200)
        try:
            await eventually(lambda: origin.channel(CHANNEL).live, "live at gz")
            direct: list[float] = []
            steered: list[float] = []
            headers = {"Content-Type": "application/sdp"}
            for index in range(rounds + 5):
                pc = RTCPeerConnection()
                pc.addTransceiver("video", direction="recvonly")
                pc.addTransceiver("audio", direction="recvonly")
                await pc.setLocalDescription(await pc.createOffer())
                offer = pc.localDescription.sdp
                for url, times in (
                    (f"{edge}/whep/{CHANNEL}", direct),
                    (f"{gz}/whep/{CHANNEL}?region=us", steered),
                ):
                    while True:
                        started = time.perf_counter()
                        async with http.post(url, data=offer, headers=headers) as response:
                            await response.read()
                            took = time.perf_counter() - started
                            status, final = response.status, str(response.url)
                            location = response.headers.get("Location", "")
                        if status != 409 or index >= 5:
                            break
                        await asyncio.sleep(0.5)  # warming up: the edge's pull starts
                    assert status == 201, status
                    assert final.startswith(edge), final
                    if index >= 5:  # the first rounds warm up
                        times.append(took)
                    async with http.delete(location) as response:
                        await response.read()
                await pc.close()
            return direct, steered
        finally:
            await publisher.pc.close()


def report(direct: list[float], steered: list[float]) -> None:
    for name, times in (("direct", direct), ("steered", steered)):
        print(
            json.dumps(
                {
                    "bench": "whep_setup",
                    "path": name,
                    "rounds": len(times),
                    "p50_ms": round(1000 * statistics.median(times), 2),
                    "p99_ms": round(1000 * percentile(times, 0.99), 2),
                }
            )
        )
    added = [s - d for s, d in zip(steered, direct, strict=True)]
    print(
        json.dumps(
            {
                "bench": "whep_setup",
                "path": "added_by_307",
                "p50_ms": round(1000 * statistics.median(added), 2),
                "p99_ms": round(1000 * percentile(added, 0.99), 2),
            }
        )
    )


if __name__ == "__main__":
    import faulthandler

    faulthandler.dump_traceback_later(600, exit=True)  # a hang says where, then ends
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    asyncio.run(main(parser.parse_args().rounds))
