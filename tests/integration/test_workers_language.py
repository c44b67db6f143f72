"""``workers = 2``: an operator's ``set_output_language`` that lands on worker 1 is carried
to worker 0 (which runs routing), and worker 1's own copy of the output follows; an
interpreter publishing to worker 1 is recorded by worker 0 (``booth-on-air``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.control.support import WsClient
from tests.helpers import eventually
from tests.integration.server_process import SECRET
from tests.integration.test_redis_restart_nodes import VENUE, cli_token
from tests.integration.test_workers import both_private_urls, claimed, node, streams
from tests.integration.worker_node import CHANNEL, WorkerNode
from tests.media_peers import needs_network
from tests.tone_peers import FLOOR_HZ, RU_HZ, publish_tone

pytestmark = [pytest.mark.network, needs_network]

__all__ = ["node"]


async def test_an_operator_on_the_other_worker_sets_the_language(
    node: WorkerNode, tmp_path: Path
) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    operator = await cli_token(
        tmp_path / "data", node.redis_url, "--role", "operator", "--venue", VENUE
    )
    viewer = await WsClient.connect(http, f"{second}/ws")
    console = await WsClient.connect(http, f"{second}/ws", operator)
    try:
        await viewer.ok({"type": "watch_routing"})
        ack = await console.ok({"type": "set_output_language", "venue": VENUE, "language": "ru"})
        assert ack["changed"] is True

        def language_seen() -> str | None:
            frames = viewer.of_type("routing")
            rows = frames[-1]["venues"] if frames else []
            return next((v["language"] for v in rows if v["venue"] == VENUE), "?")

        await eventually(lambda: language_seen() == "ru", "worker 1's viewer to see ru", 15)

        async def output_language(base: str) -> object:
            venues = (await streams(http, base))["venues"]
            assert isinstance(venues, list)
            return next(v["language"] for v in venues if v["id"] == VENUE)

        for base in (first, second):

            async def plays_ru(base: str = base) -> bool:
                return await output_language(base) == "ru"

            await eventually(plays_ru, f"the jp output of {base} to play ru", 15)
    finally:
        await viewer.ws.close()
        await console.ws.close()


async def test_an_interpreter_on_the_other_worker_is_recorded(
    node: WorkerNode, tmp_path: Path
) -> None:
    http = node.server.http
    first, second = await both_private_urls(node)
    data, redis = tmp_path / "data", node.redis_url
    interpreter = await cli_token(
        data, redis, "--role", "interpreter", "--channel", CHANNEL, "--lang", "ru", "--name",
        "Oleg Petrov",
    )  # fmt: skip
    director = await cli_token(data, redis, "--role", "director")
    floor = await publish_tone(http, f"{second}/whip/{CHANNEL}", SECRET, FLOOR_HZ, video_luma=90)
    await claimed(node, 1)
    booth = await publish_tone(http, f"{second}/whip/{CHANNEL}?lang=ru", interpreter, RU_HZ)
    try:

        async def recorded() -> bool:
            headers = {"Authorization": f"Bearer {director}"}
            async with http.get(f"{first}/api/records/interpreting.json", headers=headers) as r:
                assert r.status == 200, await r.text()
                turns = (await r.json())["turns"]
            return [(t["channel"], t["language"], t["interpreter"]) for t in turns] == [
                (CHANNEL, "ru", "Oleg Petrov")
            ]

        await eventually(recorded, "worker 0 to record the turn on worker 1", 15)
    finally:
        await booth.pc.close()
        await floor.pc.close()
