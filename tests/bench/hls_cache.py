"""HLS through an HTTP cache: origin requests with and without nginx in front.

A live origin (the real app; a programme channel packaged from a paced libx264 fMP4
source) and N plain HLS players (tests/hls_players.py, another process) for a fixed
time, first straight at the origin (the anchor), then through nginx with proxy_cache.
Prints one JSON line per run: what the players asked and what the origin answered.
Never pass/fail.

    flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/hls_cache.py --players 50 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

CHANNEL = "gz-hall-1"


async def run(players: int, seconds: float, cached: bool) -> dict[str, object]:
    from config import load_event
    from tests.helpers import eventually, local_settings
    from tests.hls_origin import live_origin
    from tests.integration.test_hls_cache import _run_players
    from tests.nginx_cache import nginx_cache

    with tempfile.TemporaryDirectory() as scratch:
        settings = local_settings(data_dir=Path(scratch) / "data")
        async with live_origin(settings, load_event(), CHANNEL) as origin:
            await eventually(lambda: origin.frames > 150, "five seconds of media", within=20)
            before = dict(origin.requests)
            if cached:
                async with nginx_cache(Path(scratch) / "nginx", origin.port) as port:
                    url = f"http://127.0.0.1:{port}/hls/{CHANNEL}/index.m3u8"
                    asked = await _run_players(url, players, seconds)
            else:
                asked = await _run_players(origin.playlist_url, players, seconds)
            answered = {k: v - before.get(k, 0) for k, v in origin.requests.items()}
    return {
        "bench": "hls_cache",
        "cache": "nginx" if cached else "none",
        "players": players,
        "seconds": seconds,
        "players_asked": asked,
        "origin_answered": answered,
    }


async def main(counts: list[int], seconds: float) -> None:
    for players in counts:
        for cached in (False, True):
            print(json.dumps(await run(players, seconds, cached)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--players", type=int, nargs="+", default=[50])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.players, args.seconds))
