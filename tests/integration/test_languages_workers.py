"""Language tracks with ``workers = 2``: the booth sits beside the floor's worker.

The floor is published to worker 0; an interpreter's WHIP sent to worker 1 is carried to
worker 0 (its session id says so), and a listener of ``?lang=ja`` on worker 1, which pulls
the floor from worker 0, pulls the language from there too and hears the interpreter.
The take-over and booth requests sent to worker 1 reach worker 0 alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.helpers import eventually
from tests.integration.server_process import SECRET
from tests.integration.test_redis_restart_nodes import cli_token
from tests.integration.test_workers import both_private_urls, claimed
from tests.integration.worker_node import CHANNEL, WorkerNode, worker_node
from tests.media_peers import needs_network
from tests.tone_peers import FLOOR_HZ, JA2_HZ, JA_HZ, Listener, listen, publish_tone

pytestmark = [pytest.mark.network, needs_network]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[WorkerNode]:
    async with worker_node(tmp_path) as running:
        yield running


def owner_of(location: str) -> str:
    return urlsplit(location).path.rpartition("/")[2].partition("w")[0]


async def test_an_interpreter_on_another_worker_reaches_the_floors_booth(
    node: WorkerNode, tmp_path: Path
) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    peers: list[Any] = []

    async def token(name: str) -> str:
        scope = ("--role", "interpreter", "--channel", CHANNEL, "--lang", "ja", "--name", name)
        return await cli_token(tmp_path / "data", node.redis_url, *scope)

    async def answering() -> bool:
        # In the directory is not yet listening: a worker under load may write first.
        for base in (first, second):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status != 200:
                        return False
            except aiohttp.ClientError:
                return False
        return True

    await eventually(answering, "both workers answering", 30)
    try:
        floor = await publish_tone(http, f"{first}/whip/{CHANNEL}", SECRET, FLOOR_HZ, video_luma=80)
        peers.append(floor)
        await claimed(node, 0)
        akiko, kenji = await token("Akiko"), await token("Kenji")
        url = f"{second}/whip/{CHANNEL}?lang=ja"
        for hz, who in ((JA_HZ, akiko), (JA2_HZ, kenji)):
            interpreter = await publish_tone(http, url, who, hz)
            peers.append(interpreter)
            # Sent to worker 1, served by worker 0, beside the floor.
            assert owner_of(interpreter.location) == "0"
            assert interpreter.location.startswith(second)

        listener = await listen(http, f"{second}/whep/{CHANNEL}?lang=ja")
        peers.append(listener)
        assert owner_of(listener.location) == "1"
        await eventually(lambda: listener.hears(JA_HZ, 10), "ja on worker 1", 20)

        headers = {"Authorization": f"Bearer {kenji}"}
        take = f"{second}/api/interpret/{CHANNEL}/ja/take"
        async with http.post(take, headers=headers) as response:
            assert response.status == 204, await response.text()
        await eventually(lambda: listener.hears(JA2_HZ, 10), "the hand-over on worker 1", 10)
        async with http.get(f"{second}/api/interpret/{CHANNEL}", headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["languages"] == [
                {"language": "ja", "connected": ["Akiko", "Kenji"], "on_air": "Kenji"}
            ]
        # The switch message reaches worker 1's session from worker 0's listener too.
        body = json.dumps({"lang": None})
        moved = listener.location.replace(second, first)
        async with http.post(moved + "/language", data=body) as response:
            assert response.status == 204, await response.text()
        await eventually(lambda: listener.hears(FLOOR_HZ, 10), "the floor after the switch")
    finally:
        for peer in reversed(peers):
            await peer.close() if isinstance(peer, Listener) else await peer.pc.close()
