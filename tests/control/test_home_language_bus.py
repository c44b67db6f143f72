"""A venue output's language reaches the venue's home node over the bus (``venue-language``):
applied there, refused when forged or stale, and sent again to a home that comes back."""

from __future__ import annotations

import pytest

from config import Event
from signaling.bus.node import NodeBus
from signaling.routing.home_agent import HomeAgent
from signaling.routing.homes import (
    BadHomeMessage,
    HomeBook,
    VenueLanguageOrder,
    parse_home_message,
)
from tests.control.test_home_bus import FakeMedia, running
from tests.helpers import eventually


async def test_the_language_goes_to_the_home_node_and_back_after_a_restart(
    reference_event: Event,
) -> None:
    async with running(reference_event) as nodes:
        remote, edge_media = nodes.remote, nodes.edge_media
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        remote.set_output_language("jp", "ko")  # jp lives on edge-jp: over the bus
        remote.set_output_language("gz", "en")  # gz is served here
        await eventually(lambda: edge_media.languages == [("jp", "ko")], "the language order")
        # The routing node's own copy of jp follows too (its monitor), and gz is local.
        assert nodes.origin_media.languages == [("jp", "ko"), ("gz", "en")]

        # A restarted home says hello and gets the language again, before the route.
        restarted_media = FakeMedia()
        bus = NodeBus(nodes.shared, "edge-jp")
        book = HomeBook(nodes.event, "edge-jp", ("jp",))
        restarted = HomeAgent(bus, book, nodes.event, restarted_media, ("jp",), False)
        await bus.start()
        await restarted.start()
        try:
            await eventually(
                lambda: restarted_media.languages == [("jp", "ko")], "the language on restart"
            )
        finally:
            await restarted.aclose()
            await bus.stop()

        # A home that was down and is back gets it again too.
        nodes.directory.up.discard("edge-jp")
        await remote.check_homes()
        nodes.directory.up.add("edge-jp")
        await remote.check_homes()
        await eventually(lambda: len(edge_media.languages) >= 2, "the language again")
        assert edge_media.languages[-1] == ("jp", "ko")


async def test_forged_stale_and_broken_language_orders_are_ignored(
    reference_event: Event,
) -> None:
    async with running(reference_event) as nodes:
        remote, edge_media = nodes.remote, nodes.edge_media
        await eventually(lambda: remote.book.remote("jp") == "edge-jp", "edge-jp's hello")
        remote.set_output_language("jp", "ko")
        await eventually(lambda: edge_media.languages == [("jp", "ko")], "the order")
        mallory = NodeBus(nodes.shared, "mallory")
        order = {"home": "edge-jp", "venue": "jp"}
        epoch, later = remote.orders.epoch, 2 * remote.orders.epoch
        for fields in (
            {**order, "language": "ru", "order": [epoch, 0]},  # older than the last
            {**order, "language": "<script>", "order": [later, 1]},  # not a code
            {**order, "venue": "kr", "language": "ru", "order": [later, 2]},  # not homed there
            {**order, "home": "edge-kr", "language": "ru", "order": [later, 3]},  # not for it
            {**order, "language": "ru", "order": "soon"},  # malformed
        ):
            await mallory.publish("venue-language", fields)
        remote.set_output_language("jp", None)
        await eventually(lambda: edge_media.languages[-1] == ("jp", None), "the good order")
        assert edge_media.languages == [("jp", "ko"), ("jp", None)]


def test_language_orders_are_checked_against_the_event(reference_event: Event) -> None:
    good = {
        "kind": "venue-language",
        "node": "origin",
        "home": "edge-jp",
        "venue": "jp",
        "language": "ko",
        "order": [1, 1],
    }
    parsed = parse_home_message(good, reference_event)
    assert isinstance(parsed, VenueLanguageOrder)
    assert (parsed.venue, parsed.language) == ("jp", "ko")
    assert parse_home_message({**good, "language": None}, reference_event) is not None
    for bad in ({"venue": "mars"}, {"language": "Korean"}, {"home": "no such node!"}):
        with pytest.raises(BadHomeMessage):
            parse_home_message({**good, **bad}, reference_event)
