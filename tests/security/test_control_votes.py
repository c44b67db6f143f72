"""Vote stuffing (issue 10, finding 2): identities are minted at a bounded rate per address,
votes are limited per identity and per address, bursts are flagged to moderators, and a
room can take votes from invited people only."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import aiohttp
import pytest

from config import Event, EventFileError, Settings, load_event
from signaling.auth import Grant, Role, TokenAuthority
from signaling.auth.anonymous import AnonymousMinter
from signaling.errors import Forbidden, RateLimited, Refused
from signaling.hub import Hub, HubOptions
from signaling.protocol import messages as m
from signaling.qa.limits import Limits, Rate
from tests.security.control_support import (
    NO_MESSAGE_LIMIT,
    ROOM,
    anonymous,
    connect,
    limits,
    open_room_with_question,
    running_hub,
    running_node,
)
from tests.unit.test_event_file import GOOD


async def _votes(hub: Hub, question: str) -> int:
    room = await hub.rooms.room(ROOM)
    return room.questions[question].votes


async def _vote_all(hub: Hub, voters: list[tuple[Grant, str]], question: str) -> int:
    """Each (grant, address) votes once; returns how many were refused as rate limited."""
    limited = 0
    for grant, address in voters:
        client, _ = connect(hub, grant, address)
        try:
            await hub.handle(client, m.Vote(room=ROOM, question=question))
        except RateLimited:
            limited += 1
    return limited


async def test_sockets_from_one_address_get_identities_only_up_to_the_mint_rate(
    settings: Settings, reference_event: Event
) -> None:
    options = HubOptions(
        limits=limits(anonymous_per_address=Rate(burst=5, per_minute=1)),
        messages=NO_MESSAGE_LIMIT,
    )
    async with running_node(settings, reference_event, options) as node:
        sockets = [await node.connect() for _ in range(5)]
        identities = {s.welcome["identity"] for s in sockets}
        assert len(identities) == 5
        assert all(s.welcome["token"] for s in sockets)

        url = str(node.http.make_url("/ws"))
        async with node.http.session.ws_connect(url) as sixth:
            first = await sixth.receive_json()
            assert first["type"] == "error"
            assert first["code"] == "rate_limited"
            closing = await sixth.receive()
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert closing.data == 4429

        # A page that kept its token comes back as the same person, past the limit.
        again = await node.connect(sockets[0].welcome["token"])
        assert again.welcome["identity"] == sockets[0].welcome["identity"]
        assert again.welcome.get("token") is None


def test_the_default_mint_rate_admits_a_venue_nat_of_phones_but_not_more() -> None:
    minter = AnonymousMinter(TokenAuthority(b"s" * 32, "coet2018"), Limits().anonymous_per_address)
    venue_nat = "203.0.113.7"
    identities = {minter.mint(venue_nat, now=0.0)[0].identity for _ in range(500)}
    assert len(identities) == 500  # a QR code on stage: 500 phones within one minute
    with pytest.raises(RateLimited):
        minter.mint(venue_nat, now=0.0)
    assert minter.mint("198.51.100.9", now=0.0)[0].anonymous  # other networks unaffected
    # Refilled at 300 a minute: one more every 0.2 s.
    assert minter.mint(venue_nat, now=0.2)[0].anonymous
    with pytest.raises(RateLimited):
        minter.mint(venue_nat, now=0.2)


async def test_many_identities_from_one_address_add_votes_only_up_to_the_address_limit(
    tmp_path: Path, reference_event: Event
) -> None:
    options = HubOptions(limits=limits(vote_per_address=Rate(burst=10, per_minute=1)))
    async with running_hub(tmp_path, reference_event, options) as hub:
        _, _, question = await open_room_with_question(hub)
        stuffer = [(anonymous(i), "192.0.2.66") for i in range(40)]
        assert await _vote_all(hub, stuffer, question) == 30
        assert await _votes(hub, question) == 10
        # Someone on another network still votes.
        assert await _vote_all(hub, [(anonymous(99), "198.51.100.1")], question) == 0
        assert await _votes(hub, question) == 11


async def test_stuffing_from_twenty_addresses_is_capped_per_address(
    tmp_path: Path, reference_event: Event
) -> None:
    options = HubOptions(limits=limits(vote_per_address=Rate(burst=10, per_minute=1)))
    async with running_hub(tmp_path, reference_event, options) as hub:
        _, _, question = await open_room_with_question(hub)
        voters = [(anonymous(a * 100 + i), f"192.0.2.{a}") for a in range(20) for i in range(30)]
        assert await _vote_all(hub, voters, question) == 20 * 20
        assert await _votes(hub, question) == 20 * 10


async def test_one_identity_votes_once_and_is_limited_when_it_toggles(
    tmp_path: Path, reference_event: Event
) -> None:
    options = HubOptions(limits=limits(vote_per_identity=Rate(burst=4, per_minute=1)))
    async with running_hub(tmp_path, reference_event, options) as hub:
        _, _, question = await open_room_with_question(hub)
        voter, _ = connect(hub, anonymous(1), "192.0.2.1")
        await hub.handle(voter, m.Vote(room=ROOM, question=question))
        with pytest.raises(Refused) as twice:
            await hub.handle(voter, m.Vote(room=ROOM, question=question))
        assert twice.value.code == "already_voted"
        assert await _votes(hub, question) == 1
        await hub.handle(voter, m.Vote(room=ROOM, question=question, on=False))
        await hub.handle(voter, m.Vote(room=ROOM, question=question, on=True))
        with pytest.raises(RateLimited, match="from you"):
            await hub.handle(voter, m.Vote(room=ROOM, question=question, on=False))


def test_default_vote_limits() -> None:
    defaults = Limits()
    assert defaults.vote_per_identity == Rate(burst=20, per_minute=60)
    assert defaults.vote_per_address == Rate(burst=600, per_minute=600)
    assert (defaults.suspect_votes, defaults.suspect_window) == (50, 60.0)


async def test_a_burst_from_one_address_flags_the_question_for_moderators_only(
    tmp_path: Path, reference_event: Event
) -> None:
    options = HubOptions(limits=limits(suspect_votes=5, suspect_window=60.0))
    async with running_hub(tmp_path, reference_event, options) as hub:
        _, moderator_socket, question = await open_room_with_question(hub)
        viewer, viewer_socket = connect(hub, Grant("viewer", Role.VIEWER), "198.51.100.2")
        await hub.handle(viewer, m.Join(room=ROOM))
        # Five people on five networks: nothing to see.
        await _vote_all(hub, [(anonymous(i), f"198.51.100.{10 + i}") for i in range(5)], question)
        assert (await hub.rooms.room(ROOM)).questions[question].suspect is None
        # Five from one network, quickly: flagged once, with the count.
        await _vote_all(hub, [(anonymous(50 + i), "192.0.2.66") for i in range(7)], question)
        flags = [
            f["question"]
            for f in moderator_socket.frames
            if f["type"] == "question" and f["question"].get("suspect")
        ]
        assert flags
        assert flags[0]["suspect_reason"] == "5 votes from one network within 60 s"
        assert flags[-1]["votes"] == 12
        assert all("suspect" not in str(f) for f in viewer_socket.frames)
        room = await hub.rooms.room(ROOM)
        assert sum(1 for e in await hub.rooms.events_since(ROOM, 0) if e.by == "vote watch") == 1
        assert room.questions[question].suspect is not None


async def test_a_signed_in_room_takes_votes_from_invited_people_only(
    tmp_path: Path, reference_event: Event
) -> None:
    sessions = tuple(
        dataclasses.replace(s, qa_votes="signed_in") if s.id == ROOM else s
        for s in reference_event.sessions
    )
    event = dataclasses.replace(reference_event, sessions=sessions)
    async with running_hub(tmp_path, event, HubOptions(limits=limits())) as hub:
        _, _, question = await open_room_with_question(hub)
        stranger, _ = connect(hub, anonymous(1), "192.0.2.1")
        with pytest.raises(Forbidden) as refused:
            await hub.handle(stranger, m.Vote(room=ROOM, question=question))
        assert refused.value.code == "sign_in_to_vote"
        invited, _ = connect(hub, Grant("talent-17", Role.VIEWER), "192.0.2.1")
        await hub.handle(invited, m.Vote(room=ROOM, question=question))
        assert await _votes(hub, question) == 1


def test_the_event_file_sets_who_may_vote(tmp_path: Path) -> None:
    path = tmp_path / "event.toml"
    path.write_text(textwrap.dedent(GOOD) + 'qa_votes = "signed_in"\n', encoding="utf-8")
    assert load_event(path).sessions[0].qa_votes == "signed_in"
    path.write_text(textwrap.dedent(GOOD), encoding="utf-8")
    assert load_event(path).sessions[0].qa_votes == "anyone"
    path.write_text(textwrap.dedent(GOOD) + 'qa_votes = "everyone"\n', encoding="utf-8")
    with pytest.raises(EventFileError, match=r"sessions\[0\]\.qa_votes"):
        load_event(path)
