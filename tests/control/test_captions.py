"""Captions over the websocket: who may send, the limits, delivery to watchers (across
nodes, on SQLite and on Redis) and lines kept across a restart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from config import Event
from signaling.auth import Grant, Role
from signaling.captions.lines import CaptionLimits
from signaling.captions.log import CaptionLog
from signaling.clients import Client
from signaling.errors import Forbidden
from signaling.hub import Hub, HubOptions
from signaling.protocol.budget import MessageRate
from tests.control.support import Backend, Node
from tests.helpers import eventually

SESSION = "overseas-talents-summit"  # zh, en
TOKYO = "jp-tokyo-exchange"  # ja, zh
LIMITS = CaptionLimits(max_line_chars=40, lines_per_second=2.0, burst_lines=4, history_lines=3)


@pytest.fixture
def hub_options() -> HubOptions:
    return HubOptions(
        presence_interval=0.05,
        messages=MessageRate(burst=100_000, per_second=100_000.0),
        captions=LIMITS,
    )


def _caption(lines: list[str], language: str = "en", session: str = SESSION) -> dict[str, Any]:
    return {"type": "caption", "session": session, "language": language, "lines": lines}


def _watch(language: str | None, session: str = SESSION) -> dict[str, Any]:
    return {"type": "watch_captions", "session": session, "language": language}


async def test_a_captioner_line_reaches_watchers_of_its_language_only(node: Node) -> None:
    captioner = await node.connect(node.token("captioner", "cap-li", sessions=[SESSION]))
    english = await node.connect()
    chinese = await node.connect()
    await english.ok(_watch("en"))
    await chinese.ok(_watch("zh"))
    ack = await captioner.ok(_caption(["Good morning, Guangzhou", "", "Welcome all"]))
    assert ack["seqs"] == [1, 2]
    await eventually(lambda: len(english.of_type("caption")) == 2, "two lines at the viewer")
    texts = [(f["seq"], f["text"], f["by"]) for f in english.of_type("caption")]
    assert texts == [(1, "Good morning, Guangzhou", "cap-li"), (2, "Welcome all", "cap-li")]
    assert not chinese.of_type("caption")
    # A page that starts watching later gets the last lines as history.
    late = await node.connect()
    await late.ok(_watch("en"))
    await eventually(lambda: bool(late.of_type("caption_history")), "history")
    assert [line["text"] for line in late.of_type("caption_history")[0]["lines"]] == [
        "Good morning, Guangzhou",
        "Welcome all",
    ]
    # Watching another language (or none) stops the first.
    await english.ok(_watch(None))
    await captioner.ok(_caption(["After the switch"]))
    await eventually(lambda: len(late.of_type("caption")) == 1, "the line at the late page")
    assert len(english.of_type("caption")) == 2


async def test_only_captioners_of_the_session_and_language_or_directors_send(node: Node) -> None:
    viewer = await node.connect()
    refused = await viewer.request(_caption(["hello"]))
    assert refused["type"] == "error"
    assert refused["code"] == "not_captioner"
    assert "only a captioner of this session" in refused["message"]
    moderator = await node.connect(node.token("moderator", "mod", sessions=[SESSION]))
    assert (await moderator.request(_caption(["hello"])))["code"] == "not_captioner"
    other = await node.connect(node.token("captioner", "cap-x", sessions=[TOKYO]))
    assert (await other.request(_caption(["hello"])))["code"] == "not_captioner"
    director = await node.connect(node.token("director", "dir"))
    await director.ok(_caption(["A director may caption"]))


async def test_a_language_bound_captioner_and_unknown_languages(node: Node) -> None:
    from web.keys import AUTHORITY

    grant = Grant("cap-ja", Role.CAPTIONER, sessions=(TOKYO,), language="ja")
    japanese = await node.connect(str(node.app[AUTHORITY].mint(grant, 3600)))
    await japanese.ok(_caption(["ようこそ東京へ"], language="ja", session=TOKYO))
    wrong = await japanese.request(_caption(["欢迎"], language="zh", session=TOKYO))
    assert wrong["code"] == "not_captioner"
    missing = await japanese.request(_caption(["x"], language="ru", session=TOKYO))
    assert missing["code"] == "no_such_language"
    assert "ja, zh" in missing["message"]
    assert (await japanese.request(_watch("ko", TOKYO)))["code"] == "no_such_language"
    assert (await japanese.request(_watch("en", "no-such-session")))["code"] == "not_found"
    # A malformed language never reaches the service: the edge refuses the frame.
    await japanese.ws.send_str(json.dumps({"v": 1, **_caption(["x"], language="日本")}))
    await eventually(
        lambda: any(f.get("code") == "bad_message" for f in japanese.of_type("error")),
        "the refusal of a malformed language",
    )


async def test_too_long_and_flood_are_refused_with_the_setting_named(node: Node) -> None:
    captioner = await node.connect(node.token("captioner", "cap-li", sessions=[SESSION]))
    watcher = await node.connect()
    await watcher.ok(_watch("en"))
    long = await captioner.request(_caption(["x" * 41]))
    assert long["code"] == "too_long"
    assert "captions.max_line_chars" in long["message"]
    paste = await captioner.request(_caption(["a", "b", "c", "d", "e"]))
    assert paste["code"] == "too_many_lines"
    assert "captions.burst_lines" in paste["message"]
    await captioner.ok(_caption(["one", "two", "three", "four"]))  # the whole burst
    flood = await captioner.request(_caption(["five"]))
    assert flood["code"] == "caption_flood"
    assert "captions.lines_per_second" in flood["message"]
    await eventually(lambda: len(watcher.of_type("caption")) == 4, "the four lines")
    # Refusals kept nothing.
    log = _hub(node).captions.log
    assert [line.text for line in await log.lines(SESSION, "en")] == ["one", "two", "three", "four"]


def _hub(node: Node) -> Hub:
    from web.keys import HUB

    hub: Hub = node.app[HUB]
    return hub


class _Page:
    """A client of a hub built here: frames written to it are decoded and kept."""

    def __init__(self, grant: Grant) -> None:
        self.frames: list[dict[str, Any]] = []
        self.client = Client(grant=grant, address="10.0.0.1", write=self._write)

    def _write(self, wire: bytes) -> None:
        # A server text frame: 2-byte header, or 4 with a 16-bit length (lines are short).
        length = wire[1] & 0x7F
        start = 2 if length < 126 else 4
        self.frames.append(json.loads(wire[start:]))

    def captions(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "caption"]


@pytest.fixture
async def two_hubs(backend: Backend, reference_event: Event) -> AsyncIterator[tuple[Hub, Hub]]:
    options = HubOptions(captions=LIMITS, bus_retry=0.1)
    hubs = (
        Hub(reference_event, backend.store, backend.new_bus(), options, node="a"),
        Hub(reference_event, backend.store, backend.new_bus(), options, node="b"),
    )
    for hub in hubs:
        await hub.start()
    yield hubs
    for hub in hubs:
        await hub.stop()


async def test_lines_cross_nodes_over_the_bus_and_are_kept_once(
    two_hubs: tuple[Hub, Hub], backend: Backend
) -> None:
    a, b = two_hubs
    viewer = _Page(Grant("v", Role.VIEWER))
    b.clients.connect(viewer.client)
    await b.captions.watch(viewer.client, SESSION, "zh")
    captioner = Grant("cap-wang", Role.CAPTIONER, sessions=(SESSION,))
    kept = await a.captions.send(captioner, SESSION, "zh", ["欢迎各位", "海外人才"])
    assert [line.seq for line in kept] == [1, 2]
    await eventually(lambda: viewer.captions() == ["欢迎各位", "海外人才"], f"{backend.name} bus")
    # Both nodes append to one stream: numbers go on without clashing.
    assert [line.seq for line in await b.captions.heard(SESSION, "zh", "第三行", "asr")] == [3]
    await eventually(lambda: len(viewer.captions()) == 3, "the recognizer's line")
    lines = await a.captions.log.lines(SESSION, "zh")
    assert [(line.seq, line.text, line.by) for line in lines] == [
        (1, "欢迎各位", "cap-wang"),
        (2, "海外人才", "cap-wang"),
        (3, "第三行", "asr"),
    ]
    with pytest.raises(Forbidden):
        await b.captions.send(Grant("v", Role.VIEWER), SESSION, "zh", ["no"])


async def test_lines_survive_a_restart_of_the_store(backend: Backend) -> None:
    log = CaptionLog(backend.store, "coet2018")
    await log.append(SESSION, "en", ["kept across restarts"], at=1000.5, by="cap")
    reopened = await backend.reopen()
    try:
        lines = await CaptionLog(reopened, "coet2018").lines(SESSION, "en")
    finally:
        if reopened is not backend.store:
            await reopened.aclose()
    assert [(line.seq, line.text, line.at, line.by) for line in lines] == [
        (1, "kept across restarts", 1000.5, "cap")
    ]
