"""Language tracks end to end: tones in, decoded tones out, over real ICE/DTLS/SRTP.

The floor sends 440 Hz, the Japanese interpreters 880 Hz and 1320 Hz, the Russian one
660 Hz; listeners decode the Opus they get and name the pitch of every 20 ms frame.
Timings are measured and printed; the bounds the issue sets (a switch heard within
500 ms, no gap over 200 ms at a hand-over) are asserted as the issue asks.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from signaling.auth import Grant, Role
from streaming.errors import BadRequest
from streaming.ports import LanguageEvent
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Publisher, needs_network
from tests.tone_peers import (
    FLOOR_HZ,
    JA2_HZ,
    JA_HZ,
    RU_HZ,
    Listener,
    listen,
    publish_tone,
)
from web.keys import AUTHORITY

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
SWITCH_BOUND = 0.5  # the issue: a language switch is heard within 500 ms
GAP_BOUND = 0.2  # the issue: no gap over 200 ms at the listener during a hand-over


def interpreter_token(server: MediaServer, name: str, language: str, channel: str = CHANNEL) -> str:
    grant = Grant(identity=name, role=Role.INTERPRETER, channels=(channel,), language=language)
    return str(server.app[AUTHORITY].mint(grant, ttl=600))


class Events:
    """A language listener that keeps what it hears."""

    def __init__(self) -> None:
        self.seen: list[LanguageEvent] = []

    def language_changed(self, event: LanguageEvent) -> None:
        self.seen.append(event)


@pytest.fixture
async def peers() -> AsyncIterator[list[Publisher | Listener]]:
    made: list[Publisher | Listener] = []
    yield made
    for peer in reversed(made):
        await peer.close() if isinstance(peer, Listener) else await peer.pc.close()


async def _floor(server: MediaServer, peers: list[Publisher | Listener]) -> Publisher:
    floor = await publish_tone(
        server.http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=120
    )
    peers.append(floor)
    await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor publisher")
    return floor


async def _interpreter(
    server: MediaServer, peers: list[Publisher | Listener], name: str, language: str, hz: int
) -> Publisher:
    url = f"{server.url}/whip/{CHANNEL}?lang={language}"
    token = interpreter_token(server, name, language)
    interpreter = await publish_tone(server.http, url, token, hz)
    peers.append(interpreter)
    return interpreter


async def _switch(http: aiohttp.ClientSession, location: str, language: str | None) -> None:
    body = json.dumps({"lang": language})
    headers = {"Content-Type": "application/json"}
    async with http.post(location + "/language", data=body, headers=headers) as response:
        assert response.status == 204, await response.text()


def _on_air(server: MediaServer, language: str) -> str | None:
    booth = {b.language: b for b in server.hub._languages.booths(CHANNEL)}
    return booth[language].on_air if language in booth else None


async def test_a_listener_hears_its_language_and_switches_without_renegotiation(
    media_server: MediaServer, peers: list[Publisher | Listener]
) -> None:
    server, http = media_server, media_server.http
    events = Events()
    server.hub.add_language_listener(events)
    await _floor(server, peers)
    ja = await _interpreter(server, peers, "Akiko Sato", "ja", JA_HZ)
    await eventually(lambda: _on_air(server, "ja") == "Akiko Sato", "the ja interpreter on air")
    await _interpreter(server, peers, "Ivan Petrov", "ru", RU_HZ)
    await eventually(lambda: _on_air(server, "ru") == "Ivan Petrov", "the ru interpreter on air")

    listener = await listen(http, f"{server.url}/whep/{CHANNEL}?lang=ja", video=True)
    peers.append(listener)
    await eventually(lambda: listener.hears(JA_HZ), "880 Hz (ja) at a ?lang=ja player")
    floor_player = await listen(http, f"{server.url}/whep/{CHANNEL}")
    peers.append(floor_player)
    await eventually(lambda: floor_player.hears(FLOOR_HZ), "440 Hz at a floor player")

    # Switch to ru, then to the floor, then back to ja: each heard within the bound.
    measured: dict[str, float] = {}
    for language, hz in (("ru", RU_HZ), (None, FLOOR_HZ), ("ja", JA_HZ)):
        asked = time.monotonic()
        await _switch(http, listener.location, language)
        await eventually(lambda hz=hz: listener.hears(hz, 3), f"{hz} Hz after the switch")
        heard = listener.first_since(asked, hz)
        assert heard is not None
        measured[str(language)] = heard - asked
    print(json.dumps({"metric": "language_switch_heard_s", **measured}))
    # A language the event does not name: 400, and the player keeps what it had.
    async with http.post(listener.location + "/language", data='{"lang": "de"}') as response:
        assert response.status == 400
        assert "not a language of this event" in await response.text()
    assert max(measured.values()) < SWITCH_BOUND, measured
    assert listener.pc.connectionState == "connected"

    # The interpreter leaves: the floor at once; a new one comes: ja again.
    left = time.monotonic()
    await ja.pc.close()
    await eventually(lambda: listener.hears(FLOOR_HZ), "the floor once ja has nobody")
    print(json.dumps({"metric": "floor_after_interpreter_left_s", "s": time.monotonic() - left}))
    await _interpreter(server, peers, "Kenji Mori", "ja", JA2_HZ)
    await eventually(lambda: listener.hears(JA2_HZ), "the next ja interpreter")

    on_air = [(e.language, e.interpreter) for e in events.seen if e.channel == CHANNEL]
    assert on_air == [
        ("ja", "Akiko Sato"),
        ("ru", "Ivan Petrov"),
        ("ja", None),
        ("ja", "Kenji Mori"),
    ]


async def test_the_floor_when_the_language_has_no_interpreter(
    media_server: MediaServer, peers: list[Publisher | Listener]
) -> None:
    server = media_server
    await _floor(server, peers)
    listener = await listen(server.http, f"{server.url}/whep/{CHANNEL}?lang=ko")
    peers.append(listener)
    await eventually(lambda: listener.hears(FLOOR_HZ, 10), "the floor for ko (nobody on air)")


async def test_booth_hand_over_leaves_no_gap(
    media_server: MediaServer, peers: list[Publisher | Listener]
) -> None:
    server, http = media_server, media_server.http
    await _floor(server, peers)
    await _interpreter(server, peers, "Akiko Sato", "ja", JA_HZ)
    await _interpreter(server, peers, "Kenji Mori", "ja", JA2_HZ)
    await eventually(
        lambda: (
            [b.connected for b in server.hub._languages.booths(CHANNEL)]
            == [("Akiko Sato", "Kenji Mori")]
        ),
        "both ja interpreters in the booth",
    )
    listener = await listen(http, f"{server.url}/whep/{CHANNEL}?lang=ja")
    peers.append(listener)
    # The first to connect is on air.
    await eventually(lambda: listener.hears(JA_HZ, 25), "half a second of the first interpreter")

    headers = {"Authorization": f"Bearer {interpreter_token(server, 'Kenji Mori', 'ja')}"}
    asked = time.monotonic()
    async with http.post(f"{server.url}/api/interpret/{CHANNEL}/ja/take", headers=headers) as r:
        assert r.status == 204, await r.text()
    await eventually(lambda: listener.hears(JA2_HZ, 25), "half a second of the second one")
    heard = listener.first_since(asked, JA2_HZ)
    assert heard is not None
    gap = listener.longest_gap(asked - 0.5, time.monotonic())
    print(json.dumps({"metric": "hand_over", "heard_after_s": heard - asked, "longest_gap_s": gap}))
    assert gap < GAP_BOUND, gap

    async with http.get(f"{server.url}/api/interpret/{CHANNEL}", headers=headers) as r:
        assert r.status == 200
        listed = await r.json()
    assert listed["languages"] == [
        {"language": "ja", "connected": ["Akiko Sato", "Kenji Mori"], "on_air": "Kenji Mori"}
    ]


async def test_a_venue_output_plays_its_language(
    media_server: MediaServer, peers: list[Publisher | Listener]
) -> None:
    server, http = media_server, media_server.http
    await _floor(server, peers)
    await _interpreter(server, peers, "Akiko Sato", "ja", JA_HZ)
    await _interpreter(server, peers, "Ivan Petrov", "ru", RU_HZ)
    operator = Grant(identity="op-tokyo", role=Role.OPERATOR, venue="jp")
    projector = await listen(
        http,
        f"{server.url}/whep/venue/jp",
        video=True,
        token=server.app[AUTHORITY].mint(operator, ttl=600),
    )
    peers.append(projector)
    server.hub.route("jp", CHANNEL)
    # Japan's output plays Japanese by default (Venue.language in the event).
    assert server.hub.venue_output("jp").language == "ja"
    await eventually(lambda: projector.hears(JA_HZ), "the ja interpreter on the jp projector")
    server.hub.set_output_language("jp", "ru")
    assert server.hub.venue_output("jp").language == "ru"
    await eventually(lambda: projector.hears(RU_HZ), "ru on the jp projector")
    with pytest.raises(BadRequest, match="not a language of this event"):
        server.hub.set_output_language("jp", "de")
    assert server.hub.venue_output("jp").language == "ru"
    server.hub.set_output_language("jp", None)
    await eventually(lambda: projector.hears(FLOOR_HZ), "the floor on the jp projector")
    # The language stays across video switches: away and back, still the floor... and ja.
    server.hub.set_output_language("jp", "ja")
    server.hub.route("jp", None)
    server.hub.route("jp", CHANNEL)
    await eventually(lambda: projector.hears(JA_HZ), "ja again after the output was re-routed")
    assert projector.pc.connectionState == "connected"
