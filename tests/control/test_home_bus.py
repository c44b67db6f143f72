"""Both ends of home venues over one in-process bus: orders out, switches and health back.

The routing node ("origin") and a home node ("edge-jp") each have their own ``NodeBus``
on one ``LocalBus``; the media planes and the node directory are plain fakes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from config import Event
from signaling.bus.local import LocalBus
from signaling.bus.node import NodeBus
from signaling.nodes import NodeEntry
from signaling.routing.home_agent import HomeAgent
from signaling.routing.homes import HomeBook
from signaling.routing.persisted import SourceName
from signaling.routing.remote import RemoteVenues
from signaling.routing.service import SourceState
from tests.helpers import eventually

AT = datetime(2018, 12, 21, 1, tzinfo=UTC)


@dataclass
class FakeMedia:
    """A media plane that remembers every switch."""

    switches: list[tuple[str, str | None]] = field(default_factory=list)
    # What each output's last switch was, as the media plane would say (set by tests).
    shown: dict[str, tuple[str | None, str | None, datetime]] = field(default_factory=dict)
    languages: list[tuple[str, str | None]] = field(default_factory=list)

    def switch_to(self, venue: str, channel: str | None) -> None:
        self.switches.append((venue, channel))

    def last_switch(self, venue: str) -> tuple[str | None, str | None, datetime] | None:
        return self.shown.get(venue)

    def live_channels(self) -> set[str]:
        return {"gz-hall-1"}

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        return {}, {}

    def use_source(self, channel: str, source: SourceName) -> None:
        pass

    def set_output_language(self, venue: str, language: str | None) -> None:
        self.languages.append((venue, language))


class FakeDirectory:
    def __init__(self, *up: str) -> None:
        self.up = set(up)

    async def nodes(self) -> list[NodeEntry]:
        return [NodeEntry(node, "", None, AT, 0.0, ()) for node in sorted(self.up)]


@dataclass
class Inbox:
    """The routing service's side, as calls."""

    calls: list[tuple[object, ...]] = field(default_factory=list)

    async def switched(self, venue: str, channel: str | None, at: datetime, node: str) -> None:
        self.calls.append(("switched", venue, channel, at, node))

    async def source_changed(
        self,
        channel: str,
        state: SourceState,
        source: SourceName | None,
        backup_ready: bool,
        at: datetime,
    ) -> None:
        self.calls.append(("health", channel, state))

    async def home_down(self, venue: str, node: str, at: datetime) -> None:
        self.calls.append(("down", venue, node))

    async def home_back(self, venue: str, node: str) -> None:
        self.calls.append(("back", venue, node))


@dataclass
class Nodes:
    remote: RemoteVenues
    origin_media: FakeMedia
    edge: HomeAgent
    edge_media: FakeMedia
    inbox: Inbox
    directory: FakeDirectory
    shared: LocalBus
    event: Event


@contextlib.asynccontextmanager
async def running(event: Event) -> AsyncIterator[Nodes]:
    shared = LocalBus()
    origin_bus, edge_bus = NodeBus(shared, "origin"), NodeBus(shared, "edge-jp")
    origin_media, edge_media, inbox = FakeMedia(), FakeMedia(), Inbox()
    directory = FakeDirectory("origin", "edge-jp")
    book = HomeBook(event, "origin")
    origin_agent = HomeAgent(origin_bus, book, event, origin_media, (), routing_here=True)
    remote = RemoteVenues(origin_bus, book, event, origin_media, directory, check_every=3600)
    origin_agent.hello_listeners.append(remote.home_said_hello)
    remote.attach(inbox)
    edge = HomeAgent(
        edge_bus, HomeBook(event, "edge-jp", ("jp",)), event, edge_media, ("jp",), False
    )
    await origin_bus.start()
    await edge_bus.start()
    await origin_agent.start()
    await edge.start()
    await remote.start()
    try:
        yield Nodes(remote, origin_media, edge, edge_media, inbox, directory, shared, event)
    finally:
        await remote.aclose()
        await edge.aclose()
        await origin_agent.aclose()
        await edge_bus.stop()
        await origin_bus.stop()


async def test_orders_reach_the_home_and_its_switch_comes_back_named(
    reference_event: Event,
) -> None:
    async with running(reference_event) as nodes:
        remote, edge_media = nodes.remote, nodes.edge_media
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        remote.switch_to("jp", "gz-hall-1")  # jp lives on edge-jp: over the bus
        remote.switch_to("gz", "gz-hall-2")  # gz has no home named: switched here
        await eventually(lambda: edge_media.switches == [("jp", "gz-hall-1")], "the order")
        # The origin's own copy of jp follows the plan (its monitor; jp's operators while
        # edge-jp is down), but only edge-jp's switch is jp's record.
        assert nodes.origin_media.switches == [("jp", "gz-hall-1"), ("gz", "gz-hall-2")]
        assert remote.serves_here("gz")
        assert not remote.serves_here("jp")

        nodes.edge.venue_switched("jp", "gz-hall-1", None, AT)
        nodes.edge.venue_switched("kr", "gz-hall-1", None, AT)  # not its venue: not sent
        nodes.edge.channel_health("jp-return", "live", "primary", False, AT)
        await eventually(lambda: len(nodes.inbox.calls) == 2, "the switch and the health")
        assert nodes.inbox.calls == [
            ("switched", "jp", "gz-hall-1", AT, "edge-jp"),
            ("health", "jp-return", "live"),
        ]
        assert remote.live_channels() == {"gz-hall-1", "jp-return"}


async def test_stale_repeated_forged_and_broken_messages_are_ignored(
    reference_event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(reference_event) as nodes:
        remote, edge_media = nodes.remote, nodes.edge_media
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        remote.switch_to("jp", "gz-hall-1")
        remote.switch_to("jp", "gz-hall-2")
        await eventually(lambda: len(edge_media.switches) == 2, "two orders")
        mallory = NodeBus(nodes.shared, "mallory")
        order = {"home": "edge-jp", "venue": "jp"}
        epoch, later = remote.orders.epoch, 2 * remote.orders.epoch
        # Replayed, older, malformed, for a venue not homed there, for another node:
        await mallory.publish("venue-route", {**order, "channel": "gz-hall-2", "order": [epoch, 2]})
        await mallory.publish("venue-route", {**order, "channel": "gz-hall-1", "order": [epoch, 1]})
        await mallory.publish("venue-route", {**order, "channel": "gz-hall-3", "order": "soon"})
        await mallory.publish(
            "venue-route", {**order, "venue": "kr", "channel": None, "order": [later, 1]}
        )
        await mallory.publish(
            "venue-route", {**order, "home": "edge-kr", "channel": None, "order": [later, 1]}
        )
        # A switch report for jp from a node that is not jp's home, and broken JSON.
        await mallory.publish(
            "venue-switched",
            {
                "venue": "jp",
                "channel": "gz-hall-3",
                "previous": None,
                "at": "2018-12-21T01:00:00Z",
                "order": [1, 1],
            },
        )
        await nodes.shared.publish("{not json")
        # Then a good order: everything before it was dropped, the listeners still run.
        remote.switch_to("jp", None)
        await eventually(lambda: edge_media.switches[-1] == ("jp", None), "the good order")
        assert edge_media.switches == [("jp", "gz-hall-1"), ("jp", "gz-hall-2"), ("jp", None)]
        nodes.edge.venue_switched("jp", None, "gz-hall-2", AT)
        await eventually(lambda: nodes.inbox.calls != [], "the real switch")
        assert nodes.inbox.calls == [("switched", "jp", None, AT, "edge-jp")]
    assert "this node is not its home" in caplog.text
    assert "ignored a switch of jp from mallory: not its home" in caplog.text
    assert "ignored a bus message from mallory" in caplog.text


async def test_a_home_down_is_told_and_a_home_back_or_restarted_gets_the_plan(
    reference_event: Event,
) -> None:
    async with running(reference_event) as nodes:
        remote, inbox = nodes.remote, nodes.inbox
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        remote.switch_to("jp", "gz-hall-1")
        await eventually(lambda: nodes.edge_media.switches != [], "the order")
        await remote.check_homes()
        assert inbox.calls == []  # up the first time it is looked at: nothing to say
        assert remote.where("jp") == ("edge-jp", True)

        nodes.directory.up.discard("edge-jp")  # its directory entry expired
        await remote.check_homes()
        await remote.check_homes()  # said once, not every look
        assert [c[:3] for c in inbox.calls] == [("down", "jp", "edge-jp")]
        assert remote.where("jp") == ("edge-jp", False)

        nodes.directory.up.add("edge-jp")
        await remote.check_homes()
        assert inbox.calls[-1] == ("back", "jp", "edge-jp")
        await eventually(lambda: len(nodes.edge_media.switches) == 2, "the plan again")
        assert nodes.edge_media.switches[-1] == ("jp", "gz-hall-1")

        # A restart within the TTL (the directory never saw it go): its hello is enough.
        restarted_media = FakeMedia()
        bus = NodeBus(nodes.shared, "edge-jp")
        book = HomeBook(nodes.event, "edge-jp", ("jp",))
        restarted = HomeAgent(bus, book, nodes.event, restarted_media, ("jp",), False)
        await bus.start()
        await restarted.start()
        try:
            await eventually(
                lambda: restarted_media.switches == [("jp", "gz-hall-1")], "the plan on restart"
            )
            assert restarted.applied == 1
        finally:
            await restarted.aclose()
            await bus.stop()


async def test_an_order_for_what_the_home_already_shows_is_confirmed_at_once(
    reference_event: Event,
) -> None:
    """A restarted routing node re-sends its plan; the home's output already shows it and
    will not switch again, so the home reports what is on air since when."""
    async with running(reference_event) as nodes:
        remote, inbox = nodes.remote, nodes.inbox
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        earlier = datetime(2018, 12, 21, 0, 55, tzinfo=UTC)
        nodes.edge_media.shown["jp"] = ("gz-hall-1", None, earlier)
        remote.switch_to("jp", "gz-hall-2")  # not what it shows: the switch comes later
        remote.switch_to("jp", "gz-hall-1")  # what it shows: confirmed now
        await eventually(lambda: inbox.calls != [], "the confirmation")
        assert inbox.calls == [("switched", "jp", "gz-hall-1", earlier, "edge-jp")]


async def test_players_of_a_remote_venue_come_from_its_home(reference_event: Event) -> None:
    async with running(reference_event) as nodes:
        remote = nodes.remote
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        players = {"jp": 4, "kr": 9}  # kr's output here is not kr's: it lives elsewhere
        bus = NodeBus(nodes.shared, "edge-jp")
        agent = HomeAgent(
            bus, HomeBook(nodes.event, "edge-jp", ("jp",)), nodes.event, FakeMedia(), ("jp",),
            False, audience=lambda: players, audience_every=3600,
        )  # fmt: skip
        await agent.start()  # sends once at start
        try:
            await eventually(lambda: remote.audience()[0].get("jp") == 4, "jp's players")
            assert "kr" not in remote.audience()[0]
            # Someone else's count for jp is not jp's.
            mallory = NodeBus(nodes.shared, "mallory")
            await mallory.publish("venue-audience", {"venues": {"jp": 1000}})
            players["jp"] = 5
            agent.report_audience()
            await eventually(lambda: remote.audience()[0].get("jp") == 5, "the new count")
            nodes.directory.up.discard("edge-jp")
            await remote.check_homes()
            assert "jp" not in remote.audience()[0]  # a home that is down has no players
        finally:
            await agent.aclose()
