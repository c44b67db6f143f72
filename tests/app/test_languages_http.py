"""Language tracks over HTTP: who may publish a language, what a bad language gets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, MediaSettings, Settings, SettingsError, load_settings
from signaling.auth import Grant, Role
from signaling.hub import HubOptions
from tests.helpers import local_settings
from tests.obs_offer import OBS_OFFER
from tests.security.control_support import NO_MESSAGE_LIMIT, running_node
from web.app import create_app
from web.cli import main
from web.keys import AUTHORITY

Client = TestClient[web.Request, web.Application]
SECRET = "languages-test-secret-0123456789"
SDP = {"Content-Type": "application/sdp"}
# OBS's offer without its video section: what an interpreter's page sends.
AUDIO_ONLY = OBS_OFFER.split("m=video")[0].replace(" 0 1\r\n", " 0\r\n")
AUDIO_ONLY_PLAY = AUDIO_ONLY.replace("a=sendonly", "a=recvonly")


@pytest.fixture
async def client(tmp_path: Path, reference_event: Event) -> AsyncIterator[Client]:
    settings = local_settings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", producer_secret=SECRET
    )
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


def bearer(client: Client, role: Role, **scope: object) -> dict[str, str]:
    assert client.app is not None
    grant = Grant(identity=f"test-{role}", role=role, **scope)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {client.app[AUTHORITY].mint(grant, ttl=600)}"}


def interpreter(client: Client, language: str = "ja", channel: str = "gz-hall-1") -> dict[str, str]:
    return bearer(client, Role.INTERPRETER, channels=(channel,), language=language)


async def whip(client: Client, query: str, headers: dict[str, str], offer: str = AUDIO_ONLY) -> int:
    response = await client.post(f"/whip/gz-hall-1{query}", data=offer, headers=SDP | headers)
    return response.status


async def test_an_interpreter_publishes_audio_only_into_their_language(client: Client) -> None:
    response = await client.post(
        "/whip/gz-hall-1?lang=ja", data=AUDIO_ONLY, headers=SDP | interpreter(client)
    )
    body = await response.text()
    assert response.status == 201, body
    assert "m=audio" in body
    assert "m=video" not in body
    assert "/whip/gz-hall-1/" in response.headers["Location"]


async def test_only_the_right_interpreter_token_publishes_a_language(client: Client) -> None:
    assert await whip(client, "?lang=ja", {}) == 401
    assert await whip(client, "?lang=ru", interpreter(client, "ja")) == 403
    assert await whip(client, "?lang=ja", interpreter(client, "ja", "gz-hall-2")) == 403
    assert await whip(client, "?lang=ja", bearer(client, Role.VIEWER)) == 403
    assert await whip(client, "?lang=ja", bearer(client, Role.PRODUCER, channels=("*",))) == 403
    assert await whip(client, "?lang=ja", {"Authorization": f"Bearer {SECRET}"}) == 403
    # An interpreter never publishes the floor itself.
    assert await whip(client, "", interpreter(client, "ja")) == 403
    response = await client.post(
        "/whip/gz-hall-1?lang=ru", data=AUDIO_ONLY, headers=SDP | interpreter(client, "ja")
    )
    assert "does not interpret channel 'gz-hall-1' into 'ru'" in await response.text()


async def test_bad_languages_get_400(client: Client) -> None:
    for bad in ("JA", "j", "ja_JP", "x" * 40, "ja%20ru", ""):
        assert await whip(client, f"?lang={bad}", interpreter(client)) == 400, bad
    for bad in ("JA", "x" * 40, "ja;ru"):
        response = await client.post(
            f"/whep/gz-hall-1?lang={bad}", data=AUDIO_ONLY_PLAY, headers=SDP
        )
        assert response.status == 400, bad
        assert "language code" in await response.text()
    # The event files' rule: ISO 639-1, so a country code is caught with a hint.
    response = await client.post("/whep/gz-hall-1?lang=jp", data=AUDIO_ONLY_PLAY, headers=SDP)
    assert response.status == 400
    assert "did you mean 'ja'?" in await response.text()
    # A well-formed code the event does not name (and no interpreter made): 400 too, so
    # listeners cannot make language tracks without end.
    response = await client.post("/whep/gz-hall-1?lang=de", data=AUDIO_ONLY_PLAY, headers=SDP)
    assert response.status == 400
    assert "'de' is not a language of this event (en, ja, ko, ru, zh)" in await response.text()


async def test_an_interpreter_offer_with_video_is_refused(client: Client) -> None:
    response = await client.post(
        "/whip/gz-hall-1?lang=ja", data=OBS_OFFER, headers=SDP | interpreter(client)
    )
    assert response.status == 400
    assert "audio only" in await response.text()


async def test_the_switch_message_needs_the_session_url_and_a_language(client: Client) -> None:
    operator = bearer(client, Role.OPERATOR, venue="jp")
    response = await client.post("/whep/venue/jp", data=AUDIO_ONLY_PLAY, headers=SDP | operator)
    assert response.status == 201, await response.text()
    path = "/" + response.headers["Location"].split("/", 3)[3]
    body = {"Content-Type": "application/json"}
    # A wrong secret is a session that does not exist.
    wrong = await client.post(path[:-3] + "xyz/language", data='{"lang": "ja"}', headers=body)
    assert wrong.status == 404
    for bad in (
        "nonsense",
        "[1]",
        '{"language": "ja"}',
        '{"lang": 5}',
        '{"lang": "JA"}',
    ):
        answer = await client.post(path + "/language", data=bad, headers=body)
        assert answer.status == 400, bad
    too_big = json.dumps({"lang": "ja", "pad": "x" * 400})
    assert (await client.post(path + "/language", data=too_big, headers=body)).status == 413
    # A venue output's language is the director's, not the projector's.
    answer = await client.post(path + "/language", data='{"lang": "ja"}', headers=body)
    assert answer.status == 409


async def test_take_over_and_the_booth_list_are_for_interpreters(client: Client) -> None:
    take = "/api/interpret/gz-hall-1/ja/take"
    assert (await client.post(take)).status == 401
    assert (await client.post(take, headers=interpreter(client, "ru"))).status == 403
    # Without a live session of their own in the booth there is nothing to put on air.
    response = await client.post(take, headers=interpreter(client))
    assert response.status == 409
    assert "no live session" in await response.text()
    assert (await client.post("/api/interpret/nowhere/ja/take")).status == 404

    booth = "/api/interpret/gz-hall-1"
    assert (await client.get(booth)).status == 401
    assert (await client.get(booth, headers=bearer(client, Role.VIEWER))).status == 403
    assert (await client.get(booth, headers=interpreter(client, "ja", "gz-hall-2"))).status == 403
    for allowed in (interpreter(client, "ru"), bearer(client, Role.DIRECTOR)):
        response = await client.get(booth, headers=allowed)
        assert response.status == 200
        # No floor publisher here: floor_live false (an interpreter page stays put).
        expected = {"channel": "gz-hall-1", "floor_live": False, "languages": []}
        assert await response.json() == expected


async def test_the_token_command_mints_an_interpreter(
    settings: Settings, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = HubOptions(messages=NO_MESSAGE_LIMIT, revocation_refresh=0.05)
    async with running_node(settings, reference_event, fast) as node:
        base = ["token", "--role", "interpreter", "--data-dir", str(settings.data_dir)]
        args = [*base, "--channel", "gz-hall-1", "--lang", "ja", "--name", "Akiko Sato"]
        assert await asyncio.to_thread(main, args) == 0
        out = capsys.readouterr()
        grant = node.app[AUTHORITY].verify(out.out.splitlines()[0])
        assert (grant.identity, grant.channels, grant.language) == (
            "Akiko Sato",
            ("gz-hall-1",),
            "ja",
        )
        assert "is interpreted into" not in out.err  # hall 1's opening lists ja
        # A language no session on the channel lists: said, not refused.
        others = [*base, "--channel", "gz-hall-1", "--lang", "de", "--name", "Jan"]
        assert await asyncio.to_thread(main, others) == 0
        assert "no session on gz-hall-1 is interpreted into 'de'" in capsys.readouterr().err
        for wrong, message in (
            (["--channel", "gz-hall-1"], "needs --lang"),
            (["--channel", "gz-hall-1", "--lang", "Japanese"], "needs --lang"),
            (["--channel", "gz-hall-1", "--lang", "jp"], "did you mean 'ja'"),
            (["--lang", "ja"], "exactly one --channel"),
            (["--channel", "nowhere", "--lang", "ja"], "not in this event: nowhere"),
        ):
            assert await asyncio.to_thread(main, [*base, *wrong]) == 2
            assert message in capsys.readouterr().err
        operator = ["token", "--role", "operator", "--venue", "jp", "--lang", "ja"]
        assert await asyncio.to_thread(main, [*operator, "--data-dir", str(settings.data_dir)]) == 2
        assert "only interpreter and captioner tokens carry a language" in capsys.readouterr().err


async def test_the_interpret_page_shows_titles_in_the_readers_language(client: Client) -> None:
    english = await (await client.get("/interpret/gz-hall-1?lang=en")).text()
    chinese = await (await client.get("/interpret/gz-hall-1?lang=zh")).text()
    assert ">Hall 1 - Summit Hall</span>" in english
    assert "1号厅 - 峰会厅" in chinese
    assert (await client.get("/interpret/nowhere")).status == 404


@pytest.fixture
async def tight(tmp_path: Path, reference_event: Event) -> AsyncIterator[Client]:
    """A server whose booths hold 2 sessions and whose players switch 3 times at once."""
    media = MediaSettings(
        max_interpreters_per_booth=2, language_switch_burst=3, language_switches_per_minute=1
    )
    settings = local_settings(data_dir=tmp_path / "data", producer_secret=SECRET, media=media)
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


async def test_a_booth_takes_at_most_max_interpreters_per_booth_sessions(tight: Client) -> None:
    # One token opening sessions without end (a leaked link, a page in a loop).
    for _ in range(2):
        assert await whip(tight, "?lang=ja", interpreter(tight, "ja")) == 201
    refused = await tight.post(
        "/whip/gz-hall-1?lang=ja", data=AUDIO_ONLY, headers=SDP | interpreter(tight, "ja")
    )
    assert refused.status == 503
    assert "booth of gz-hall-1 has 2 interpreter sessions" in await refused.text()
    assert int(refused.headers["Retry-After"]) > 0
    # Another language's booth, or the same language on another channel, has its own room.
    assert await whip(tight, "?lang=ko", interpreter(tight, "ko")) == 201
    other = await tight.post(
        "/whip/gz-hall-2?lang=ja",
        data=AUDIO_ONLY,
        headers=SDP | interpreter(tight, "ja", "gz-hall-2"),
    )
    assert other.status == 201, await other.text()


async def test_a_player_switches_at_most_its_burst_then_per_minute(tight: Client) -> None:
    operator = bearer(tight, Role.OPERATOR, venue="jp")
    response = await tight.post("/whep/venue/jp", data=AUDIO_ONLY_PLAY, headers=SDP | operator)
    assert response.status == 201, await response.text()
    path = "/" + response.headers["Location"].split("/", 3)[3] + "/language"
    body = {"Content-Type": "application/json"}
    statuses = [
        (await tight.post(path, data='{"lang": "ja"}', headers=body)).status for _ in range(4)
    ]
    # Each message in the burst is read (this one is a venue output's: 409); past it, 429.
    assert statuses == [409, 409, 409, 429]
    refused = await tight.post(path, data='{"lang": "ja"}', headers=body)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) == 60


def test_the_booth_and_switch_limits_are_settings(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[media]\nmax_interpreters_per_booth = 3\nlanguage_switch_burst = 4\n")
    environ = {"VENUEBRIDGE_MEDIA_LANGUAGE_SWITCHES_PER_MINUTE": "12"}
    media = load_settings(path, environ).media
    assert (media.max_interpreters_per_booth, media.language_switch_burst) == (3, 4)
    assert media.language_switches_per_minute == 12
    defaults = MediaSettings()
    assert (defaults.max_interpreters_per_booth, defaults.language_switch_burst) == (8, 10)
    assert defaults.language_switches_per_minute == 60
    for key in ("MAX_INTERPRETERS_PER_BOOTH", "LANGUAGE_SWITCH_BURST"):
        with pytest.raises(SettingsError, match=r"media\."):
            load_settings(environ={f"VENUEBRIDGE_MEDIA_{key}": "0"})
