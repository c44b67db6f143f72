"""Which node answers a WHIP/WHEP request (signaling/nodes/steering.py): pure choices."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime

from config import Event
from signaling.nodes import NodeEntry
from signaling.nodes.departures import Departures
from signaling.nodes.steering import home_node_of, in_region, to_home_node, venue_of_return_feed

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def node(node_id: str, region: str, url: str | None = "auto") -> NodeEntry:
    address = f"https://{node_id}.example.org" if url == "auto" else url
    return NodeEntry(node_id, region, address, NOW, 0.5, ())


def test_home_nodes_come_from_the_event_file(reference_event: Event) -> None:
    venues = tuple(
        dataclasses.replace(v, home_node="edge-us") if v.id == "us" else v
        for v in reference_event.venues
    )
    event = dataclasses.replace(reference_event, venues=venues)
    assert home_node_of(event, "us") == "edge-us"
    assert home_node_of(event, "jp") is None
    assert home_node_of(event, "nowhere") is None
    assert venue_of_return_feed(event, "us-return") == "us"
    assert venue_of_return_feed(event, "gz-hall-1") is None  # a programme channel
    assert venue_of_return_feed(event, "nowhere") is None


def test_the_home_node_only_when_it_is_up_elsewhere_with_an_address() -> None:
    up = node("edge-us", "us")
    assert to_home_node("edge-us", "gz", up) == up
    assert to_home_node(None, "gz", up) is None
    assert to_home_node("edge-us", "edge-us", up) is None  # never to yourself
    assert to_home_node("edge-us", "gz", None) is None  # not up: serve here
    assert to_home_node("edge-us", "gz", node("edge-us", "us", None)) is None  # no URL


def test_a_region_spreads_clients_and_moves_only_a_dead_nodes_clients() -> None:
    nodes = [node("gz", "cn"), node("eu-1", "eu"), node("eu-2", "eu"), node("eu-3", "eu")]
    clients = [f"203.0.113.{i}" for i in range(300)]
    chosen = {c: in_region(nodes, "eu", "cn", "gz", c) for c in clients}
    assert all(n is not None and n.region == "eu" for n in chosen.values())
    spread = Counter(n.id for n in chosen.values() if n is not None)
    assert set(spread) == {"eu-1", "eu-2", "eu-3"}
    assert min(spread.values()) >= 60  # 100 each on average
    # Stable: the same client gets the same node again (OPTIONS then POST agree).
    assert all(in_region(nodes, "eu", "cn", "gz", c) == chosen[c] for c in clients)
    # eu-2 dies: its clients move, nobody else does.
    survivors = [n for n in nodes if n.id != "eu-2"]
    for client, before in chosen.items():
        after = in_region(survivors, "eu", "cn", "gz", client)
        assert after is not None
        if before is not None and before.id != "eu-2":
            assert after == before


def test_a_region_request_is_served_here_when_it_should_be() -> None:
    nodes = [node("gz", "cn"), node("eu-1", "eu"), node("nourl", "jp", None)]
    assert in_region(nodes, "", "cn", "gz", "a") is None
    assert in_region(nodes, "cn", "cn", "gz", "a") is None  # this node's own region
    assert in_region(nodes, "kr", "cn", "gz", "a") is None  # nobody up there
    assert in_region(nodes, "jp", "cn", "gz", "a") is None  # up, but no public URL
    assert in_region(nodes, "eu", "eu", "eu-1", "a") is None
    # Never to yourself, even listed under another region's name.
    assert in_region([node("gz", "eu")], "eu", "cn", "gz", "a") is None


def test_a_node_is_gone_after_a_ttl_missing_from_trustworthy_listings() -> None:
    departures = Departures("gz", ttl=1.0)
    assert departures.seen({"gz", "eu-1", "eu-2"}, 0.0) == set()
    assert departures.seen({"gz", "eu-2"}, 0.5) == set()  # missing, not for a TTL yet
    assert departures.seen({"gz", "eu-2"}, 1.4) == set()
    assert departures.seen({"gz", "eu-2"}, 1.5) == {"eu-1"}
    assert departures.seen({"gz", "eu-2"}, 3.0) == set()  # reported once
    # A Redis that came back empty lists nobody, this node included: nobody is gone,
    # and the count starts again once the listing can be trusted.
    assert departures.seen(set(), 4.0) == set()
    assert departures.seen(set(), 9.0) == set()
    assert departures.seen({"gz"}, 9.1) == set()
    assert departures.seen({"gz", "eu-2"}, 9.3) == set()  # back within the TTL: stays
    assert departures.seen({"gz"}, 9.5) == set()
    assert departures.seen({"gz"}, 10.5) == {"eu-2"}
    # A node seen again after it was reported counts afresh.
    assert departures.seen({"gz", "eu-1"}, 11.0) == set()
    assert departures.seen({"gz"}, 12.0) == set()
    assert departures.seen({"gz"}, 13.0) == {"eu-1"}
