"""Home venues: the bus messages parsed at the edge, their order, and who is home where."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from config import Event
from signaling.records.airing import Airing, Status
from signaling.records.log import AsRunLog
from signaling.routing.homes import (
    BadHomeMessage,
    ChannelHealthNote,
    HomeBook,
    HomeHello,
    OrderGate,
    RoutingHello,
    Sequencer,
    VenueAudience,
    VenueRouteOrder,
    VenueSwitched,
    parse_home_message,
)
from signaling.routing.router import Route, Take

AT = "2018-12-21T01:00:00+00:00"


def with_homes(event: Event, **homes: str) -> Event:
    venues = tuple(dataclasses.replace(v, home_node=homes.get(v.id)) for v in event.venues)
    return dataclasses.replace(event, venues=venues)


ROUTE = {"kind": "venue-route", "node": "origin", "home": "edge-jp", "venue": "jp"}
GOOD: list[tuple[dict[str, Any], object]] = [
    (
        {**ROUTE, "channel": "gz-hall-1", "order": [5, 1]},
        VenueRouteOrder(
            node="origin", home="edge-jp", venue="jp", channel="gz-hall-1", order=(5, 1)
        ),
    ),
    (
        {**ROUTE, "channel": None, "order": [5, 2]},
        VenueRouteOrder(node="origin", home="edge-jp", venue="jp", channel=None, order=(5, 2)),
    ),
    (
        {
            "kind": "venue-switched",
            "node": "edge-jp",
            "venue": "jp",
            "channel": "gz-hall-1",
            "previous": None,
            "at": AT,
            "order": [7, 1],
        },
        VenueSwitched(
            node="edge-jp",
            venue="jp",
            channel="gz-hall-1",
            previous=None,
            at=datetime(2018, 12, 21, 1, tzinfo=UTC),
            order=(7, 1),
        ),
    ),
    (
        {
            "kind": "channel-health",
            "node": "edge-us",
            "channel": "us-return",
            "state": "lost",
            "source": "primary",
            "backup_ready": False,
            "at": AT,
            "order": [3, 9],
            "added_later": "ignored",  # a newer sender's extra field does not break us
        },
        ChannelHealthNote(
            node="edge-us",
            channel="us-return",
            state="lost",
            source="primary",
            backup_ready=False,
            at=datetime(2018, 12, 21, 1, tzinfo=UTC),
            order=(3, 9),
        ),
    ),
    (
        {"kind": "home-hello", "node": "edge-jp", "venues": ["jp"]},
        HomeHello(node="edge-jp", venues=("jp",)),
    ),
    ({"kind": "routing-hello", "node": "origin"}, RoutingHello(node="origin")),
    (
        {"kind": "venue-audience", "node": "edge-jp", "venues": {"jp": 3}},
        VenueAudience(node="edge-jp", venues={"jp": 3}),
    ),
]


@pytest.mark.parametrize(("message", "parsed"), GOOD)
def test_each_message_parses_into_its_struct(
    reference_event: Event, message: dict[str, Any], parsed: object
) -> None:
    assert parse_home_message(message, reference_event) == parsed


SWITCHED = dict(GOOD[2][0])
BAD: list[tuple[dict[str, Any], str]] = [
    ({"kind": "venue-teleport", "node": "origin"}, "not a home-venue message"),
    ({"node": "origin"}, "not a home-venue message"),
    ({**ROUTE, "channel": "gz-hall-1"}, "order"),  # missing
    ({**ROUTE, "channel": "gz-hall-1", "order": [1]}, "order"),
    ({**ROUTE, "channel": "gz-hall-1", "order": [-1, 1]}, "out of range"),
    ({**ROUTE, "channel": "gz-hall-1", "order": ["1", "2"]}, "order"),
    ({**ROUTE, "channel": 7, "order": [1, 1]}, "channel"),
    ({**ROUTE, "channel": "no-such-hall", "order": [1, 1]}, "names no channel"),
    ({**ROUTE, "venue": "atlantis", "channel": None, "order": [1, 1]}, "no venue"),
    ({**ROUTE, "home": "a b", "channel": None, "order": [1, 1]}, "home is not a node id"),
    ({**ROUTE, "node": "x" * 200, "channel": None, "order": [1, 1]}, "sender is not a node id"),
    ({**SWITCHED, "at": "yesterday"}, "at"),
    ({**SWITCHED, "at": "2018-12-21T01:00:00"}, "no time zone"),
    ({**SWITCHED, "previous": "no-such-hall"}, "names no channel"),
    ({**dict(GOOD[3][0]), "state": "melting"}, "state"),
    ({"kind": "home-hello", "node": "edge-jp", "venues": "jp"}, "venues"),
    ({"kind": "home-hello", "node": "edge-jp", "venues": ["v"] * 65}, "too many venues"),
    ({"kind": "venue-audience", "node": "edge-jp", "venues": {"jp": -1}}, "out of range"),
    ({"kind": "venue-audience", "node": "edge-jp", "venues": {"jp": 10**9}}, "out of range"),
    ({"kind": "venue-audience", "node": "edge-jp", "venues": {"atlantis": 1}}, "no venue"),
    ({"kind": "venue-audience", "node": "edge-jp", "venues": {"jp": "3"}}, "venues"),
]


@pytest.mark.parametrize(("message", "reason"), BAD)
def test_malformed_or_forged_messages_are_refused_with_a_reason(
    reference_event: Event, message: dict[str, Any], reason: str
) -> None:
    with pytest.raises(BadHomeMessage, match=reason):
        parse_home_message(message, reference_event)


def test_a_stale_or_repeated_order_is_dropped_and_a_restarted_sender_wins() -> None:
    gate = OrderGate()
    assert gate.admit(("jp",), (100, 2))
    assert not gate.admit(("jp",), (100, 2))  # a duplicate
    assert not gate.admit(("jp",), (100, 1))  # overtaken by a newer one
    assert gate.admit(("kr",), (100, 1))  # each key has its own order
    # A restarted sender counts from 1 again, under a later epoch: it wins.
    assert gate.admit(("jp",), (200, 1))
    assert not gate.admit(("jp",), (100, 99))
    orders = Sequencer(epoch=300)
    assert [orders.next(), orders.next()] == [(300, 1), (300, 2)]
    assert Sequencer().epoch > 1_700_000_000_000  # milliseconds of the wall clock


def test_sibling_workers_orders_follow_when_they_were_sent() -> None:
    """Two workers of one node report under its one name: the later message wins, even
    from the worker that started first; and a clock stepping back never reorders."""
    now = [1_000]
    first = Sequencer(clock=lambda: now[0])
    now[0] = 2_000
    second = Sequencer(clock=lambda: now[0])
    gate = OrderGate()
    assert gate.admit(("health", "gz", "jp-return"), second.next())
    now[0] = 3_000
    assert gate.admit(("health", "gz", "jp-return"), first.next())
    now[0] = 2_500  # the wall clock stepped back
    assert first.next() > (3_000, 1)


def test_who_is_home_settings_over_the_event_file_then_the_latest_hello(
    reference_event: Event,
) -> None:
    event = with_homes(reference_event, jp="edge-jp", kr="edge-kr")
    origin = HomeBook(event, "origin", my_venues=("us",))
    assert origin.home("jp") == "edge-jp"  # the event file
    assert origin.remote("us") is None  # this node's own settings: served here
    assert origin.here("us")
    assert origin.home("eu") is None  # nobody named: the routing node serves it
    assert origin.remote("eu") is None
    # edge-asia's settings make it home to kr (over the event file) and to eu.
    assert origin.claim("edge-asia", ("kr", "eu", "atlantis")) == []
    assert (origin.home("kr"), origin.home("eu")) == ("edge-asia", "edge-asia")
    assert "atlantis" not in origin.homes()
    # Another node claims eu later: it wins, and the caller is told to warn.
    assert origin.claim("edge-eu", ("eu",)) == ["eu"]
    assert origin.venues_of("edge-asia") == ["kr"]
    # edge-asia restarts without kr in its settings: kr falls back to the event file.
    origin.claim("edge-asia", ())
    assert origin.home("kr") == "edge-kr"
    edge = HomeBook(event, "edge-jp")
    assert edge.here("jp")
    assert not edge.here("us")
    # Alone (no Redis, so no other node): every venue is served here.
    alone = HomeBook(event, "origin", alone=True)
    assert alone.claim("edge-asia", ("kr",)) == []
    assert all(alone.remote(v) is None for v in alone.homes())


def test_the_log_names_the_node_and_shows_a_home_node_down(reference_event: Event) -> None:
    start = datetime(2018, 12, 21, 0, 50, tzinfo=UTC)
    log = AsRunLog(reference_event, since=start)
    route = Route("jp", "gz-hall-1", "opening", "automation", start)
    [airing] = log.taken(Take(route, start), "edge-jp")
    assert (airing.node, airing.status) == ("edge-jp", Status.ON_AIR)
    down = datetime(2018, 12, 21, 1, 0, tzinfo=UTC)
    [airing] = log.node_down("jp", "edge-jp", down)
    assert [(i.cause, i.end) for i in airing.off_air] == [("node_down", None)]
    assert "home node edge-jp down" in airing.note
    assert log.node_down("jp", "edge-jp", down) == []  # already off air: nothing new
    assert log.node_back("jp", "gz-hall-2", down) == []  # not what it carried
    back = datetime(2018, 12, 21, 1, 0, 30, tzinfo=UTC)
    [airing] = log.node_back("jp", "gz-hall-1", back)
    assert [(i.cause, i.seconds()) for i in airing.off_air] == [("node_down", 30.0)]
    assert _open_on(log, "jp").node == "edge-jp"
    # The same airing confirmed by another node (the venue moved): it names the new one.
    [airing] = log.taken(Take(route, back), "edge-jp-2")
    assert airing.node == "edge-jp-2"
    assert log.node_down("kr", "edge-kr", down) == []  # nothing on air there


def _open_on(log: AsRunLog, venue: str) -> Airing:
    airing = log.open_on(venue)
    assert airing is not None
    return airing
