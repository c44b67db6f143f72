"""Admission control for WHEP sessions (issue 10, finding 3): caps, set-up rate, reaping.

The limits are settings (``media.*``); each is asserted here at its configured number,
with its status (429 for one address, 503 for the server or a channel) and Retry-After.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from config import Event, MediaSettings, SettingsError, load_settings
from signaling.auth import Grant, Role
from streaming.admission import CAP_RETRY_AFTER, Admission, AdmissionLimits
from streaming.errors import OverCapacity, TooManyRequests
from tests.helpers import eventually, local_settings
from tests.obs_offer import OBS_OFFER
from web.app import create_app
from web.keys import AUTHORITY, MEDIA

PLAYER_OFFER = OBS_OFFER.replace("a=sendonly", "a=recvonly")

# -- the sans-I/O core -------------------------------------------------------------------


def _limits(**changes: int) -> AdmissionLimits:
    values = {
        "max_sessions": 100,
        "max_sessions_per_feed": 100,
        "max_sessions_per_address": 100,
        "setup_per_minute": 6000,
        "setup_burst": 1000,
    }
    values.update(changes)
    return AdmissionLimits(**values)


def test_per_address_cap_is_429_and_a_release_frees_a_slot() -> None:
    admission = Admission(_limits(max_sessions_per_address=3))
    tickets = [admission.admit("192.0.2.1", "venue:jp", 0.0) for _ in range(3)]
    with pytest.raises(TooManyRequests) as refused:
        admission.admit("192.0.2.1", "venue:jp", 0.0)
    assert refused.value.retry_after == CAP_RETRY_AFTER
    admission.admit("192.0.2.2", "venue:jp", 0.0)  # another address is not affected
    admission.release(tickets[0])
    admission.admit("192.0.2.1", "venue:jp", 0.0)
    assert admission.total == 4
    assert admission.refused == {"per_address": 1}


def test_total_and_per_feed_caps_are_503() -> None:
    admission = Admission(_limits(max_sessions=5, max_sessions_per_feed=3))
    for n in range(3):
        admission.admit(f"192.0.2.{n}", "venue:jp", 0.0)
    with pytest.raises(OverCapacity, match="venue:jp"):
        admission.admit("192.0.2.9", "venue:jp", 0.0)
    admission.admit("192.0.2.10", "venue:kr", 0.0)
    admission.admit("192.0.2.11", "venue:kr", 0.0)
    with pytest.raises(OverCapacity, match="server"):
        admission.admit("192.0.2.12", "venue:us", 0.0)
    assert admission.refused == {"per_channel": 1, "total": 1}


def test_setup_rate_is_a_token_bucket_per_address() -> None:
    admission = Admission(_limits(setup_per_minute=60, setup_burst=3))
    tickets = [admission.admit("192.0.2.1", "venue:jp", 10.0) for _ in range(3)]
    with pytest.raises(TooManyRequests, match="too fast") as refused:
        admission.admit("192.0.2.1", "venue:jp", 10.0)
    assert refused.value.retry_after == 1  # one per second refills
    admission.admit("192.0.2.2", "venue:jp", 10.0)
    for ticket in tickets:
        admission.release(ticket)  # ending sessions does not refill the bucket
    with pytest.raises(TooManyRequests):
        admission.admit("192.0.2.1", "venue:jp", 10.5)
    admission.admit("192.0.2.1", "venue:jp", 11.0)
    assert admission.refused == {"setup_rate": 2}


# -- over HTTP ---------------------------------------------------------------------------


class Servers:
    """Starts servers with chosen ``media`` settings; clients from chosen 127.0.0.x."""

    def __init__(self, stack: AsyncExitStack, tmp_path: Path, event: Event) -> None:
        self._stack, self._tmp_path, self._event = stack, tmp_path, event

    async def start(self, media: MediaSettings) -> tuple[str, web.Application]:
        data_dir = self._tmp_path / "data"
        settings = local_settings(host="127.0.0.1", port=0, data_dir=data_dir, media=media)
        app = create_app(settings, self._event)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        self._stack.push_async_callback(server.close)
        return str(server.make_url("")).rstrip("/"), app

    def connect(self, address: str) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
        self._stack.push_async_callback(session.close)
        return session


@pytest.fixture
async def servers(tmp_path: Path, reference_event: Event) -> AsyncIterator[Servers]:
    async with AsyncExitStack() as stack:
        yield Servers(stack, tmp_path, reference_event)


def _director(app: web.Application) -> dict[str, str]:
    grant = Grant(identity="test-director", role=Role.DIRECTOR)
    token = app[AUTHORITY].mint(grant, ttl=600)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}


async def _play(
    http: aiohttp.ClientSession, base: str, venue: str, headers: dict[str, str]
) -> tuple[int, str | None, str | None]:
    async with http.post(f"{base}/whep/venue/{venue}", data=PLAYER_OFFER, headers=headers) as r:
        await r.read()
        return r.status, r.headers.get("Retry-After"), r.headers.get("Location")


async def test_caps_over_http(servers: Servers) -> None:
    media = MediaSettings(
        max_sessions=6, max_sessions_per_channel=4, max_sessions_per_address=3, setup_burst=50
    )
    base, app = await servers.start(media)
    headers = _director(app)
    one, two, three = (
        servers.connect("127.0.0.2"),
        servers.connect("127.0.0.3"),
        servers.connect("127.0.0.4"),
    )

    statuses = [await _play(one, base, "jp", headers) for _ in range(4)]
    assert [s for s, _, _ in statuses] == [201, 201, 201, 429]
    assert statuses[3][1] == str(CAP_RETRY_AFTER)

    # jp has 3; one more from another address fills it to 4, the next is 503.
    assert (await _play(two, base, "jp", headers))[0] == 201
    status, retry_after, _ = await _play(two, base, "jp", headers)
    assert (status, retry_after) == (503, str(CAP_RETRY_AFTER))

    # Total 6: two more on kr, then the server is full for everyone.
    assert (await _play(two, base, "kr", headers))[0] == 201
    assert (await _play(three, base, "kr", headers))[0] == 201
    status, retry_after, _ = await _play(three, base, "kr", headers)
    assert (status, retry_after) == (503, str(CAP_RETRY_AFTER))
    assert app[MEDIA].admitted == 6
    async with one.get(f"{base}/metrics") as r:
        metrics = await r.text()
    for reason in ("per_address", "per_channel", "total"):
        assert f'venuebridge_media_sessions_refused_total{{reason="{reason}"}} 1.0' in metrics

    # Ending a session gives its slot back.
    location = statuses[0][2]
    assert location is not None
    async with one.delete(location) as r:
        assert r.status == 200
    assert app[MEDIA].admitted == 5
    assert (await _play(three, base, "kr", headers))[0] == 201


async def test_setup_rate_over_http(servers: Servers) -> None:
    media = MediaSettings(setup_rate_per_minute=2, setup_burst=3)
    base, app = await servers.start(media)
    headers = _director(app)
    client = servers.connect("127.0.0.5")
    results = [await _play(client, base, "jp", headers) for _ in range(4)]
    assert [s for s, _, _ in results] == [201, 201, 201, 429]
    retry_after = results[3][1]
    assert retry_after is not None
    assert 1 <= int(retry_after) <= 30
    # Another address has its own bucket.
    assert (await _play(servers.connect("127.0.0.6"), base, "jp", headers))[0] == 201


async def test_sessions_that_never_connect_are_reaped(servers: Servers) -> None:
    base, app = await servers.start(MediaSettings(connect_timeout_seconds=1))
    headers = _director(app)
    client = servers.connect("127.0.0.7")
    status, _, location = await _play(client, base, "jp", headers)
    assert status == 201
    assert location is not None
    hub = app[MEDIA]
    assert len(hub.subscribers()) == 1
    await eventually(lambda: hub.subscribers() == (), "the unconnected session to be reaped", 5)
    assert (hub.admitted, hub.reaped) == (0, 1)
    async with client.get(f"{base}/metrics") as r:
        assert "venuebridge_media_sessions_reaped_total 1.0" in await r.text()
    async with client.delete(location) as r:
        assert r.status == 404


# -- settings ----------------------------------------------------------------------------


def test_media_settings_from_file_and_environment(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text("[media]\nmax_sessions = 40\nmax_sessions_per_address = 7\n")
    settings = load_settings(file, {"VENUEBRIDGE_MEDIA_SETUP_BURST": "9"})
    assert settings.media == MediaSettings(
        max_sessions=40, max_sessions_per_address=7, setup_burst=9
    )
    assert load_settings().media == MediaSettings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VENUEBRIDGE_MEDIA_MAX_SESSIONS", "0"),
        ("VENUEBRIDGE_MEDIA_MAX_SESSIONS_PER_CHANNEL", "-1"),
        ("VENUEBRIDGE_MEDIA_MAX_SESSIONS_PER_ADDRESS", "0"),
        ("VENUEBRIDGE_MEDIA_SETUP_RATE_PER_MINUTE", "0"),
        ("VENUEBRIDGE_MEDIA_SETUP_BURST", "0"),
        ("VENUEBRIDGE_MEDIA_CONNECT_TIMEOUT_SECONDS", "0"),
        ("VENUEBRIDGE_MEDIA_MAX_SESSIONS", "many"),
    ],
)
def test_bad_media_settings_name_the_key(name: str, value: str) -> None:
    key = "media." + name.removeprefix("VENUEBRIDGE_MEDIA_").lower()
    with pytest.raises(SettingsError) as error:
        load_settings(None, {name: value})
    assert key in str(error.value) or name in str(error.value)
