from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, Settings, load_event
from tests.helpers import local_settings
from tests.requirements import require
from web.app import create_app

# The redis-server fixture (``redis_url``) for the control-plane and browser tests.
pytest_plugins = ("tests.redis_server",)


def pytest_configure(config: pytest.Config) -> None:
    # ``venuebridge serve`` processes the tests start inherit this: each picks a free
    # media UDP port instead of the default 8189 (tests in-process use local_settings).
    os.environ.setdefault("VENUEBRIDGE_ICE_UDP_PORT", "0")
    config.addinivalue_line(
        "markers",
        "requires(name): needs Chromium, coturn, Caddy, nftables, Node.js or the test network "
        "(tests/requirements.py); skips when missing, fails when CI=true",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires"):
        require(*mark.args)


@pytest.fixture(scope="session")
def reference_event() -> Event:
    return load_event()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return local_settings(host="127.0.0.1", port=0, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings: Settings, reference_event: Event) -> web.Application:
    return create_app(settings, reference_event)


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client
