"""Deep and oversized JSON (issue 10, finding 8) and the per-connection message rate on
``/ws`` (finding 9): clean refusals, at most one log line, and a socket that floods is cut
off."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from config import Event, Settings, SettingsError, load_settings
from signaling.hub import HubOptions
from signaling.protocol.budget import ConnectionBudget, MessageRate, Verdict
from signaling.qa.limits import Limits, Rate
from tests.helpers import eventually
from tests.security.control_support import NO_MESSAGE_LIMIT, ROOM, limits, running_node
from web.app import hub_options_for

DEPTH = 30_000
DEEP_OBJECT = '{"a":' * DEPTH + "1" + "}" * DEPTH
DEEP_ARRAY = "[" * DEPTH + "]" * DEPTH


def _noisy(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


@pytest.mark.parametrize(
    "frame",
    [
        DEEP_OBJECT,
        '{"type":"join","v":1,"room":' + DEEP_OBJECT + "}",
        '{"type":"ask","v":1,"room":"r","text":"t","name":' + DEEP_ARRAY + "}",
    ],
    ids=["deep-object", "deep-field", "deep-array-field"],
)
async def test_deeply_nested_frames_get_bad_message_and_no_traceback(
    settings: Settings,
    reference_event: Event,
    caplog: pytest.LogCaptureFixture,
    frame: str,
) -> None:
    options = HubOptions(messages=NO_MESSAGE_LIMIT, max_message=1024 * 1024)
    async with running_node(settings, reference_event, options) as node:
        client = await node.connect()
        caplog.clear()
        for _ in range(3):
            await client.ws.send_str(frame)
        await eventually(lambda: len(client.of_type("error")) >= 3, "three error frames")
        assert {e["code"] for e in client.of_type("error")} == {"bad_message"}
        assert _noisy(caplog) == []
        assert (await client.request({"type": "join", "room": ROOM}))["type"] == "ack"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/venues/jp/route", DEEP_OBJECT),
        ("/api/venues/jp/route", '{"channel":' + DEEP_ARRAY + "}"),
        ("/api/venues/jp/automation", DEEP_OBJECT),
        ("/api/venues/jp/route", "[1,2]"),
        ("/api/venues/jp/route", "\xff\xfe not json"),
        ("/api/tokens/revoke", DEEP_OBJECT),
        ("/api/tokens/revoke", '{"role":' + DEEP_ARRAY + "}"),
    ],
)
async def test_deep_or_malformed_api_bodies_get_400_and_no_traceback(
    settings: Settings,
    reference_event: Event,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: str,
) -> None:
    async with running_node(settings, reference_event) as node:
        role = "admin" if "tokens" in path else "director"
        headers = {"Authorization": f"Bearer {node.token(role, 'x')}"}
        caplog.clear()
        response = await node.http.post(path, data=body.encode("utf-8", "replace"), headers=headers)
        assert response.status == 400
        assert (await response.json())["error"] == "Bad Request"
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_an_oversized_api_body_is_refused_with_413(
    settings: Settings, reference_event: Event
) -> None:
    async with running_node(settings, reference_event) as node:
        headers = {"Authorization": f"Bearer {node.token('director', 'd')}"}
        body = io.BytesIO(json.dumps({"channel": "x" * (2 * 1024 * 1024)}).encode())
        response = await node.http.post("/api/venues/jp/route", data=body, headers=headers)
        assert response.status == 413


def test_the_budget_refuses_once_then_stays_quiet_then_closes() -> None:
    budget = ConnectionBudget(MessageRate(burst=3, per_second=1.0, refused_before_close=4), 0.0)
    verdicts = [budget.take(1, now=0.0) for _ in range(7)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.REFUSE, Verdict.IGNORE, Verdict.IGNORE] + [
        Verdict.CLOSE
    ]


def test_a_join_costs_more_and_the_bucket_refills() -> None:
    budget = ConnectionBudget(MessageRate(burst=20, per_second=10.0, join_cost=10), 0.0)
    assert budget.take(10, now=0.0) == Verdict.ALLOW
    assert budget.take(10, now=0.0) == Verdict.ALLOW
    assert budget.take(10, now=0.0) == Verdict.REFUSE
    assert budget.take(1, now=0.1) == Verdict.ALLOW  # one frame's worth refilled
    assert budget.take(10, now=1.1) == Verdict.ALLOW  # a second later: ten more


def test_default_message_rate() -> None:
    assert MessageRate() == MessageRate(
        burst=60, per_second=20.0, join_cost=10, refused_before_close=50
    )


async def test_a_socket_flooding_frames_is_told_once_then_closed(
    settings: Settings, reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    # A slow refill, so the flood cannot earn tokens back while the test sends it.
    rate = MessageRate(burst=10, per_second=0.01, refused_before_close=20)
    async with running_node(settings, reference_event, HubOptions(messages=rate)) as node:
        client = await node.connect()
        caplog.clear()
        for _ in range(10 + 19):
            await client.ws.send_str("garbage")
        await eventually(lambda: len(client.of_type("error")) >= 11, "ten replies and a refusal")
        errors = client.of_type("error")
        assert [e["code"] for e in errors] == ["bad_message"] * 10 + ["rate_limited"]
        assert not client.ws.closed
        await client.ws.send_str("garbage")  # the twentieth refused frame in a row
        await eventually(lambda: client.ws.closed, "the server to close the socket")
        assert client.ws.close_code == 1008
        assert len(client.of_type("error")) == 11
        assert len(_noisy(caplog)) == 0  # one INFO line, nothing louder


async def test_a_join_loop_pulls_only_a_bounded_number_of_snapshots(
    settings: Settings, reference_event: Event
) -> None:
    rate = MessageRate(burst=30, per_second=0.01, join_cost=10, refused_before_close=1000)
    options = HubOptions(messages=rate, limits=limits())
    async with running_node(settings, reference_event, options) as node:
        client = await node.connect()
        for _ in range(50):
            await client.ws.send_str(json.dumps({"type": "join", "room": ROOM}))
        await client.ws.send_str(json.dumps({"type": "leave", "room": ROOM, "ref": "last"}))
        await eventually(
            lambda: any(f.get("code") == "rate_limited" for f in client.frames), "a refusal"
        )
        assert len(client.of_type("snapshot")) == 3


def test_the_limits_are_settings_and_reach_the_hub(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        "[limits]\nws_message_burst = 7\nws_join_cost = 3\nws_refused_before_close = 9\n"
        "anonymous_burst_per_address = 40\nvotes_per_address_per_minute = 120\n"
        "suspect_votes_per_address = 12\n"
    )
    options = hub_options_for(
        load_settings(path, {"VENUEBRIDGE_LIMITS_WS_MESSAGES_PER_SECOND": "4"})
    )
    assert options.messages == MessageRate(
        burst=7, per_second=4.0, join_cost=3, refused_before_close=9
    )
    assert options.limits.anonymous_per_address == Rate(burst=40, per_minute=300)
    assert options.limits.vote_per_address == Rate(burst=600, per_minute=120)
    assert options.limits.suspect_votes == 12
    defaults = hub_options_for(Settings())
    assert defaults.messages == MessageRate()
    assert defaults.limits == Limits()
    with pytest.raises(SettingsError, match=r"limits\.ws_join_cost"):
        load_settings(environ={"VENUEBRIDGE_LIMITS_WS_JOIN_COST": "0"})
