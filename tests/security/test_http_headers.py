"""Security headers on every answer, no server banner, and pages that live under the CSP."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config import Event, Settings
from web.app import create_app
from web.server import start_server

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
PATHS = [
    "/",
    "/healthz",
    "/api/schedule",
    "/static/site.css",
    "/static/venue/console.js",
    "/stage/roadshow",
    "/nowhere",
    "/venue/jp",
    "/api/records.json",
]


@pytest.mark.parametrize("path", PATHS)
async def test_every_answer_carries_the_security_headers(
    client: TestClient[Any, Any], path: str
) -> None:
    response = await client.get(path, allow_redirects=False)
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Permissions-Policy" not in headers  # camera and microphone stay usable
    server = headers.get("Server", "")
    assert "Python" not in server
    assert "aiohttp" not in server


def test_templates_have_no_inline_script_or_handlers() -> None:
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert 'src="' in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name
        assert " style=" not in html, template.name


async def test_a_malformed_request_gets_400_and_one_log_line(
    settings: Settings, reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(create_app(settings, reference_event), settings)
    try:
        with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), timeout=5)
            writer.close()
    finally:
        await server.aclose()
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert "aiohttp" not in head
    assert "Python" not in head
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(records) == 1
    (record,) = records
    assert record.exc_info is None
    assert record.levelname == "WARNING"
    message = record.getMessage()
    assert message.startswith("bad request from 127.0.0.1: ")
    assert "\n" not in message
