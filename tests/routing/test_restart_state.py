"""What directors and operators set survives a restart on the same data dir or Redis:
a manual route, paused automation, a failover choice and the talkback history."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings
from tests.control.support import Node
from tests.helpers import eventually, local_settings
from web.app import create_app


@pytest.fixture(params=["sqlite", "redis"])
def restart_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    settings = local_settings(host="127.0.0.1", port=0, data_dir=tmp_path / "data")
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        settings = dataclasses.replace(settings, redis_url=url)
    return settings


async def run_node(settings: Settings, event: Event, work: Any) -> Any:
    """Start a node, do ``work(node)``, stop it cleanly; what ``work`` returned."""
    app = create_app(settings, event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        return await work(Node(client))


async def test_routes_pauses_choices_and_talkback_come_back(
    restart_settings: Settings, reference_event: Event
) -> None:
    # Its own event id: nothing left on the shared Redis by other tests.
    event = dataclasses.replace(reference_event, id=f"restart-{uuid.uuid4().hex[:8]}")

    async def before(node: Node) -> None:
        director = await node.connect(node.token("director", "Director Wang"))
        operator = await node.connect(node.token("operator", "Op Sato", venue="jp"))
        await director.ok({"type": "route", "venue": "us", "channel": "gz-hall-5"})
        await director.ok({"type": "set_automation", "venue": "kr", "on": False})
        await director.ok({"type": "use_source", "channel": "gz-hall-1", "source": "backup"})
        for n in range(3):
            await operator.ok({"type": "talkback", "text": f"Tokyo line {n}"})
        await director.ok({"type": "talkback", "venue": "jp", "text": "Copy, Tokyo"})

    await run_node(restart_settings, event, before)

    async def after(node: Node) -> tuple[dict[str, Any], list[Any], list[Any], list[Any]]:
        director = await node.connect(node.token("director", "Director Li"))
        operator = await node.connect(node.token("operator", "Op Kim", venue="kr"))
        response = await node.http.get(
            "/api/routing", headers={"Authorization": f"Bearer {node.token('director', 'D')}"}
        )
        matrix = await response.json()
        await eventually(lambda: bool(director.of_type("talkback_history")), "the history")
        return (
            matrix,
            director.of_type("talkback_history"),
            operator.of_type("talkback_history"),
            (await node.connect()).of_type("talkback_history"),
        )

    matrix, director_history, kr_history, viewer_history = await run_node(
        restart_settings, event, after
    )
    venues = {v["venue"]: v for v in matrix["venues"]}
    assert venues["us"]["requested"]["channel"] == "gz-hall-5"
    assert venues["us"]["requested"]["by"] == "Director Wang"
    assert venues["us"]["held_by_director"] is True
    assert venues["kr"]["automation"] == "paused"
    assert venues["jp"]["automation"] == "on"
    [history] = director_history
    lines = [(line["name"], line["venue"], line["text"]) for line in history["lines"]]
    assert lines == [
        ("Op Sato", "jp", "Tokyo line 0"),
        ("Op Sato", "jp", "Tokyo line 1"),
        ("Op Sato", "jp", "Tokyo line 2"),
        ("Director Wang", "jp", "Copy, Tokyo"),
    ]
    assert kr_history == []  # another venue's operator hears none of it
    assert viewer_history == []


async def test_the_failover_choice_is_applied_again_at_start(
    settings: Settings, reference_event: Event
) -> None:
    chosen: list[tuple[str, str]] = []

    async def choose(node: Node) -> None:
        director = await node.connect(node.token("director", "Director Wang"))
        reply = await director.ok(
            {"type": "use_source", "channel": "gz-hall-1", "source": "backup"}
        )
        assert (reply["of"], reply["channel"], reply["source"]) == (
            "use_source",
            "gz-hall-1",
            "backup",
        )

    await run_node(settings, reference_event, choose)

    async def check(node: Node) -> None:
        from web.keys import ROUTING

        routing = node.app[ROUTING]
        chosen.extend(routing.source_choices().items())

    await run_node(settings, reference_event, check)
    assert chosen == [("gz-hall-1", "backup")]


async def test_use_source_is_for_directors(node: Node) -> None:
    operator = await node.connect(node.token("operator", "Op Sato", venue="jp"))
    refused = await operator.request(
        {"type": "use_source", "channel": "gz-hall-1", "source": "backup"}
    )
    assert refused["code"] == "forbidden"
    director = await node.connect(node.token("director", "Director Wang"))
    unknown = await director.request({"type": "use_source", "channel": "mars", "source": "backup"})
    assert unknown["code"] == "not_found"
    # A source other than primary or backup is refused at the edge, like any bad message.
    await director.ws.send_json({"type": "use_source", "channel": "gz-hall-1", "source": "third"})
    unanswered = [f for f in director.of_type("error") if "ref" not in f]
    await eventually(
        lambda: len(unanswered) < sum("ref" not in f for f in director.of_type("error")),
        "the refusal",
    )
    assert [f for f in director.of_type("error") if "ref" not in f][-1]["code"] == "bad_message"
