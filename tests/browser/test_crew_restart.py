"""Fault: the server is killed with -9 while a crew works in Chromium, then restarted on
the same port and data dir. A real ``venuebridge serve`` process; in the browser at the
same time the producer's publish page, the Japan operator's console and a phone viewer.
The time from the restart until frames flow again at the console's projector and at the
phone's player is measured, printed (one JSON line) and bounded; every screen must say
something true while the server is down and after; the records keep one airing."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from config import event_file
from signaling.auth import Grant, Role, TokenAuthority, load_or_create_secret
from tests.helpers import eventually
from tests.integration.test_restart_fault import Server
from tests.media_peers import free_port, needs_network

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]

CHANNEL = "gz-hall-1"
VENUE = "jp"
SESSION = "overseas-talents-summit"
RESTART_BOUND = 10.0  # seconds from the restart until frames flow again at a screen
FRAMES = "(s) => { const v = document.querySelector(s); return v.getVideoPlaybackQuality().totalVideoFrames; }"  # noqa: E501


def event_now(path: Path, start: datetime) -> Path:
    """The reference event with the summit on hall 1 moved to ``start`` and sent to Japan."""
    reference = Path(event_file.__file__).parent / "events" / event_file.REFERENCE_EVENT
    text = reference.read_text(encoding="utf-8")
    block = re.compile(
        rf'(id = "{SESSION}"\n(?:.*\n)*?)start = .*\nend = .*\nchannel = "{CHANNEL}"\n'
        r"venues = \[.*\]"
    )
    end = start + timedelta(minutes=10)
    moved = (
        rf"\g<1>start = {start.isoformat()}" + "\n" + rf"end = {end.isoformat()}" + "\n"
        rf'channel = "{CHANNEL}"' + "\n" + rf'venues = ["{VENUE}"]'
    )
    replaced, count = block.subn(moved, text)
    assert count == 1, "the reference event's summit block changed shape"
    path.write_text(replaced, encoding="utf-8")
    return path


def token(data: Path, grant: Grant) -> str:
    """Signed with the server's own secret, as ``venuebridge token`` does."""
    return TokenAuthority(load_or_create_secret(data), audience="coet2018").mint(grant, ttl=3600)


class FrameWatch:
    """Frames flow at a video element once its frame count rose at two polls in a row."""

    def __init__(self, page: Page, selector: str) -> None:
        self.page, self.selector = page, selector
        self.last = -1
        self.rises = 0

    async def flowing(self) -> bool:
        count = int(await self.page.evaluate(FRAMES, self.selector))
        self.rises = self.rises + 1 if count > self.last >= 0 else 0
        self.last = count
        return self.rises >= 2


async def state_of(page: Page, selector: str) -> tuple[str, str]:
    element = page.locator(selector)
    return (await element.get_attribute("data-state") or "", await element.text_content() or "")


async def says(page: Page, selector: str, pattern: str) -> bool:
    state, text = await state_of(page, selector)
    return re.search(pattern, f"{state} {text}", re.IGNORECASE) is not None


async def records(server: Server, http: aiohttp.ClientSession, director: str) -> list[Any]:
    headers = {"Authorization": f"Bearer {director}"}
    async with http.get(f"{server.url}/api/records.json", headers=headers) as response:
        assert response.status == 200, await response.text()
        rows: list[Any] = (await response.json())["airings"]
        return rows


async def test_the_crew_screens_through_a_kill_9_and_restart(
    tmp_path: Path, browser: Browser, shots: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    server = Server(tmp_path, free_port(), event_now(tmp_path / "event.toml", start))
    async with aiohttp.ClientSession() as http:
        try:
            await server.start(http)
            await crew_through_a_restart(server, http, browser, shots)
        finally:
            await server.stop()


async def crew_through_a_restart(
    server: Server, http: aiohttp.ClientSession, browser: Browser, shots: Path
) -> None:
    producer_token = token(server.data, Grant("Hall 1 crew", Role.PRODUCER, channels=(CHANNEL,)))
    operator_token = token(server.data, Grant("Tanaka", Role.OPERATOR, venue=VENUE))
    director = token(server.data, Grant("Director Wang", Role.DIRECTOR))
    errors: list[str] = []

    async def opened(url: str, **options: Any) -> Page:
        page = await (await browser.new_context(**options)).new_page()
        page.on("pageerror", lambda error: errors.append(f"{url}: {error}"))
        await page.goto(f"{server.url}{url}")
        return page

    producer = await opened(f"/join?token={producer_token}")
    assert producer.url.endswith(f"/publish/{CHANNEL}")
    await producer.click("#start")
    console = await opened(f"/join?token={operator_token}")
    assert console.url.endswith(f"/venue/{VENUE}")
    phone = await opened(
        f"/session/{SESSION}", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    async with http.post(
        f"{server.url}/api/venues/{VENUE}/route",
        json={"channel": CHANNEL},
        headers={"Authorization": f"Bearer {director}"},
    ) as response:
        assert response.status == 202, await response.text()

    projector = FrameWatch(console, "#projector")
    player = FrameWatch(phone, "#player")
    await eventually(projector.flowing, "frames at the Japan projector", 30, 0.1)
    await eventually(player.flowing, "frames at the phone's player", 30, 0.1)
    await eventually(lambda: says(console, "#projector-state", "^live playing"), "playing", 10)
    await eventually(lambda: says(producer, "#tally", "ON AIR at Japan"), "the tally", 10)

    async def on_air() -> bool:
        rows = await records(server, http, director)
        return [(r["session"], r["venue"], r["status"]) for r in rows] == [
            (SESSION, VENUE, "on_air")
        ]

    await eventually(on_air, "the summit on air at Japan in the records", 15, 0.2)

    killed = time.monotonic()
    await server.kill()
    # While the server is down, every screen says so (and none claims to play).
    await eventually(lambda: says(console, "#ws-status", "reconnecting"), "console control", 10)
    await eventually(
        lambda: says(console, "#projector-state", "reconnecting"), "projector reconnecting", 10
    )
    await eventually(lambda: says(producer, "#status", "reconnecting"), "producer reconnecting")
    await eventually(lambda: says(phone, "#status", "connecting"), "phone reconnecting", 10)
    # What the console last heard from the server is labelled as such.
    await eventually(
        lambda: says(console, "#projector-routed", "Last known: On air here.*unreachable"),
        "the console's last known route",
        10,
    )
    assert not await says(producer, "#tally", "^on-air")
    down_screens = {
        "console_control": await state_of(console, "#ws-status"),
        "projector": await state_of(console, "#projector-state"),
        "producer": await state_of(producer, "#status"),
        "tally": await state_of(producer, "#tally"),
        "phone": await state_of(phone, "#status"),
    }
    for name, page in (("console", console), ("producer", producer), ("phone", phone)):
        await page.screenshot(path=shots / f"down-{name}.png")

    restarted = time.monotonic()
    await server.start(http)
    up = time.monotonic()
    projector_back = player_back = None

    async def both_flowing() -> bool:
        nonlocal projector_back, player_back
        if projector_back is None and await projector.flowing():
            projector_back = time.monotonic() - restarted
        if player_back is None and await player.flowing():
            player_back = time.monotonic() - restarted
        return projector_back is not None and player_back is not None

    await eventually(both_flowing, "frames again at the projector and the phone", 30, 0.1)
    await eventually(lambda: says(console, "#projector-state", "^live playing"), "playing", 10)
    await eventually(lambda: says(console, "#ws-status", "online"), "console online", 10)
    await eventually(lambda: says(producer, "#status", "^live Live"), "producer live", 10)
    await eventually(lambda: says(producer, "#tally", "^on-air ON AIR at Japan"), "tally", 10)
    await eventually(lambda: says(phone, "#status", "^live Playing"), "the phone playing", 10)
    for name, page in (("console", console), ("producer", producer), ("phone", phone)):
        await page.screenshot(path=shots / f"back-{name}.png")

    async def continued() -> bool:
        rows = await records(server, http, director)
        return len(rows) == 1 and any(o["end_utc"] for o in rows[0]["off_air"])

    await eventually(continued, "one airing, its interruption closed", 15, 0.2)
    [row] = await records(server, http, director)
    assert (row["session"], row["venue"], row["status"]) == (SESSION, VENUE, "on_air")
    [down] = [o for o in row["off_air"] if o["cause"] == "server_down"]
    downtime = up - killed  # kill to /healthz answering again
    print(
        "\n"
        + json.dumps(
            {
                "fault": "server kill -9 + restart",
                "down_s": round(downtime, 2),
                "projector_frames_after_s": round(projector_back or 0, 2),
                "phone_frames_after_s": round(player_back or 0, 2),
                "records_server_down_s": down["seconds"],
                "down_screens": down_screens,
            },
            ensure_ascii=False,
        )
    )
    assert projector_back is not None
    assert projector_back <= RESTART_BOUND
    assert player_back is not None
    assert player_back <= RESTART_BOUND
    # From the last record the dead server wrote to the first the new one wrote.
    assert downtime - 2 <= down["seconds"] <= downtime + RESTART_BOUND, (down, downtime)
    assert errors == []
