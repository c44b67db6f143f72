"""Captions at the HTTP edge: the captioner page's access, the invite landing, the token
command, and the WebVTT export read back by webvtt-py and compared with what was typed."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
from datetime import datetime
from pathlib import Path

import pytest
import webvtt
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings, SettingsError, load_settings
from config.caption_settings import CaptionSettings
from signaling.captions.service import CaptionService
from tests.control.support import Node
from web.app import create_app
from web.backends import open_backends
from web.cli import main
from web.keys import EVENT, HUB

SESSION = "overseas-talents-summit"


async def test_the_caption_page_needs_a_captioner_of_the_session(node: Node) -> None:
    assert (await node.http.get(f"/caption/{SESSION}")).status == 401
    viewer = node.token("viewer", "v")
    refused = await node.http.get(f"/caption/{SESSION}?token={viewer}")
    assert refused.status == 403
    assert "does not caption this session" in await refused.text()
    other = node.token("captioner", "c", sessions=["ip-seminar"])
    assert (await node.http.get(f"/caption/{SESSION}?token={other}")).status == 403
    assert (await node.http.get("/caption/no-such?token=x")).status == 404

    token = node.token("captioner", "cap-li", sessions=[SESSION])
    landing = await node.http.get(f"/join?token={token}", allow_redirects=False)
    assert landing.headers["Location"] == f"/caption/{SESSION}"
    page = await node.http.get(f"/caption/{SESSION}")  # the invite cookie
    assert page.status == 200
    body = await page.text()
    assert 'data-session="overseas-talents-summit"' in body
    assert '<option value="zh">中文</option>' in body
    assert '<option value="en">English</option>' in body


async def test_the_export_matches_what_was_typed(node: Node) -> None:
    captioner = await node.connect(node.token("captioner", "cap-li", sessions=[SESSION]))
    typed = ["Good morning, <everyone> & welcome", "to the Overseas Talents Summit"]
    await captioner.ok(
        {"type": "caption", "session": SESSION, "language": "en", "lines": typed[:1]}
    )
    await captioner.ok(
        {"type": "caption", "session": SESSION, "language": "en", "lines": typed[1:]}
    )
    service: CaptionService = node.app[HUB].captions
    kept = await service.log.lines(SESSION, "en")
    response = await node.http.get(f"/api/sessions/{SESSION}/captions.en.vtt")
    assert response.status == 200
    assert response.content_type == "text/vtt"
    text = await response.text()
    cues = list(webvtt.from_buffer(io.StringIO(text)))
    assert [html.unescape(cue.text) for cue in cues] == typed
    # No airing in the record: times count from the scheduled start, and the file says so.
    assert "NOTE overseas-talents-summit (en); cue times from the scheduled start" in text
    start = _scheduled(node).timestamp()
    first = kept[0].at - start
    assert cues[0].start == _vtt(first)
    assert cues[0].end == _vtt(min(kept[1].at - start, first + service.limits.max_cue_seconds))
    missing = await node.http.get(f"/api/sessions/{SESSION}/captions.ja.vtt")
    assert missing.status == 404
    assert "its languages: zh, en" in await missing.text()
    empty = await node.http.get(f"/api/sessions/{SESSION}/captions.zh.vtt")
    assert (await empty.text()).startswith("WEBVTT")


def _scheduled(node: Node) -> datetime:
    session = node.app[EVENT].session(SESSION)
    assert session is not None
    return session.start


def _vtt(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    return (
        f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:"
        f"{millis // 1000 % 60:02d}.{millis % 1000:03d}"
    )


async def test_token_command_mints_a_captioner(
    tmp_path: Path, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    async with open_backends(Settings(data_dir=data), reference_event) as server:
        authority = server.authority
    args = ["token", "--role", "captioner", "--session", "jp-tokyo-exchange", "--lang", "ja",
            "--name", "Sato", "--data-dir", str(data), "--quiet"]  # fmt: skip
    assert await asyncio.to_thread(main, args) == 0
    grant = authority.verify(capsys.readouterr().out.strip())
    assert (grant.role.value, grant.sessions, grant.language, grant.identity) == (
        "captioner",
        ("jp-tokyo-exchange",),
        "ja",
        "Sato",
    )
    wrong = ["token", "--role", "captioner", "--session", "jp-tokyo-exchange", "--lang", "ru",
             "--data-dir", str(data)]  # fmt: skip
    assert await asyncio.to_thread(main, wrong) == 2
    assert "carries the language 'ru'" in capsys.readouterr().err
    bare = ["token", "--role", "captioner", "--data-dir", str(data)]
    assert await asyncio.to_thread(main, bare) == 2
    assert "captioner token needs --session" in capsys.readouterr().err


async def test_the_public_export_is_limited_per_address(
    settings: Settings, reference_event: Event, tmp_path: Path
) -> None:
    """A stranger asking for the export without end (each one reads every line of the
    session from the store) gets 429 past ``[captions] export_burst``; a bad session
    name costs nothing."""
    limited = dataclasses.replace(
        settings, captions=CaptionSettings(export_burst=2, exports_per_minute=1)
    )
    app = create_app(limited, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        url = f"/api/sessions/{SESSION}/captions.en.vtt"
        assert [(await client.get(url)).status for _ in range(2)] == [200, 200]
        refused = await client.get(url)
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "60"
        assert (await client.get("/api/sessions/no-such/captions.en.vtt")).status == 404


def test_the_export_limits_are_settings(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[captions]\nexport_burst = 5\n")
    environ = {"VENUEBRIDGE_CAPTIONS_EXPORTS_PER_MINUTE": "7"}
    captions = load_settings(path, environ).captions
    assert (captions.export_burst, captions.exports_per_minute) == (5, 7)
    assert (CaptionSettings().export_burst, CaptionSettings().exports_per_minute) == (20, 30)
    with pytest.raises(SettingsError, match=r"captions\.exports_per_minute"):
        load_settings(environ={"VENUEBRIDGE_CAPTIONS_EXPORTS_PER_MINUTE": "0"})
