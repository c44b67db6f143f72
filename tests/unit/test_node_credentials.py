"""Node credentials: the relay role, this node's own relay token, and a redirect's pass."""

from __future__ import annotations

import time

import pytest

from config import Event
from signaling.auth import Credentials, Grant, Role, TokenAuthority, TokenMediaAccess
from signaling.auth.media import pass_scope
from signaling.auth.relay_token import RelayToken
from signaling.auth.revocation import revoke_role, revoke_token
from signaling.errors import Unauthorized

SECRET = b"n" * 32
EVENT_ID = "coet2018"


def authority() -> TokenAuthority:
    return TokenAuthority(SECRET, audience=EVENT_ID)


def test_a_relay_grant_plays_channels_and_nothing_else(reference_event: Event) -> None:
    tokens = authority()
    access = TokenMediaAccess(Credentials(tokens), reference_event)
    relay = tokens.mint(Grant("node:edge-eu", Role.RELAY), ttl=600)
    grant = tokens.verify(relay)
    assert access.may_play(relay, "gz-hall-1")
    assert access.may_play(relay, "us-return")  # a return feed, which viewers may not play
    assert not access.may_publish(relay, "gz-hall-1")
    assert not access.may_publish(relay, "us-return")
    assert not access.may_play_venue(relay, "us")
    assert not grant.directs
    assert not grant.produces("gz-hall-1")
    assert not grant.moderates("opening")
    assert not grant.watches_presence()
    assert grant.may_relay_for() is None


def test_relay_tokens_carry_no_scope_and_live_a_week_at_most() -> None:
    tokens = authority()
    with pytest.raises(ValueError, match="only producer and interpreter tokens carry channels"):
        tokens.mint(Grant("n", Role.RELAY, channels=("gz-hall-1",)), ttl=60)
    with pytest.raises(ValueError, match=r"tokens\.relay_max_hours"):
        tokens.mint(Grant("n", Role.RELAY), ttl=169 * 3600)


def test_an_expired_or_revoked_relay_token_is_refused(reference_event: Event) -> None:
    tokens = authority()
    access = TokenMediaAccess(Credentials(tokens), reference_event)
    expired = tokens.mint(Grant("node:a", Role.RELAY), ttl=60, now=time.time() - 120)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(expired)
    assert not access.may_play(expired, "us-return")
    # A bad token is refused on a public channel too, never played as "no token".
    assert not access.may_play(expired, "gz-hall-1")

    one = tokens.mint(Grant("node:a", Role.RELAY), ttl=600)
    other = tokens.mint(Grant("node:b", Role.RELAY), ttl=600)
    tokens.revocations.add(revoke_token(str(tokens.verify(one).token_id), "admin", time.time()))
    assert not access.may_play(one, "us-return")
    assert access.may_play(other, "us-return")
    assert access.revoked(one)  # what it opened is ended too (MediaHub.end_revoked)
    tokens.revocations.add(revoke_role(Role.RELAY, "admin", time.time() + 1))
    assert not access.may_play(other, "us-return")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_node_renews_its_relay_token_at_half_life_and_after_a_revocation() -> None:
    tokens, clock = authority(), Clock()
    relay = RelayToken(tokens, "edge-eu", ttl=600, clock=clock)
    first = relay.current()
    grant = tokens._decode(first, check_expiry=False)[0]
    assert (grant.identity, grant.role) == ("node:edge-eu", Role.RELAY)
    clock.now += 299
    assert relay.current() == first  # more than half its life left: the same token
    clock.now += 1
    second = relay.current()
    assert second != first
    assert relay.minted == 2
    # Revoking relay tokens makes the node mint a new one at once (it holds the secret).
    tokens.revocations.add(revoke_role(Role.RELAY, "admin", clock.now + 0.5))
    clock.now += 1
    third = relay.current()
    assert third != second
    assert not tokens.is_revoked(third)


def test_a_pass_is_good_for_its_one_action_only(reference_event: Event) -> None:
    tokens = authority()
    credentials = Credentials(tokens)
    access = TokenMediaAccess(credentials, reference_event)
    operator = tokens.verify(tokens.mint(Grant("op-us", Role.OPERATOR, venue="us"), ttl=600))
    venue_pass = tokens.mint_pass(operator, pass_scope("play", "venue", "us"), ttl=60)
    feed_pass = tokens.mint_pass(operator, pass_scope("publish", "channel", "us-return"), ttl=60)
    assert access.may_play_venue(venue_pass, "us")
    assert not access.may_play_venue(venue_pass, "jp")
    assert not access.may_play(venue_pass, "us-return")
    assert not access.may_publish(venue_pass, "us-return")
    assert access.may_publish(feed_pass, "us-return")
    assert not access.may_publish(feed_pass, "jp-return")
    assert not access.may_play_venue(feed_pass, "us")
    # Never a token anywhere else (pages, the API, the websocket all call verify).
    with pytest.raises(Unauthorized, match="one redirected request"):
        credentials.grant(venue_pass)
    # Short-lived: at most five minutes, and refused once expired.
    with pytest.raises(ValueError, match="at most 300 seconds"):
        tokens.mint_pass(operator, "play:venue:us", ttl=301)
    old = tokens.mint_pass(operator, "play:venue:us", ttl=60, now=time.time() - 61)
    assert not access.may_play_venue(old, "us")


def test_revoking_the_original_token_revokes_its_passes(reference_event: Event) -> None:
    tokens = authority()
    access = TokenMediaAccess(Credentials(tokens), reference_event)
    operator = tokens.verify(tokens.mint(Grant("op-us", Role.OPERATOR, venue="us"), ttl=600))
    venue_pass = tokens.mint_pass(operator, "play:venue:us", ttl=60)
    assert not access.revoked(venue_pass)
    tokens.revocations.add(revoke_token(str(operator.token_id), "admin", time.time()))
    assert access.revoked(venue_pass)
    assert not access.may_play_venue(venue_pass, "us")
    # By role: the original's issue time counts, not the pass's own (newer) one.
    now = time.time()
    director = tokens.verify(tokens.mint(Grant("dir", Role.DIRECTOR), ttl=600, now=now - 10))
    tokens.revocations.add(revoke_role(Role.DIRECTOR, "admin", now - 5))
    director_pass = tokens.mint_pass(director, "play:venue:us", ttl=60, now=now)
    assert access.revoked(director_pass)
