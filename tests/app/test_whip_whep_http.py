"""WHIP/WHEP HTTP semantics (RFC 9725): every status code the endpoints answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config import Event, IceSettings
from signaling.auth import Grant, Role
from streaming.errors import NotFound
from tests.helpers import eventually, local_settings
from tests.media_peers import needs_network
from tests.obs_offer import OBS_OFFER
from web.app import create_app
from web.keys import AUTHORITY, MEDIA

Client = TestClient[web.Request, web.Application]
SECRET = "whip-test-secret-0123456789"
AUTH = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/sdp"}


@pytest.fixture
async def media_client(tmp_path: Path, reference_event: Event) -> AsyncIterator[Client]:
    settings = local_settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        producer_secret=SECRET,
        ice=IceSettings(
            stun_urls=("stun:stun.example.net:3478",),
            turn_urls=("turn:turn.example.net:3478?transport=udp",),
            turn_secret="coturn-secret",
        ),
    )
    app = create_app(settings, reference_event)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


def token(client: Client, role: Role, **scope: object) -> dict[str, str]:
    """A real role token from the running app's authority, as a Bearer header."""
    assert client.app is not None
    grant = Grant(identity=f"test-{role}", role=role, **scope)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {client.app[AUTHORITY].mint(grant, ttl=600)}"}


async def post_obs(client: Client, path: str = "/whip/gz-hall-1") -> web.StreamResponse:
    return await client.post(path, data=OBS_OFFER, headers=AUTH)  # type: ignore[return-value]


async def test_obs_shaped_offer_gets_201_answer_location_etag_links(media_client: Client) -> None:
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=AUTH)
    body = await response.text()
    assert response.status == 201, body
    assert response.content_type == "application/sdp"
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:")
    session_id = location.rsplit("/", 1)[1]
    assert "/whip/gz-hall-1/" in location
    assert len(session_id) >= 24
    assert response.headers["ETag"].startswith('"')
    links = response.headers.getall("Link")
    assert '<stun:stun.example.net:3478>; rel="ice-server"' in links
    turn = next(link for link in links if link.startswith("<turn:"))
    assert 'username="' in turn
    assert 'credential="' in turn
    assert 'credential-type="password"' in turn
    assert "a=rtpmap:96 H264/90000" in body
    assert "a=rtpmap:111 opus/48000/2" in body
    assert "a=recvonly" in body
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # DELETE ends it: 200, and then it is gone.
    path = location.removeprefix(str(media_client.make_url("")).rstrip("/"))
    deleted = await media_client.delete(path)
    assert deleted.status == 200
    assert (await media_client.delete(path)).status == 404


@pytest.mark.network
@needs_network
async def test_obs_shaped_offer_is_answered_with_candidates(media_client: Client) -> None:
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=AUTH)
    body = await response.text()
    assert response.status == 201, body
    assert "a=candidate:" in body
    assert " typ host" in body


async def test_options_answers_cors_and_accept_post(media_client: Client) -> None:
    for path in ("/whip/gz-hall-1", "/whep/gz-hall-1", "/whep/venue/jp"):
        response = await media_client.options(path)
        assert response.status == 204
        assert response.headers["Accept-Post"] == "application/sdp"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        assert "Location" in response.headers["Access-Control-Expose-Headers"]
        # The pages learn their STUN/TURN servers here, before they gather candidates.
        links = response.headers.getall("Link")
        assert '<stun:stun.example.net:3478>; rel="ice-server"' in links
        turn = next(link for link in links if link.startswith("<turn:"))
        assert 'username="' in turn
        assert 'credential="' in turn
    # A session URL's OPTIONS is a plain preflight: no credentials there.
    response = await media_client.options("/whep/gz-hall-1/nosuchsession")
    assert "Link" not in response.headers


async def test_wrong_content_type_is_415(media_client: Client) -> None:
    headers = {**AUTH, "Content-Type": "text/plain"}
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=headers)
    assert response.status == 415
    assert "application/sdp" in await response.text()
    response = await media_client.post("/whep/gz-hall-1", data=OBS_OFFER)
    assert response.status == 415


@pytest.mark.parametrize(
    "body",
    ["hello", "v=0\r\ns=-\r\n", "v=0\r\nm=video\r\n", b"\xff\xfe not utf-8"],
    ids=["not-sdp", "no-media", "bad-m-line", "not-utf8"],
)
async def test_malformed_sdp_is_400(media_client: Client, body: str | bytes) -> None:
    response = await media_client.post("/whip/gz-hall-1", data=body, headers=AUTH)
    assert response.status == 400
    assert response.content_type == "text/plain"


async def test_missing_fingerprint_is_400(media_client: Client) -> None:
    offer = "\r\n".join(line for line in OBS_OFFER.split("\r\n") if "fingerprint" not in line)
    response = await media_client.post("/whip/gz-hall-1", data=offer, headers=AUTH)
    assert response.status == 400
    assert "fingerprint" in await response.text()


def _with_second_video(offer: str) -> str:
    video = offer[offer.index("m=video") :].replace("a=mid:1", "a=mid:2")
    return offer + video


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        (OBS_OFFER.replace("H264/90000", "VP9/90000"), "H264"),
        (OBS_OFFER.replace("packetization-mode=1", "packetization-mode=0"), "packetization"),
        (OBS_OFFER.replace("opus/48000/2", "PCMU/8000"), "Opus"),
        (_with_second_video(OBS_OFFER), "at most one"),
        (OBS_OFFER.replace("a=sendonly", "a=recvonly"), "sendonly"),
    ],
    ids=["wrong-codec", "wrong-packetization", "no-opus", "two-videos", "recvonly"],
)
async def test_unsupported_offers_are_422(media_client: Client, offer: str, reason: str) -> None:
    response = await media_client.post("/whip/gz-hall-1", data=offer, headers=AUTH)
    assert response.status == 422
    assert reason in await response.text()


async def test_missing_token_is_401_and_wrong_token_403(media_client: Client) -> None:
    headers = {"Content-Type": "application/sdp"}
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    headers["Authorization"] = "Basic Zm9vOmJhcg=="
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=headers)
    assert response.status == 401
    headers["Authorization"] = "Bearer not-the-secret"
    response = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=headers)
    assert response.status == 403


async def test_unknown_channel_venue_and_session_are_404(media_client: Client) -> None:
    assert (await media_client.post("/whip/mars", data=OBS_OFFER, headers=AUTH)).status == 404
    headers = {"Content-Type": "application/sdp"}
    assert (await media_client.post("/whep/mars", data="v=0", headers=headers)).status == 404
    director = {**headers, **token(media_client, Role.DIRECTOR)}
    assert (await media_client.post("/whep/venue/mars", data="v=0", headers=director)).status == 404
    assert (await media_client.delete("/whip/gz-hall-1/nope")).status == 404
    response = await media_client.patch(
        "/whip/gz-hall-1/nope", data="", headers={"Content-Type": "application/trickle-ice-sdpfrag"}
    )
    assert response.status == 404


def _player_offer() -> str:
    return OBS_OFFER.replace("a=sendonly", "a=recvonly")


async def test_channel_not_live_is_409_with_retry_after(media_client: Client) -> None:
    headers = {"Content-Type": "application/sdp"}
    response = await media_client.post("/whep/gz-hall-2", data=_player_offer(), headers=headers)
    assert response.status == 409
    assert int(response.headers["Retry-After"]) > 0


async def test_venue_output_always_accepts_its_operator(media_client: Client) -> None:
    headers = {"Content-Type": "application/sdp"}
    response = await media_client.post("/whep/venue/jp", data=_player_offer(), headers=headers)
    assert response.status == 401  # a venue output is not public
    other = {**headers, **token(media_client, Role.OPERATOR, venue="kr")}
    response = await media_client.post("/whep/venue/jp", data=_player_offer(), headers=other)
    assert response.status == 403
    headers.update(token(media_client, Role.OPERATOR, venue="jp"))
    response = await media_client.post("/whep/venue/jp", data=_player_offer(), headers=headers)
    assert response.status == 201, await response.text()
    assert "a=sendonly" in await response.text()
    assert "/whep/venue/jp/" in response.headers["Location"]


async def test_player_without_the_event_codec_is_422(media_client: Client) -> None:
    offer = _player_offer().replace("H264/90000", "VP8/90000")
    headers = {"Content-Type": "application/sdp", **token(media_client, Role.DIRECTOR)}
    response = await media_client.post("/whep/venue/jp", data=offer, headers=headers)
    assert response.status == 422
    assert "H264" in await response.text()


async def test_patch_trickle_if_match_and_ice_restart(media_client: Client) -> None:
    created = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=AUTH)
    assert created.status == 201
    path = "/whip/gz-hall-1/" + created.headers["Location"].rsplit("/", 1)[1]
    etag = created.headers["ETag"]
    trickle = {"Content-Type": "application/trickle-ice-sdpfrag", "If-Match": etag}
    fragment = (
        "a=ice-ufrag:PLLl\r\na=ice-pwd:6yXGa9xNoU2fUnXi8Fe4Xo\r\na=mid:0\r\n"
        "a=candidate:1 1 UDP 2122252543 192.0.2.10 50000 typ host\r\n"
    )
    response = await media_client.patch(path, data=fragment, headers=trickle)
    assert response.status == 204
    wrong_type = {**trickle, "Content-Type": "application/sdp"}
    assert (await media_client.patch(path, data=fragment, headers=wrong_type)).status == 415
    stale = {**trickle, "If-Match": '"stale"'}
    assert (await media_client.patch(path, data=fragment, headers=stale)).status == 412
    restart = fragment.replace("PLLl", "NEW1")
    response = await media_client.patch(path, data=restart, headers=trickle)
    assert response.status == 422
    assert "ICE restart" in await response.text()
    broken = "a=candidate:1 1 UDP nope\r\n"
    assert (await media_client.patch(path, data=broken, headers=trickle)).status == 400


async def test_route_needs_a_director_or_the_ingest_key(media_client: Client) -> None:
    path = "/api/venues/jp/route"
    assert (await media_client.post(path, json={"channel": "gz-hall-1"})).status == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (
        await media_client.post(path, json={"channel": "gz-hall-1"}, headers=wrong)
    ).status == 403
    good = {"Authorization": f"Bearer {SECRET}"}
    response = await media_client.post(path, json={"channel": "gz-hall-1"}, headers=good)
    assert response.status == 202
    assert (await response.json())["routed"] == "gz-hall-1"
    matrix = await (await media_client.get("/api/routing")).json()
    jp = next(v for v in matrix["venues"] if v["venue"] == "jp")
    assert jp["requested"]["by"] == "ingest key"
    assert (await media_client.post(path, json={"channel": "mars"}, headers=good)).status == 404
    assert (await media_client.post(path, data="nope", headers=good)).status == 400
    assert (await media_client.post("/api/venues/mars/route", json={}, headers=good)).status == 404
    operator = token(media_client, Role.OPERATOR, venue="jp")
    assert (await media_client.post(path, json={"channel": None}, headers=operator)).status == 403
    director = token(media_client, Role.DIRECTOR)
    response = await media_client.post(path, json={"channel": "gz-hall-2"}, headers=director)
    assert response.status == 202
    hub = media_client.app[MEDIA] if media_client.app else None
    assert hub is not None
    assert hub.venue_output("jp").routed_channel == "gz-hall-2"


async def test_the_ingest_key_is_a_grant_that_directs_but_never_moderates(
    media_client: Client,
) -> None:
    key = {"Authorization": f"Bearer {SECRET}"}
    assert (await media_client.get("/api/records.json", headers=key)).status == 200
    moderate = await media_client.get("/moderate/overseas-talents-summit", headers=key)
    assert moderate.status == 403
    # Invite links are signed tokens only: the key is not put into a cookie.
    assert (await media_client.get("/join", params={"token": SECRET})).status == 401


async def test_streams_and_metrics(media_client: Client) -> None:
    created = await media_client.post("/whip/gz-hall-1", data=OBS_OFFER, headers=AUTH)
    assert created.status == 201
    streams = await (await media_client.get("/api/streams")).json()
    assert streams["video_codec"] == "H264"
    assert [p["channel"] for p in streams["publishers"]] == ["gz-hall-1"]
    assert {c["id"] for c in streams["channels"]} >= {"gz-hall-1", "us-return"}
    assert {v["id"] for v in streams["venues"]} == {"gz", "us", "eu", "jp", "kr", "cis"}
    metrics = await (await media_client.get("/metrics")).text()
    assert 'venuebridge_media_channel_live{channel="gz-hall-1"} 0.0' in metrics
    assert "venuebridge_media_time_to_first_frame_seconds_count" in metrics


async def test_hub_snapshots_follow_sessions_as_they_come_and_go(media_client: Client) -> None:
    assert media_client.app is not None
    hub = media_client.app[MEDIA]
    assert (await post_obs(media_client)).status == 201
    headers = {"Content-Type": "application/sdp", **token(media_client, Role.OPERATOR, venue="jp")}
    player = await media_client.post("/whep/venue/jp", data=_player_offer(), headers=headers)
    assert player.status == 201
    [publisher] = hub.publishers()
    # Negotiated but no media yet: a session, not yet the channel's publisher.
    assert (publisher.channel, publisher.live) == ("gz-hall-1", False)
    assert hub.channel("gz-hall-1").publisher is None
    [subscriber] = hub.subscribers()
    assert subscriber.feed == "venue:jp"
    assert hub.audience().per_venue == {"jp": 1}
    assert hub.audience().per_channel == {}
    path = player.headers["Location"].removeprefix(str(media_client.make_url("")).rstrip("/"))
    assert (await media_client.delete(path)).status == 200
    assert hub.subscribers() == ()
    assert hub.audience().per_venue == {}


async def test_pages(media_client: Client) -> None:
    publish = await media_client.get("/publish/gz-hall-1")
    assert publish.status == 200
    assert 'data-codec="H264"' in await publish.text()
    watch = await media_client.get("/watch/gz-hall-1")
    assert watch.status == 200
    assert (await media_client.get("/watch/mars")).status == 404
    assert (await media_client.get("/static/webrtc-http.js")).status == 200


async def _session(client: Client, path: str, headers: dict[str, str], offer: str) -> str:
    """Open a WHIP/WHEP session; its URL path (the capability to end it)."""
    sent = {**headers, "Content-Type": "application/sdp"}
    response = await client.post(path, data=offer, headers=sent)
    assert response.status == 201, await response.text()
    return str(response.headers["Location"]).split("://", 1)[1].split("/", 1)[1]


async def _alive(client: Client, location: str) -> bool:
    """Whether the session at ``location`` (its URL path) still exists on the server."""
    assert client.app is not None
    try:
        client.app[MEDIA].session_at(f"/{location}")
    except NotFound:
        return False
    return True


async def test_a_revoked_token_ends_the_media_sessions_it_opened(media_client: Client) -> None:
    """Closing the websocket is not enough: OBS or a hostile holder would keep publishing."""
    assert media_client.app is not None
    mint = media_client.app[AUTHORITY].mint
    revoked = mint(Grant("leaked", Role.PRODUCER, channels=("gz-hall-1",)), ttl=600)
    kept = mint(Grant("kept", Role.PRODUCER, channels=("gz-hall-2",)), ttl=600)
    operator = token(media_client, Role.OPERATOR, venue="jp")
    # Opened while valid, expired by the time of the revocation: it must keep running.
    # Opened first: on a busy machine the other set-ups may take longer than its life.
    expiring = mint(Grant("expiring", Role.PRODUCER, channels=("gz-hall-3",)), ttl=3)
    minted = time.monotonic()
    bearer = lambda value: {"Authorization": f"Bearer {value}"}  # noqa: E731

    expiring_session = await _session(media_client, "/whip/gz-hall-3", bearer(expiring), OBS_OFFER)
    leaked_session = await _session(media_client, "/whip/gz-hall-1", bearer(revoked), OBS_OFFER)
    kept_session = await _session(media_client, "/whip/gz-hall-2", bearer(kept), OBS_OFFER)
    operator_session = await _session(media_client, "/whep/venue/jp", operator, _player_offer())
    ingest_session = await _session(media_client, "/whip/gz-hall-4", AUTH, OBS_OFFER)
    # ``expiring`` is past its exp now (whole seconds: at most 3 after minting).
    await asyncio.sleep(max(0.0, minted + 3.5 - time.monotonic()))

    admin = token(media_client, Role.ADMIN)
    response = await media_client.post("/api/tokens/revoke", json={"token": revoked}, headers=admin)
    assert response.status == 200, await response.text()
    await eventually(
        lambda: _gone(media_client, leaked_session), "the leaked token's session ended"
    )
    for session in (kept_session, expiring_session, operator_session, ingest_session):
        assert await _alive(media_client, session), session

    # Every token of a role: the operator's venue output ends, the rest stay.
    response = await media_client.post(
        "/api/tokens/revoke", json={"role": "operator"}, headers=admin
    )
    assert response.status == 200, await response.text()
    await eventually(lambda: _gone(media_client, operator_session), "the operator's session ended")
    for session in (kept_session, expiring_session, ingest_session):
        assert await _alive(media_client, session), session


async def _gone(client: Client, location: str) -> bool:
    return not await _alive(client, location)
