"""Language tracks across relay links: origin -> edge -> edge, tones decoded at the end.

The interpreters publish at the origin; a listener of ``?lang=ja`` on an edge (and on an
edge of that edge) hears the Japanese interpreter, the floor while nobody interprets, and
a switch message there works as at the origin. The edge pulls the language once, ends
the pull when nobody listens, and reports no interpreters of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import Event
from signaling.auth import Grant, Role
from streaming.ports import LanguageEvent
from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET
from tests.integration.test_relay_links import GRACE, Cluster, Node
from tests.media_peers import needs_network
from tests.tone_peers import FLOOR_HZ, JA_HZ, RU_HZ, Listener, listen, publish_tone
from web.keys import AUTHORITY

pytestmark = [pytest.mark.network, needs_network]

CHANNEL = "gz-hall-1"


def _token(node: Node, name: str, language: str) -> str:
    grant = Grant(identity=name, role=Role.INTERPRETER, channels=(CHANNEL,), language=language)
    return str(node.app[AUTHORITY].mint(grant, ttl=600))


@pytest.fixture
async def nodes(tmp_path: Path, reference_event: Event) -> AsyncIterator[Cluster]:
    async with aiohttp.ClientSession() as http:
        made = Cluster(tmp_path, reference_event, http)
        try:
            yield made
        finally:
            await made.aclose()


class Events:
    def __init__(self) -> None:
        self.seen: list[LanguageEvent] = []

    def language_changed(self, event: LanguageEvent) -> None:
        self.seen.append(event)


async def _switch(cluster: Cluster, listener: Listener, language: str | None) -> None:
    body = json.dumps({"lang": language})
    async with cluster.http.post(listener.location + "/language", data=body) as response:
        assert response.status == 204, await response.text()


async def test_a_language_crosses_relay_links(nodes: Cluster) -> None:
    cluster, http = nodes, nodes.http
    origin = await cluster.start("origin")
    edge = await cluster.start("edge", origin)
    far = await cluster.start("far-edge", edge)
    edge_events = Events()
    edge.hub.add_language_listener(edge_events)
    peers: list[Any] = []
    try:
        url = f"{origin.url}/whip/{CHANNEL}"
        floor = await publish_tone(http, url, PRODUCER_SECRET, FLOOR_HZ, video_luma=100)
        peers.append(floor)
        await eventually(lambda: origin.hub.channel(CHANNEL).live, "the floor at the origin")
        ja_url = f"{origin.url}/whip/{CHANNEL}?lang=ja"
        japanese = await publish_tone(http, ja_url, _token(origin, "Akiko", "ja"), JA_HZ)
        peers.append(japanese)
        ru_url = f"{origin.url}/whip/{CHANNEL}?lang=ru"
        russian = await publish_tone(http, ru_url, _token(origin, "Ivan", "ru"), RU_HZ)
        peers.append(russian)

        started = time.monotonic()
        at_edge = await listen(http, f"{edge.url}/whep/{CHANNEL}?lang=ja", video=True)
        peers.append(at_edge)
        await eventually(lambda: at_edge.hears(JA_HZ, 10), "ja at the edge", 15)
        heard = at_edge.first_since(started, JA_HZ)
        assert heard is not None
        print(json.dumps({"metric": "relayed_language_first_heard_s", "s": heard - started}))
        assert edge.hub._language_relays is not None
        assert edge.hub._language_relays.pulls == ((CHANNEL, "ja"),)

        # Two hops: the far edge pulls ja from the edge, which pulls it from the origin.
        at_far = await listen(http, f"{far.url}/whep/{CHANNEL}?lang=ja")
        peers.append(at_far)
        await eventually(lambda: at_far.hears(JA_HZ, 10), "ja two hops away", 15)

        # The switch message at the edge: ru is pulled too; then the floor; then ja again.
        await _switch(cluster, at_edge, "ru")
        await eventually(lambda: at_edge.hears(RU_HZ, 10), "ru at the edge", 10)
        await _switch(cluster, at_edge, None)
        await eventually(lambda: at_edge.hears(FLOOR_HZ, 10), "the floor at the edge")
        await _switch(cluster, at_edge, "ja")
        await eventually(lambda: at_edge.hears(JA_HZ, 10), "ja at the edge again")

        # Nobody listens to ru at the edge any more: its pull ends after the grace.
        await eventually(
            lambda: (
                edge.hub._language_relays is not None
                and (CHANNEL, "ru") not in edge.hub._language_relays.pulls
            ),
            "the ru pull to end",
            GRACE + 5,
        )
        # The interpreter leaves at the origin: the edge's listener hears the floor.
        for leaving in (russian, japanese):
            peers.remove(leaving)
            await leaving.pc.close()
        await eventually(lambda: at_edge.hears(FLOOR_HZ, 10), "the floor once ja has nobody")
        await eventually(lambda: at_far.hears(FLOOR_HZ, 10), "the floor two hops away")
        # The edge has no interpreters of its own: no booth, no language events.
        assert edge.hub._languages.booths(CHANNEL) == ()
        assert edge_events.seen == []
    finally:
        for peer in reversed(peers):
            await peer.close() if isinstance(peer, Listener) else await peer.pc.close()
