"""``/api/nodes`` and ``/healthz`` on the embedded default: the directory is this node."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event
from config.settings import NodeSettings
from signaling.auth import Grant, Role
from streaming.ports import SourceEvent
from tests.helpers import local_settings
from web.adapters import SourcesToDirectory
from web.app import create_app
from web.keys import AUTHORITY, DIRECTORY

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path, reference_event: Event) -> AsyncIterator[Client]:
    settings = local_settings(
        data_dir=tmp_path / "data",
        public_url="https://gz.example.org",
        node=NodeSettings(id="gz-origin", region="cn"),
    )
    async with TestClient(TestServer(create_app(settings, reference_event))) as test_client:
        yield test_client


def bearer(client: Client, role: Role) -> dict[str, str]:
    scope = {
        Role.OPERATOR: {"venue": "jp"},
        Role.MODERATOR: {"sessions": ("opening",)},
        Role.PRODUCER: {"channels": ("gz-hall-1",)},
    }.get(role, {})
    grant = Grant(identity=f"{role.value}-1", role=role, **scope)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {client.app[AUTHORITY].mint(grant, ttl=600)}"}


def source(channel: str, state: str) -> SourceEvent:
    return dataclasses.replace(
        SourceEvent(channel, "live", "primary", False, datetime.now(UTC)),
        state=state,  # type: ignore[arg-type]
    )


async def test_healthz_names_the_node_and_its_region(client: Client) -> None:
    body = await (await client.get("/healthz")).json()
    assert (body["node"], body["region"]) == ("gz-origin", "cn")


async def test_the_node_list_needs_a_director_or_admin(client: Client) -> None:
    assert (await client.get("/api/nodes")).status == 401
    for role in (Role.VIEWER, Role.OPERATOR, Role.MODERATOR, Role.PRODUCER):
        response = await client.get("/api/nodes", headers=bearer(client, role))
        assert response.status == 403, role
    forged = {"Authorization": "Bearer not.a.token"}
    assert (await client.get("/api/nodes", headers=forged)).status == 403
    for role in (Role.DIRECTOR, Role.ADMIN):
        assert (await client.get("/api/nodes", headers=bearer(client, role))).status == 200


async def test_the_embedded_directory_is_this_node_and_follows_its_sources(
    client: Client,
) -> None:
    # The media hub's source events, as web/app.py wires them (no publisher needed here).
    listener = SourcesToDirectory(client.app[DIRECTORY])
    listener.source_changed(source("gz-hall-1", "live"))
    listener.source_changed(source("gz-stage", "live"))
    listener.source_changed(source("gz-stage", "lost"))
    body = await (await client.get("/api/nodes", headers=bearer(client, Role.DIRECTOR))).json()
    assert body["node"] == "gz-origin"
    [me] = body["nodes"]
    assert (me["id"], me["region"], me["url"], me["channels"]) == (
        "gz-origin",
        "cn",
        "https://gz.example.org",
        ["gz-hall-1"],
    )
    assert me["age_seconds"] == 0.0
    listener.source_changed(source("gz-hall-1", "idle"))
    body = await (await client.get("/api/nodes", headers=bearer(client, Role.ADMIN))).json()
    assert body["nodes"][0]["channels"] == []
