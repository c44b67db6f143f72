"""The ``[node]`` settings and the node id derived from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Event, SettingsError, load_settings
from config.node import home_venues, node_identity
from signaling.nodes import ChannelClaims
from web.app import create_app


def test_node_settings_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[node]\nid = "gz-origin"\nregion = "cn"\nheartbeat_seconds = 2\n')
    settings = load_settings(path, {"VENUEBRIDGE_NODE_URL": "https://gz.example.org/"})
    assert settings.node.id == "gz-origin"
    assert settings.node.region == "cn"
    assert settings.node.heartbeat_seconds == 2.0
    assert settings.node.ttl_seconds == 10.0
    assert (settings.node.steering, settings.node.pass_seconds) == (True, 60.0)
    quiet = load_settings(
        None, {"VENUEBRIDGE_NODE_STEERING": "false", "VENUEBRIDGE_NODE_PASS_SECONDS": "5"}
    )
    assert (quiet.node.steering, quiet.node.pass_seconds) == (False, 5.0)
    with pytest.raises(SettingsError, match="VENUEBRIDGE_NODE_STEERING: expected true or false"):
        load_settings(None, {"VENUEBRIDGE_NODE_STEERING": "maybe"})
    identity = node_identity(settings)
    assert (identity.id, identity.region, identity.url) == (
        "gz-origin",
        "cn",
        "https://gz.example.org",
    )


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"VENUEBRIDGE_NODE_ID": "bad id"}, "node.id"),
        ({"VENUEBRIDGE_NODE_ID": "-starts-with-dash"}, "node.id"),
        ({"VENUEBRIDGE_NODE_ID": "x" * 64}, "node.id"),
        ({"VENUEBRIDGE_NODE_REGION": "EU"}, "node.region"),
        ({"VENUEBRIDGE_NODE_URL": "ftp://edge"}, "node.url"),
        ({"VENUEBRIDGE_NODE_URL": "https://"}, "node.url"),
        ({"VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": "0.01"}, "node.heartbeat_seconds"),
        ({"VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": "61"}, "node.heartbeat_seconds"),
        # The TTL must outlast at least one missed heartbeat.
        (
            {"VENUEBRIDGE_NODE_HEARTBEAT_SECONDS": "3", "VENUEBRIDGE_NODE_TTL_SECONDS": "5"},
            "node.ttl_seconds",
        ),
        ({"VENUEBRIDGE_NODE_TTL_SECONDS": "601"}, "node.ttl_seconds"),
        ({"VENUEBRIDGE_NODE_PASS_SECONDS": "4"}, "node.pass_seconds"),
        ({"VENUEBRIDGE_NODE_PASS_SECONDS": "301"}, "node.pass_seconds"),
    ],
)
def test_bad_node_settings_are_refused_by_name(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError, match=f"'{key}'"):
        load_settings(None, env)


def test_the_url_defaults_to_public_url() -> None:
    settings = load_settings(None, {"VENUEBRIDGE_PUBLIC_URL": "https://vb.example.org"})
    assert node_identity(settings).url == "https://vb.example.org"
    assert node_identity(load_settings(None, {})).url is None


def test_the_derived_id_is_stable_and_tells_ports_apart() -> None:
    default = load_settings(None, {})
    other_port = load_settings(None, {"VENUEBRIDGE_PORT": "8081"})
    assert node_identity(default, lambda: "edge-eu.example.org").id == "edge-eu"
    assert node_identity(default, lambda: "edge-eu.example.org").id == "edge-eu"
    assert node_identity(other_port, lambda: "edge-eu").id == "edge-eu-8081"
    # Characters a key or URL would choke on are replaced.
    assert node_identity(default, lambda: "my host/1").id == "my-host-1"
    assert node_identity(default, lambda: "...").id == "node"


def test_nodes_on_free_ports_in_one_process_get_distinct_ids() -> None:
    free = load_settings(None, {"VENUEBRIDGE_PORT": "0"})
    ids = {node_identity(free, lambda: "ci").id for _ in range(20)}
    assert len(ids) == 20
    assert all(i.startswith("ci-") for i in ids)


def test_claims_track_live_and_gone_and_survive_a_failed_write() -> None:
    claims = ChannelClaims()
    claims.gone("never-live")
    assert claims.take() == (set(), set())  # nothing to release that was never claimed

    claims.live("a")
    claims.live("b")
    fresh, released = claims.take()
    assert (fresh, released) == ({"a", "b"}, set())
    claims.gone("a")
    assert claims.held == {"b"}
    fresh, released = claims.take()
    assert (fresh, released) == (set(), {"a"})

    # A write fails while "a" comes back: the release no longer applies, the claim does.
    claims.live("c")
    fresh, released = claims.take()
    claims.live("a")
    claims.give_back(fresh, {"a"})
    assert claims.fresh == {"a", "c"}
    assert claims.released == set()


def test_home_venues_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[node]\nid = "edge-jp"\nvenues = ["jp", "kr"]\n')
    assert load_settings(path, {}).node.venues == ("jp", "kr")
    # The environment wins over the file; a comma-separated list, spaces ignored.
    assert load_settings(path, {"VENUEBRIDGE_NODE_VENUES": " us , eu"}).node.venues == ("us", "eu")
    assert load_settings(None, {}).node.venues == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("JP", "is not a venue id"),
        ("jp,jp", "names a venue twice"),
        (",".join(f"v{n}" for n in range(65)), "at most 64 venues"),
    ],
)
def test_bad_home_venues_are_refused_by_name(value: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=f"'node.venues': .*{reason}"):
        load_settings(None, {"VENUEBRIDGE_NODE_VENUES": value})


def test_a_home_venue_the_event_lacks_stops_start_up(reference_event: Event) -> None:
    settings = load_settings(None, {"VENUEBRIDGE_NODE_VENUES": "jp,atlantis"})
    with pytest.raises(SettingsError, match=r"'node.venues': event .* has no venue 'atlantis'"):
        home_venues(settings, reference_event)
    with pytest.raises(SettingsError, match="atlantis"):
        create_app(settings, reference_event)
    assert home_venues(load_settings(None, {"VENUEBRIDGE_NODE_VENUES": "jp"}), reference_event)
