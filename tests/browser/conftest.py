"""Chromium through Playwright, and the app on a real port for it to load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from config import Settings
from tests.chromium import CHROMIUM, CHROMIUM_FLAGS
from tests.requirements import require
from web.server import start_server


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require("chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def live_url(app: web.Application, settings: Settings) -> AsyncIterator[str]:
    """The app served on 127.0.0.1 at a free port (as ``venuebridge serve`` serves it)."""
    server = await start_server(app, settings, host="127.0.0.1", port=0)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.aclose()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """Where a test saves its screenshots: test-output/<test name>/ in the repository."""
    root = Path(__file__).resolve().parents[2] / "test-output"
    folder = root / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The media plane's fixtures (a server on the namespace address, its settings).
from tests.integration.conftest import media_server, media_settings  # noqa: E402

__all__ = ["browser", "live_url", "media_server", "media_settings", "shots"]
