from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from config import Event, Settings
from streaming.hub import MediaHub
from tests.helpers import local_settings
from web.app import create_app
from web.keys import MEDIA
from web.server import start_server

PRODUCER_SECRET = "test-producer-secret-0123456789"


@dataclass
class MediaServer:
    url: str
    app: web.Application
    http: aiohttp.ClientSession

    @property
    def hub(self) -> MediaHub:
        return self.app[MEDIA]


@pytest.fixture
def media_settings(tmp_path: Path) -> Settings:
    return local_settings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", producer_secret=PRODUCER_SECRET
    )


@pytest.fixture
async def media_server(
    media_settings: Settings, reference_event: Event
) -> AsyncIterator[MediaServer]:
    app = create_app(media_settings, reference_event)
    # The same server construction as ``venuebridge serve`` (edge limits included).
    server = await start_server(app, media_settings, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield MediaServer(f"http://127.0.0.1:{server.port}", app, http)
    finally:
        await server.aclose()
