"""aiortc publisher -> venuebridge -> aiortc subscribers, over real ICE/DTLS/SRTP."""

from __future__ import annotations

import pytest

from tests.helpers import eventually
from tests.integration.conftest import PRODUCER_SECRET, MediaServer
from tests.media_peers import needs_network, publish, subscribe

pytestmark = [pytest.mark.network, needs_network]


async def test_one_publisher_two_subscribers_decode(media_server: MediaServer) -> None:
    url = media_server.url
    publisher = await publish(media_server.http, f"{url}/whip/gz-hall-1", PRODUCER_SECRET, 200)
    await eventually(lambda: media_server.hub.sources["gz-hall-1"].live, "publisher live")
    subscribers = [await subscribe(media_server.http, f"{url}/whep/gz-hall-1") for _ in range(2)]
    try:
        await eventually(lambda: all(s.frames > 30 for s in subscribers), "30 frames each")
        assert all(abs((s.last_luma or 0) - 200) < 20 for s in subscribers), [s.last_luma for s in subscribers]
        assert all(s.audio_frames > 0 for s in subscribers)
    finally:
        for s in subscribers:
            await s.close()
        await publisher.pc.close()
