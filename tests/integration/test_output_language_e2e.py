"""The director's matrix sets a venue output's language and the venue's projector hears it.

Real peers over ICE/DTLS/SRTP: the floor sends 440 Hz, the Japanese interpreter 880 Hz,
the Korean one 1320 Hz (tones and listeners from tests/tone_peers.py). The director sends
``set_output_language`` on the websocket, as the matrix's select does; the projector
subscribed to ``/whep/venue/jp`` must then decode the Korean interpreter's tone. The
records say so too: jp's airing went ja -> ko, and each interpreter's turn names jp.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator

import pytest

from signaling.auth import Grant, Role
from tests.control.support import WsClient
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import Publisher, needs_network
from tests.tone_peers import FLOOR_HZ, JA2_HZ, JA_HZ, Listener, listen, publish_tone
from web.keys import AUTHORITY

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"
KO_HZ = JA2_HZ  # one of the pitches the listener tells apart, given to the Korean booth


def token(server: MediaServer, grant: Grant) -> str:
    return str(server.app[AUTHORITY].mint(grant, ttl=600))


@pytest.fixture
async def peers() -> AsyncIterator[list[Publisher | Listener | WsClient]]:
    made: list[Publisher | Listener | WsClient] = []
    yield made
    for peer in reversed(made):
        if isinstance(peer, Listener | WsClient):
            await peer.close()
        else:
            await peer.pc.close()


async def test_the_matrix_language_reaches_the_projector(
    media_server: MediaServer, peers: list[Publisher | Listener | WsClient]
) -> None:
    server, http = media_server, media_server.http
    floor = await publish_tone(
        http, f"{server.url}/whip/{CHANNEL}", PRODUCER_SECRET, FLOOR_HZ, video_luma=120
    )
    peers.append(floor)
    await eventually(lambda: server.hub.channel(CHANNEL).live, "the floor publisher")
    for name, language, hz in (("Akiko Sato", "ja", JA_HZ), ("Kim Minji", "ko", KO_HZ)):
        grant = Grant(identity=name, role=Role.INTERPRETER, channels=(CHANNEL,), language=language)
        url = f"{server.url}/whip/{CHANNEL}?lang={language}"
        peers.append(await publish_tone(http, url, token(server, grant), hz))

    operator = Grant(identity="op-tokyo", role=Role.OPERATOR, venue="jp")
    projector = await listen(
        http, f"{server.url}/whep/venue/jp", video=True, token=token(server, operator)
    )
    peers.append(projector)

    director_token = token(server, Grant(identity="Director Wang", role=Role.DIRECTOR))
    director = await WsClient.connect(http, f"{server.url}/ws", director_token)
    peers.append(director)
    await director.ok({"type": "watch_routing"})

    def interpreters() -> dict[str, str]:
        frames = director.of_type("routing")
        booths: dict[str, str] = frames[-1]["channels"][CHANNEL]["interpreters"]
        return booths

    # The matrix says who is on air in each booth of the channel.
    await eventually(
        lambda: interpreters() == {"ja": "Akiko Sato", "ko": "Kim Minji"}, "both booths on air"
    )
    await director.ok({"type": "route", "venue": "jp", "channel": CHANNEL})
    # Japan's output plays Japanese by default (the event file's venue language).
    await eventually(lambda: projector.hears(JA_HZ), "the ja interpreter on the jp projector")
    assert not projector.hears(KO_HZ)

    sent = time.monotonic()
    ack = await director.ok({"type": "set_output_language", "venue": "jp", "language": "ko"})
    assert ack["changed"] is True
    await eventually(lambda: projector.hears(KO_HZ), "the ko interpreter on the jp projector")
    heard = projector.first_since(sent, KO_HZ)
    assert heard is not None
    # Measured, not asserted: from the director's message to the first ko frame decoded.
    print(json.dumps({"metric": "matrix_language_to_projector_ms", "value": (heard - sent) * 1e3}))
    assert projector.pc.connectionState == "connected"  # no renegotiation

    headers = {"Authorization": f"Bearer {director_token}"}
    async with http.get(f"{server.url}/api/records.json", headers=headers) as response:
        airings = (await response.json())["airings"]
    jp = next(a for a in airings if a["venue"] == "jp" and a["status"] == "on_air")
    assert [c["language"] for c in jp["languages"]] == ["ja", "ko"]

    async with http.get(f"{server.url}/api/records/interpreting.csv", headers=headers) as r:
        assert r.status == 200
        rows = list(csv.DictReader(io.StringIO(await r.text())))
    by_language = {row["language"]: row for row in rows}
    assert by_language["ja"]["interpreter"] == "Akiko Sato"
    assert by_language["ko"]["interpreter"] == "Kim Minji"
    # jp played ja until the change and ko after it: both turns name jp.
    assert by_language["ja"]["venues"] == "jp"
    assert by_language["ko"]["venues"] == "jp"
