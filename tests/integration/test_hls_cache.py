"""50 players through a real nginx cache cost the origin about one request per segment."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from config import Event, Settings
from tests.helpers import eventually
from tests.hls_origin import live_origin
from tests.nginx_cache import nginx_cache

PLAYERS = 50
SECONDS = 20.0
CHANNEL = "gz-hall-1"


async def _run_players(url: str, players: int, seconds: float) -> dict[str, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.hls_players", url,
        "--players", str(players), "--seconds", str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    result: dict[str, int] = json.loads(out)
    return result


@pytest.mark.requires("nginx")
@pytest.mark.timeout(120)
async def test_fifty_players_through_nginx_cost_the_origin_one_request_per_segment(
    settings: Settings, reference_event: Event, tmp_path: Path
) -> None:
    async with live_origin(settings, reference_event, CHANNEL) as origin:
        await eventually(lambda: origin.frames > 5 * 30, "five seconds of media", within=20)
        async with nginx_cache(tmp_path / "nginx", origin.port) as port:
            url = f"http://127.0.0.1:{port}/hls/{CHANNEL}/index.m3u8"
            players = await _run_players(url, PLAYERS, SECONDS)
        seen = dict(origin.requests)
    print(json.dumps({"hls_cache": {"players": players, "origin": seen}}))
    errors = {kind: n for kind, n in players.items() if kind.rsplit("_", 1)[-1].isdigit()}
    assert not errors, f"players got error statuses: {errors}"
    # Every player fetched the live segments (about one per 2 s each).
    assert players["segment"] >= PLAYERS * (SECONDS / 2 - 2)
    # The origin saw each segment about once: at most the segments that existed.
    segments_made = origin.frames / 30 / 2
    assert seen["segment"] <= segments_made + 1
    assert seen["segment"] * PLAYERS * 0.8 <= players["segment"]
    assert seen["init"] == 1
    # Playlists: about one per second of max-age, not one per player reload.
    assert seen["playlist"] <= 2.5 * SECONDS
    assert seen["playlist"] * 10 < players["playlist"]
