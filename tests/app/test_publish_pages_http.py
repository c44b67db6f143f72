"""Where a producer's invite lands, the /publish chooser, and what the publish page knows
about who is signed in; the director page's failover mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from config.settings import FailoverSettings
from signaling.auth import Grant, Role
from tests.control.support import mint
from tests.helpers import local_settings
from web.app import create_app
from web.qa_pages import landing


def test_a_producer_lands_on_the_publish_page_of_their_channel() -> None:
    one = Grant(identity="crew", role=Role.PRODUCER, channels=("gz-hall-3",))
    several = Grant(identity="crew", role=Role.PRODUCER, channels=("gz-hall-1", "gz-hall-2"))
    every = Grant(identity="crew", role=Role.PRODUCER, channels=("*",))
    assert landing(one) == "/publish/gz-hall-3"
    assert landing(several) == "/publish"
    assert landing(every) == "/publish"


async def test_join_signs_the_publish_page_in(client: TestClient[Any, Any]) -> None:
    token = mint(client.server.app, "producer", "Hall 3 crew", channels=["gz-hall-3"])
    response = await client.get(f"/join?token={token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/publish/gz-hall-3"
    page = await (await client.get("/publish/gz-hall-3")).text()
    assert "signed in by your invite link as Hall 3 crew" in page
    assert '<details class="stream-key" >' in page  # folded away: no key needed
    # The page has no token in it: the cookie does the work.
    assert token not in page


async def test_publish_page_without_a_sign_in_offers_the_stream_key(
    client: TestClient[Any, Any],
) -> None:
    page = await (await client.get("/publish/gz-hall-3")).text()
    assert '<details class="stream-key" open>' in page
    assert "Also yours" not in page
    assert (await client.get("/publish/nowhere")).status == 404


async def test_the_chooser_lists_a_producers_channels(client: TestClient[Any, Any]) -> None:
    app = client.server.app
    several = mint(app, "producer", "crew", channels=["gz-hall-1", "gz-hall-2"])
    await client.get(f"/join?token={several}", allow_redirects=False)
    page = await (await client.get("/publish")).text()
    assert 'href="/publish/gz-hall-1"' in page
    assert 'href="/publish/gz-hall-2"' in page
    assert 'href="/publish/gz-hall-3"' not in page
    one = mint(app, "producer", "crew", channels=["gz-hall-4"])
    await client.get(f"/join?token={one}", allow_redirects=False)
    response = await client.get("/publish", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/publish/gz-hall-4"


@pytest.mark.parametrize("mode", ["auto", "confirm"])
async def test_the_director_page_knows_the_failover_mode(
    tmp_path: Path, reference_event: Event, mode: str
) -> None:
    settings = local_settings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", failover=FailoverSettings(mode=mode)
    )
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        token = mint(app, "director", "Director Wang")
        await client.get(f"/join?token={token}", allow_redirects=False)
        page = await (await client.get("/director")).text()
    assert f'data-failover="{mode}"' in page
