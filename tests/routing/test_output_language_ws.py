"""A venue output's language over the websocket: who may set it, what is refused, that the
matrix and the media plane follow, that it survives a restart, and the interpreting export."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config import Event, Settings, SettingsError, load_settings
from signaling.hub import HubOptions
from signaling.protocol.budget import MessageRate
from signaling.qa.limits import Limits, Rate
from streaming.ports import LanguageEvent
from tests.control.support import Node
from tests.helpers import eventually
from tests.routing.test_restart_state import restart_settings, run_node
from web.hub_options import hub_options_for
from web.keys import INTERPRETING, MEDIA

__all__ = ["restart_settings"]


def jp_language(frames: list[dict[str, Any]]) -> str | None:
    """What the last routing frame says jp's output plays."""
    last = [f for f in frames if f["type"] == "routing"][-1]
    language: str | None = next(v["language"] for v in last["venues"] if v["venue"] == "jp")
    return language


async def test_director_and_own_operator_set_it_others_are_refused(node: Node) -> None:
    watcher = await node.connect()
    await watcher.request({"type": "watch_routing"})
    assert jp_language(watcher.frames) == "ja"  # the event file's default
    assert node.app[MEDIA].venue_output("jp").language == "ja"

    director = await node.connect(node.token("director", "Director Wang"))
    ack = await director.ok({"type": "set_output_language", "venue": "jp", "language": "ko"})
    assert (ack["of"], ack["venue"], ack["language"], ack["changed"]) == (
        "set_output_language",
        "jp",
        "ko",
        True,
    )
    await eventually(lambda: jp_language(watcher.frames) == "ko", "the matrix to say ko")
    assert node.app[MEDIA].venue_output("jp").language == "ko"

    operator = await node.connect(node.token("operator", "Op Sato", venue="jp"))
    ack = await operator.ok({"type": "set_output_language", "venue": "jp", "language": None})
    assert ack["language"] is None
    await eventually(lambda: jp_language(watcher.frames) is None, "the matrix to say floor")
    assert node.app[MEDIA].venue_output("jp").language is None

    # Refusals change nothing.
    kr_operator = await node.connect(node.token("operator", "Op Kim", venue="kr"))
    refusals = [
        (kr_operator, {"venue": "jp", "language": "ko"}, "forbidden"),
        (watcher, {"venue": "jp", "language": "ko"}, "forbidden"),
        (director, {"venue": "mars", "language": "ko"}, "not_found"),
        (director, {"venue": "jp", "language": "fr"}, "bad_language"),
    ]
    for client, fields, code in refusals:
        reply = await client.request({"type": "set_output_language", **fields})
        assert (reply["type"], reply["code"]) == ("error", code), fields
        assert reply["message"]
    # Not shaped like a language code: refused at the edge (no ref to echo there).
    for n, junk in enumerate(("Japanese", 7), start=len(director.of_type("error")) + 1):
        message = {"type": "set_output_language", "venue": "jp", "language": junk}
        await director.ws.send_str(json.dumps(message))
        await eventually(lambda: len(director.of_type("error")) >= n, "a refusal")  # noqa: B023
        assert director.of_type("error")[-1]["code"] == "bad_message"
    assert jp_language(watcher.frames) is None
    assert node.app[MEDIA].venue_output("jp").language is None
    # kr's operator still sets kr's own.
    await kr_operator.ok({"type": "set_output_language", "venue": "kr", "language": "en"})


@pytest.fixture
def hub_options() -> HubOptions:
    lots = Rate(burst=10_000, per_minute=10_000)
    return HubOptions(
        limits=Limits(lots, lots, lots, lots, language_per_identity=Rate(3, 1)),
        messages=MessageRate(burst=100_000, per_second=100_000.0),
    )


async def test_changes_are_rate_limited(node: Node) -> None:
    operator = await node.connect(node.token("operator", "Op Busy", venue="jp"))
    codes = []
    for language in ("ko", "en", "ru", "zh"):
        reply = await operator.request(
            {"type": "set_output_language", "venue": "jp", "language": language}
        )
        codes.append(reply.get("code", reply["type"]))
    assert codes == ["ack", "ack", "ack", "rate_limited"]
    assert node.app[MEDIA].venue_output("jp").language == "ru"


async def test_the_language_survives_a_restart(
    restart_settings: Settings, reference_event: Event
) -> None:
    event = dataclasses.replace(reference_event, id=f"lang-{uuid.uuid4().hex[:8]}")

    async def before(node: Node) -> None:
        director = await node.connect(node.token("director", "Director Wang"))
        await director.ok({"type": "set_output_language", "venue": "jp", "language": "ko"})
        operator = await node.connect(node.token("operator", "Op Ivanov", venue="cis"))
        await operator.ok({"type": "set_output_language", "venue": "cis", "language": None})

    await run_node(restart_settings, event, before)

    async def after(node: Node) -> tuple[dict[str, Any], dict[str, str | None]]:
        response = await node.http.get(
            "/api/routing", headers={"Authorization": f"Bearer {node.token('director', 'D')}"}
        )
        media = node.app[MEDIA]
        return await response.json(), {v: media.venue_output(v).language for v in ("jp", "cis")}

    matrix, media_languages = await run_node(restart_settings, event, after)
    languages = {v["venue"]: v["language"] for v in matrix["venues"]}
    assert (languages["jp"], languages["cis"], languages["kr"]) == ("ko", None, "ko")
    assert media_languages == {"jp": "ko", "cis": None}


async def test_interpreting_export_has_the_turns(node: Node) -> None:
    # No publisher here, so no output airs the channel: the venues column stays empty
    # (it is filled in tests/integration/test_output_language_e2e.py and the unit tests).
    director_token = node.token("director", "Director Wang")
    recorder = node.app[INTERPRETING]
    start = datetime.now(UTC)
    for seconds, language, interpreter in (
        (0, "ja", "Aiko Tanaka"),
        (60, "ru", "Oleg Petrov"),
        (600, "ja", "Ben Mori"),  # hand-over in the ja booth
        (900, "ja", None),
    ):
        at = start + timedelta(seconds=seconds)
        recorder.language_changed(LanguageEvent("gz-hall-1", language, interpreter, at))
    await recorder.flush()

    headers = {"Authorization": f"Bearer {director_token}"}
    response = await node.http.get("/api/records/interpreting.csv", headers=headers)
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    turns = {(r["language"], r["interpreter"]): r for r in rows}
    assert set(turns) == {("ja", "Aiko Tanaka"), ("ru", "Oleg Petrov"), ("ja", "Ben Mori")}
    assert float(turns[("ja", "Aiko Tanaka")]["minutes"]) == 10.0
    assert float(turns[("ja", "Ben Mori")]["minutes"]) == 5.0
    assert turns[("ru", "Oleg Petrov")]["open"] == "True"
    assert {r["venues"] for r in rows} == {""}
    assert {r["channel"] for r in rows} == {"gz-hall-1"}

    for token, status in ((None, 401), (node.token("operator", "Op", venue="jp"), 403)):
        denied = await node.http.get(
            "/api/records/interpreting.csv",
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        assert denied.status == status
    page = await node.http.get("/records", headers=headers)
    assert "Aiko Tanaka" in await page.text()


def test_the_language_change_limits_are_settings(tmp_path: Path) -> None:
    """Each ``[limits] language_...`` setting reaches the limiter the command uses."""
    path = tmp_path / "settings.toml"
    path.write_text(
        "[limits]\nlanguage_burst_per_identity = 4\n"
        "language_changes_per_identity_per_minute = 9\nlanguage_burst_per_address = 11\n"
    )
    environ = {"VENUEBRIDGE_LIMITS_LANGUAGE_CHANGES_PER_ADDRESS_PER_MINUTE": "77"}
    limits = hub_options_for(load_settings(path, environ)).limits
    assert limits.language_per_identity == Rate(burst=4, per_minute=9)
    assert limits.language_per_address == Rate(burst=11, per_minute=77)
    # The defaults are the numbers docs/control-plane.md states: 10 at once, 30 a minute.
    defaults = hub_options_for(Settings()).limits
    assert defaults.language_per_identity == Rate(burst=10, per_minute=30)
    assert defaults.language_per_address == Rate(burst=30, per_minute=120)
    with pytest.raises(SettingsError, match=r"limits\.language_burst_per_identity"):
        load_settings(environ={"VENUEBRIDGE_LIMITS_LANGUAGE_BURST_PER_IDENTITY": "0"})
