"""Talkback between a venue's operators and the directors, over the real websocket."""

from __future__ import annotations

import pytest

from signaling.auth.grants import Grant, Role
from signaling.errors import Forbidden, Refused
from signaling.hub import HubOptions
from signaling.qa.limits import Limits, Rate
from signaling.talkback import hears_talkback, talkback_text, talkback_venue
from tests.control.support import Node
from tests.control.test_nodes import two_nodes
from tests.helpers import eventually


async def test_operator_and_director_talk_both_ways(node: Node) -> None:
    jp = await node.connect(node.token("operator", "jp-op", venue="jp"))
    us = await node.connect(node.token("operator", "us-op", venue="us"))
    director = await node.connect(node.token("director", "dir"))
    viewer = await node.connect()

    reply = await jp.ok({"type": "talkback", "text": "  Projector  is <b>dark</b> "})
    assert reply["venue"] == "jp"
    await eventually(lambda: bool(director.of_type("talkback")), "the director to hear jp")
    line = director.of_type("talkback")[0]
    assert (line["venue"], line["from"], line["identity"]) == ("jp", "operator", "jp-op")
    assert line["text"] == "Projector is <b>dark</b>"  # data, kept as typed (trimmed)

    await director.ok({"type": "talkback", "venue": "jp", "text": "Cutting to hall 2"})
    await eventually(lambda: len(jp.of_type("talkback")) == 2, "jp to hear the director")
    assert jp.of_type("talkback")[1]["from"] == "director"
    # Other venues and viewers hear nothing.
    await us.ok({"type": "talkback", "text": "us here"})
    await eventually(lambda: len(director.of_type("talkback")) == 3, "the director to hear us")
    assert [f["venue"] for f in jp.of_type("talkback")] == ["jp", "jp"]
    assert viewer.of_type("talkback") == []


async def test_talkback_is_refused_to_others_and_checked(node: Node) -> None:
    viewer = await node.connect()
    assert (await viewer.request({"type": "talkback", "venue": "jp", "text": "hi"}))[
        "code"
    ] == "forbidden"
    jp = await node.connect(node.token("operator", "jp-op2", venue="jp"))
    other = await jp.request({"type": "talkback", "venue": "us", "text": "hi"})
    assert other["code"] == "forbidden"
    director = await node.connect(node.token("director", "dir2"))
    assert (await director.request({"type": "talkback", "text": "hi"}))["code"] == "empty"
    nowhere = await director.request({"type": "talkback", "venue": "mars", "text": "hi"})
    assert nowhere["code"] == "not_found"
    long = await jp.request({"type": "talkback", "text": "x" * 501})
    assert long["code"] == "too_long"


@pytest.fixture
def hub_options() -> HubOptions:
    lots = Rate(burst=10_000, per_minute=10_000)
    return HubOptions(
        limits=Limits(lots, lots, lots, lots, talkback_per_identity=Rate(2, 1)),
    )


async def test_talkback_is_rate_limited(node: Node) -> None:
    jp = await node.connect(node.token("operator", "jp-op3", venue="jp"))
    codes = [
        (await jp.request({"type": "talkback", "text": f"line {i}"}))["type"] for i in range(3)
    ]
    assert codes == ["ack", "ack", "error"]
    assert jp.frames[-1]["code"] == "rate_limited"


def test_pure_rules() -> None:
    operator = Grant("o", Role.OPERATOR, venue="kr")
    assert talkback_venue(operator, None) == "kr"
    with pytest.raises(Forbidden):
        talkback_venue(Grant("m", Role.MODERATOR, sessions=("*",)), "kr")
    with pytest.raises(Refused):
        talkback_text(" \n ")
    assert hears_talkback(Grant("d", Role.DIRECTOR), "kr")
    assert hears_talkback(operator, "kr")
    assert not hears_talkback(operator, "jp")


async def test_talkback_crosses_nodes(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    operator = await a.connect(a.token("operator", "kr-op", venue="kr"))
    director = await b.connect(b.token("director", "dir-b"))
    await operator.ok({"type": "talkback", "text": "Seoul is ready"})
    await eventually(lambda: bool(director.of_type("talkback")), "the line on the other node")
    await director.ok({"type": "talkback", "venue": "kr", "text": "Thanks, Seoul"})
    await eventually(lambda: len(operator.of_type("talkback")) == 2, "the answer back on node a")
    assert [f["text"] for f in operator.of_type("talkback")] == ["Seoul is ready", "Thanks, Seoul"]


__all__ = ["two_nodes"]
