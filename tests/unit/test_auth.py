"""Tokens, the signing secret, the media plane's hook, rate limits and presence counts."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import jwt
import pytest

from config import Event
from signaling.auth import (
    ALL,
    Credentials,
    Grant,
    Role,
    TokenAuthority,
    TokenMediaAccess,
    ingest_key_grant,
    load_or_create_secret,
)
from signaling.clients import Client
from signaling.errors import RateLimited, Unauthorized
from signaling.presence import PresenceBoard, combine, count
from signaling.protocol import Frame
from signaling.qa.limits import ActionLimiter, Limits, Rate, RateLimiter

SECRET = b"s" * 32
INGEST_KEY = "ingest-key-0123456789"


def test_mint_and_verify_round_trip() -> None:
    authority = TokenAuthority(SECRET, audience="coet2018")
    grant = Grant("mod-1", Role.MODERATOR, sessions=("opening", "ip-seminar"))
    assert authority.verify(authority.mint(grant, ttl=60)) == grant


def test_token_ids_can_be_typed_on_a_command_line() -> None:
    # A urlsafe id could start with "-", which `revoke --token-id ID` takes for an option.
    authority = TokenAuthority(SECRET, audience="coet2018")
    grant = Grant("anna", Role.VIEWER)
    for _ in range(200):
        token_id = authority.verify(authority.mint(grant, ttl=60)).token_id
        assert token_id is not None
        assert re.fullmatch(r"[0-9a-f]{24}", token_id), token_id


def test_expired_forged_and_foreign_tokens_are_refused() -> None:
    authority = TokenAuthority(SECRET, audience="coet2018")
    grant = Grant("v", Role.VIEWER)
    expired = authority.mint(grant, ttl=10, now=time.time() - 100)
    with pytest.raises(Unauthorized) as error:
        authority.verify(expired)
    assert error.value.code == "token_expired"
    other_key = TokenAuthority(b"x" * 32, audience="coet2018").mint(grant, ttl=60)
    other_event = TokenAuthority(SECRET, audience="other").mint(grant, ttl=60)
    unsigned = jwt.encode({"sub": "x", "role": "admin"}, key="", algorithm="none")
    for token in (other_key, other_event, unsigned, "garbage", "", "a" * 5000):
        with pytest.raises(Unauthorized):
            authority.verify(token)


def test_scopes_are_required_and_exclusive() -> None:
    authority = TokenAuthority(SECRET, audience="e")
    for grant in (
        Grant("o", Role.OPERATOR),
        Grant("m", Role.MODERATOR),
        Grant("p", Role.PRODUCER),
        Grant("v", Role.VIEWER, venue="jp"),
    ):
        with pytest.raises(ValueError, match="token"):
            authority.mint(grant, ttl=60)


def test_secret_is_created_once_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data")
    assert len(first) == 32
    assert load_or_create_secret(tmp_path / "data") == first
    assert os.stat(tmp_path / "data" / "signing.key").st_mode & 0o777 == 0o600


def test_media_access(reference_event: Event) -> None:
    authority = TokenAuthority(SECRET, audience=reference_event.id)
    access = TokenMediaAccess(Credentials(authority, INGEST_KEY), reference_event)

    def token(grant: Grant) -> str:
        return authority.mint(grant, ttl=60)

    producer = token(Grant("p", Role.PRODUCER, channels=("gz-hall-1",)))
    operator = token(Grant("o", Role.OPERATOR, venue="jp"))
    viewer = token(Grant("v", Role.VIEWER))
    director = token(Grant("d", Role.DIRECTOR))
    assert access.may_publish(producer, "gz-hall-1")
    assert not access.may_publish(producer, "gz-hall-2")
    assert access.may_publish(operator, "jp-return")
    assert not access.may_publish(operator, "us-return")
    assert not access.may_publish(operator, "gz-hall-1")
    assert not access.may_publish(viewer, "gz-hall-1")
    assert not access.may_publish(None, "gz-hall-1")
    assert access.may_play(viewer, "gz-hall-1")
    assert access.may_play(None, "gz-hall-1")  # programme channels are public
    assert not access.may_play("forged", "gz-hall-1")
    assert not access.may_play(viewer, "jp-return")
    assert access.may_play(director, "jp-return")
    assert access.may_play_venue(operator, "jp")
    assert not access.may_play_venue(operator, "us")
    assert not access.may_play_venue(viewer, "jp")
    assert access.may_play_venue(director, "us")
    assert not access.may_play(viewer, "no-such-channel")
    # The ingest key is a grant like the others: any channel, any venue output.
    assert access.may_publish(INGEST_KEY, "gz-hall-2")
    assert access.may_play(INGEST_KEY, "us-return")
    assert access.may_play_venue(INGEST_KEY, "kr")
    assert not access.may_publish(INGEST_KEY + "x", "gz-hall-2")


def test_one_director_check_and_the_ingest_key() -> None:
    authority = TokenAuthority(SECRET, audience="coet2018")
    credentials = Credentials(authority, INGEST_KEY)
    key = credentials.grant(INGEST_KEY)
    assert key == ingest_key_grant()
    assert key.identity == "ingest key"
    assert key.directs
    assert key.produces("any-channel")
    assert not key.moderates("opening")
    director = Grant("d", Role.DIRECTOR)
    assert credentials.grant(authority.mint(director, ttl=60)) == director
    assert director.directs
    assert Grant("a", Role.ADMIN).directs
    for grant in (
        Grant("o", Role.OPERATOR, venue="jp"),
        Grant("p", Role.PRODUCER, channels=(ALL,)),
        Grant("m", Role.MODERATOR, sessions=(ALL,)),
        Grant("v", Role.VIEWER),
    ):
        assert not grant.directs, grant
    with pytest.raises(Unauthorized):
        credentials.grant(INGEST_KEY[:-1])
    with pytest.raises(Unauthorized):
        Credentials(authority).grant(INGEST_KEY)  # no key configured: just a bad token
    with pytest.raises(ValueError, match="ingest key"):
        authority.mint(key, ttl=60)  # the key's rights never leave the server as a token


def test_token_bucket_refills_with_time() -> None:
    limiter = RateLimiter(Rate(burst=2, per_minute=60))
    assert limiter.check("a", 0.0)
    assert limiter.check("a", 0.0)
    assert not limiter.check("a", 0.5)
    assert limiter.check("b", 0.5)
    assert limiter.check("a", 1.6)


def test_action_limits_by_identity_and_by_address() -> None:
    limits = Limits(ask_per_identity=Rate(1, 1), ask_per_address=Rate(2, 1))
    limiter = ActionLimiter(limits)
    limiter.check("ask", "alice", "10.0.0.1", 0.0)
    with pytest.raises(RateLimited, match="from you"):
        limiter.check("ask", "alice", "10.0.0.1", 0.0)
    limiter.check("ask", "bob", "10.0.0.1", 0.0)
    with pytest.raises(RateLimited, match="network"):
        limiter.check("ask", "carol", "10.0.0.1", 0.0)


async def test_presence_counts_and_combines() -> None:
    viewer = Client(Grant("v", Role.VIEWER), "a")
    viewer.channel, viewer.venue = "gz-hall-1", "jp"
    operator = Client(Grant("o", Role.OPERATOR, venue="jp"), "b")
    moderator = Client(Grant("m", Role.MODERATOR, sessions=("opening",)), "c")
    moderator.rooms.add("opening")
    counts = count([viewer, operator, moderator])
    assert counts.viewers_by_channel == {"gz-hall-1": 1}
    assert counts.viewers_by_venue == {"jp": 1}
    assert counts.operators_by_venue == {"jp": 1}
    assert counts.moderators_by_room == {"opening": 1}
    assert combine([counts, counts]).operators_by_venue == {"jp": 2}
    board = PresenceBoard(stale_after=5)
    board.update("n1", counts, now=0)
    board.update("n2", counts, now=3)
    assert board.total(now=4).connections == 6
    assert board.total(now=7).connections == 3  # n1 went silent


def test_a_client_too_far_behind_is_dropped_instead_of_waited_for() -> None:
    written: list[bytes] = []
    dropped: list[str] = []
    client = Client(Grant("v", Role.VIEWER), "a", max_backlog=10)  # a frame is 8 bytes
    client.write, client.on_drop = written.append, dropped.append
    client.backlog = lambda: sum(map(len, written))
    frame = Frame("123456")
    assert client.send(frame)
    assert client.send(frame)
    assert not client.send(frame)
    assert written == [frame.wire, frame.wire]
    assert client.dropped
    assert dropped == ["too slow: the outbox is full"]
    assert not client.send(frame)
    assert dropped == ["too slow: the outbox is full"]  # dropped once


def test_a_token_verifies_the_moment_it_is_minted() -> None:
    # ``iat`` rounded up to the millisecond was sometimes in the future: about 1 in 1000.
    authority = TokenAuthority(SECRET, audience="coet2018")
    grant = Grant("anna", Role.VIEWER)
    for _ in range(5000):
        assert authority.verify(authority.mint(grant, ttl=60)).identity == "anna"
