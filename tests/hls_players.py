"""Plain HTTP HLS players, run as a separate process by the cache test and the benchmark.

Each player follows a live media playlist like a player does: it reloads the playlist,
fetches the init segment once and every new segment once, starting three segments from
the live edge. Prints one JSON line: how many requests and bytes the players made.

    python -m tests.hls_players URL --players 50 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from urllib.parse import urljoin

import aiohttp
import m3u8

START_FROM_EDGE = 3


async def play(session: aiohttp.ClientSession, url: str, until: float, tally: Counter[str]) -> None:
    fetched: set[str] = set()
    while time.monotonic() < until:
        async with session.get(url) as response:
            tally["playlist"] += 1
            if response.status != 200:
                tally[f"playlist_{response.status}"] += 1
                await asyncio.sleep(1)
                continue
            playlist = m3u8.loads(await response.text())
        segments = [s for s in playlist.segments if s.uri]
        wanted = (
            [s.uri for s in segments] if fetched else [s.uri for s in segments[-START_FROM_EDGE:]]
        )
        for segment in segments:
            init = segment.init_section.uri if segment.init_section else None
            if init and init not in fetched:
                wanted.insert(0, init)
        for uri in wanted:
            if uri in fetched:
                continue
            async with session.get(urljoin(url, uri)) as response:
                body = await response.read()
                kind = "init" if "init-" in uri else "segment"
                tally[kind] += 1
                tally[f"{kind}_bytes"] += len(body)
                if response.status != 200:
                    tally[f"{kind}_{response.status}"] += 1
            fetched.add(uri)
        # Reload about every half target duration, as players do for live playlists.
        await asyncio.sleep((playlist.target_duration or 2) / 2)


async def main(url: str, players: int, seconds: float) -> Counter[str]:
    tally: Counter[str] = Counter()
    until = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(play(session, url, until, tally) for _ in range(players)))
    return tally


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.url, args.players, args.seconds))))
