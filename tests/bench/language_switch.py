"""Language-switch benchmark: how soon a listener hears another language, and the gap.

One in-process server (as ``venuebridge serve`` builds it), aiortc peers: the floor a
440 Hz tone with flat video, a Japanese interpreter at 880 Hz and a Russian one at 660 Hz,
a second Japanese interpreter at 1320 Hz in the same booth. One listener plays
``?lang=ja`` and decodes every 20 ms frame (its pitch named by Goertzel filters). Each
round measures, from the request to the first frame of the new pitch:

- ``switch_s``: the switch message (``POST {session}/language``), no renegotiation;
- ``new_session_s``: the anchor, measured in the same run: a new WHEP session asking for
  the same language (what a player would do without the message), to its first frame;
- ``hand_over_s`` and ``hand_over_gap_s``: a booth take-over, and the longest wait between
  two decoded frames around it.

One JSON line per round, then one with the medians. Never pass/fail.

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python \\
        tests/bench/language_switch.py --rounds 10
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
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHANNEL = "gz-hall-1"
SECRET = "bench-producer-secret-0123456789"


async def _heard(listener: Any, hz: int, since: float, within: float = 5.0) -> float:
    """Seconds from ``since`` to the first frame of ``hz`` (after 3 in a row)."""
    from tests.helpers import eventually

    await eventually(lambda: listener.hears(hz, 3), f"{hz} Hz", within)
    first = listener.first_since(since, hz)
    assert first is not None
    return float(first - since)


async def run(rounds: int) -> list[dict[str, Any]]:
    import aiohttp

    from config.event_file import load_event
    from signaling.auth import Grant, Role
    from tests.helpers import eventually, local_settings
    from tests.tone_peers import FLOOR_HZ, JA2_HZ, JA_HZ, RU_HZ, listen, publish_tone
    from web.app import create_app
    from web.keys import AUTHORITY, MEDIA
    from web.server import start_server

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as root:
        settings = local_settings(
            host="127.0.0.1", port=0, data_dir=Path(root), producer_secret=SECRET
        )
        app = create_app(settings, load_event())
        server = await start_server(app, settings, host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{server.port}"
        peers: list[Any] = []
        try:
            async with aiohttp.ClientSession() as http:

                def token(name: str, language: str) -> str:
                    grant = Grant(name, Role.INTERPRETER, channels=(CHANNEL,), language=language)
                    return str(app[AUTHORITY].mint(grant, ttl=3600))

                whip = f"{url}/whip/{CHANNEL}"
                peers.append(await publish_tone(http, whip, SECRET, FLOOR_HZ, video_luma=100))
                await eventually(lambda: app[MEDIA].channel(CHANNEL).live, "the floor")
                for name, language, hz in (
                    ("ja-1", "ja", JA_HZ),
                    ("ru-1", "ru", RU_HZ),
                    ("ja-2", "ja", JA2_HZ),
                ):
                    peers.append(
                        await publish_tone(
                            http, f"{whip}?lang={language}", token(name, language), hz
                        )
                    )
                listener = await listen(http, f"{url}/whep/{CHANNEL}?lang=ja")
                peers.append(listener)
                on_air = {"ja-1": JA_HZ, "ja-2": JA2_HZ}
                current = "ja-1"
                await _heard(listener, JA_HZ, time.monotonic(), 15)
                for number in range(rounds):
                    # The switch message: ru, then back to ja.
                    asked = time.monotonic()
                    async with http.post(f"{listener.location}/language", json={"lang": "ru"}):
                        pass
                    switch = await _heard(listener, RU_HZ, asked)
                    asked = time.monotonic()
                    async with http.post(f"{listener.location}/language", json={"lang": "ja"}):
                        pass
                    back = await _heard(listener, on_air[current], asked)
                    # The anchor: a new session asking for ru.
                    asked = time.monotonic()
                    fresh = await listen(http, f"{url}/whep/{CHANNEL}?lang=ru")
                    new_session = await _heard(fresh, RU_HZ, asked, 15)
                    await fresh.close()
                    # A hand-over in the ja booth.
                    current = "ja-2" if current == "ja-1" else "ja-1"
                    headers = {"Authorization": f"Bearer {token(current, 'ja')}"}
                    asked = time.monotonic()
                    async with http.post(
                        f"{url}/api/interpret/{CHANNEL}/ja/take", headers=headers
                    ) as response:
                        assert response.status == 204, await response.text()
                    hand_over = await _heard(listener, on_air[current], asked)
                    await asyncio.sleep(0.3)
                    gap = listener.longest_gap(asked - 0.3, time.monotonic())
                    row = {
                        "round": number,
                        "switch_s": round(switch, 4),
                        "switch_back_s": round(back, 4),
                        "new_session_s": round(new_session, 4),
                        "hand_over_s": round(hand_over, 4),
                        "hand_over_gap_s": round(gap, 4),
                    }
                    print(json.dumps(row), flush=True)
                    results.append(row)
        finally:
            for peer in reversed(peers):
                await (peer.close() if hasattr(peer, "heard") else peer.pc.close())
            await server.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rows = asyncio.run(run(args.rounds))
    keys = ("switch_s", "switch_back_s", "new_session_s", "hand_over_s", "hand_over_gap_s")
    summary = {f"median_{k}": round(statistics.median(r[k] for r in rows), 4) for k in keys}
    summary["max_hand_over_gap_s"] = max(r["hand_over_gap_s"] for r in rows)
    print(json.dumps({"summary": True, "rounds": len(rows), **summary}))


if __name__ == "__main__":
    main()
