from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config import Settings, SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings(None, {})
    assert settings == Settings()
    assert settings.port == 8080
    assert settings.event_file is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


def test_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        'port = 9000\nhost = "127.0.0.1"\nlog_level = "debug"\n'
        '[ice]\nstun_urls = ["stun:stun.example.org:3478"]\n'
    )
    from_file = load_settings(path, {})
    assert (from_file.port, from_file.host, from_file.log_level) == (9000, "127.0.0.1", "DEBUG")
    assert from_file.ice.stun_urls == ("stun:stun.example.org:3478",)

    env = {
        "VENUEBRIDGE_PORT": "9100",
        "VENUEBRIDGE_ICE_STUN_URLS": "stun:a:3478, stun:b:3478",
        "VENUEBRIDGE_DATA_DIR": "/srv/vb",
        "PATH": "/usr/bin",
    }
    both = load_settings(path, env)
    assert both.port == 9100
    assert both.host == "127.0.0.1"
    assert both.ice.stun_urls == ("stun:a:3478", "stun:b:3478")
    assert both.data_dir == Path("/srv/vb")


def test_settings_file_named_by_environment(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("port = 9200\n")
    assert load_settings(None, {"VENUEBRIDGE_SETTINGS": str(path)}).port == 9200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VENUEBRIDGE_PORT": "eighty"}, "environment: VENUEBRIDGE_PORT: expected a whole number"),
        ({"VENUEBRIDGE_PORT": "70000"}, "setting 'port': must be between 0 and 65535"),
        ({"VENUEBRIDGE_LOG_LEVEL": "loud"}, "VENUEBRIDGE_LOG_LEVEL: expected one of DEBUG"),
        ({"VENUEBRIDGE_COLOUR": "red"}, "environment: unknown setting VENUEBRIDGE_COLOUR"),
        ({"VENUEBRIDGE_REDIS_URL": "http://x"}, "setting 'redis_url': must be a redis://"),
        ({"VENUEBRIDGE_PUBLIC_URL": "example.org"}, "setting 'public_url': must start with"),
        ({"VENUEBRIDGE_ICE_TURN_URLS": "turn:t:3478"}, "'ice.turn_secret': is required"),
        ({"VENUEBRIDGE_ICE_STUN_URLS": "turn:t"}, "'ice.stun_urls': 'turn:t' is not a stun"),
        ({"VENUEBRIDGE_ICE_UDP_PORT_MIN": "40000"}, "go together"),
        ({"VENUEBRIDGE_VIDEO_CODEC": "AV1"}, "expected one of H264, VP8"),
        ({"VENUEBRIDGE_PRODUCER_SECRET": "short"}, "'producer_secret': needs 16 characters"),
        (
            {"VENUEBRIDGE_ICE_UDP_PORT_MIN": "50000", "VENUEBRIDGE_ICE_UDP_PORT_MAX": "40000"},
            "need 1024 <= min <= max <= 65535",
        ),
        (
            # The mux is on by default: a range with it is a contradiction, not ignored.
            {"VENUEBRIDGE_ICE_UDP_PORT_MIN": "40000", "VENUEBRIDGE_ICE_UDP_PORT_MAX": "40100"},
            "setting 'ice.udp_port_min': a port range is for ice.udp_mux = false",
        ),
        ({"VENUEBRIDGE_ICE_UDP_PORT": "65536"}, "'ice.udp_port': must be between 0 and 65535"),
        ({"VENUEBRIDGE_ICE_UDP_MUX": "perhaps"}, "VENUEBRIDGE_ICE_UDP_MUX: expected true or false"),
        ({"VENUEBRIDGE_ICE_STUN_ANSWERS_PER_SECOND": "0"}, "'ice.stun_answers_per_second'"),
        (
            {"VENUEBRIDGE_ICE_UDP_MUX": "false", "VENUEBRIDGE_ICE_TCP_MUX": "true"},
            "'ice.tcp_mux': ICE-TCP shares the mux's port: it needs ice.udp_mux = true",
        ),
        ({"VENUEBRIDGE_ICE_TCP_PENDING_MAX": "0"}, "'ice.tcp_pending_max': must be 1 to 100000"),
    ],
)
def test_bad_environment_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env)
    assert message in str(caught.value)


def test_bad_file_values_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('port = "high"\n')
    with pytest.raises(SettingsError, match=r"settings\.toml: 'port': expected a whole number"):
        load_settings(path, {})
    path.write_text("[ice]\ncolour = 1\n")
    with pytest.raises(SettingsError, match=r"unknown setting 'ice\.colour'"):
        load_settings(path, {})
    path.write_text("port = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path, {})
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "missing.toml", {})


def test_media_settings_from_environment() -> None:
    settings = load_settings(
        None, {"VENUEBRIDGE_VIDEO_CODEC": "vp8", "VENUEBRIDGE_PRODUCER_SECRET": "a" * 20}
    )
    assert settings.video_codec == "VP8"
    assert settings.producer_secret == "a" * 20
    assert Settings().video_codec == "H264"


def test_routing_settings() -> None:
    settings = load_settings(
        None,
        {
            "VENUEBRIDGE_ROUTING": "off",
            "VENUEBRIDGE_PRE_ROLL_SECONDS": "300",
            "VENUEBRIDGE_REHEARSAL": "yes",
        },
    )
    assert (settings.routing, settings.pre_roll_seconds, settings.rehearsal) == (False, 300, True)
    with pytest.raises(SettingsError, match="VENUEBRIDGE_REHEARSAL: expected true or false"):
        load_settings(None, {"VENUEBRIDGE_REHEARSAL": "maybe"})
    with pytest.raises(SettingsError, match="'source_lost_seconds': must be between"):
        load_settings(None, {"VENUEBRIDGE_SOURCE_LOST_SECONDS": "-1"})


def test_health_and_failover_settings_from_file_and_environment(tmp_path: Path) -> None:
    defaults = load_settings(None, {})
    assert (defaults.health.lost_after, defaults.failover.after) == (1.0, 2.0)
    assert defaults.failover.mode == "auto"
    path = tmp_path / "settings.toml"
    path.write_text('[health]\nlost_after = 1.5\n[failover]\nafter = 4\nmode = "confirm"\n')
    from_file = load_settings(path, {})
    assert (from_file.health.lost_after, from_file.failover.after) == (1.5, 4.0)
    assert from_file.failover.mode == "confirm"
    env = {"VENUEBRIDGE_FAILOVER_AFTER": "2.5", "VENUEBRIDGE_FAILOVER_MODE": "AUTO"}
    both = load_settings(path, env)
    assert (both.failover.after, both.failover.mode) == (2.5, "auto")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VENUEBRIDGE_HEALTH_LOST_AFTER": "soon"}, "HEALTH_LOST_AFTER: expected a number"),
        ({"VENUEBRIDGE_HEALTH_LOST_AFTER": "0.1"}, "'health.lost_after': must be between"),
        ({"VENUEBRIDGE_FAILOVER_AFTER": "0.5"}, "'failover.after': must be between"),
        ({"VENUEBRIDGE_FAILOVER_AFTER": "1000"}, "'failover.after': must be between"),
        ({"VENUEBRIDGE_FAILOVER_MODE": "manual"}, "expected one of auto, confirm"),
    ],
)
def test_bad_health_and_failover_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env)
    assert message in str(caught.value)


def test_rehearsal_and_restart_grace_settings(tmp_path: Path) -> None:
    assert Settings().asrun_restart_grace == 60.0
    assert Settings().rehearsal_lead_seconds == 120
    file = tmp_path / "settings.toml"
    file.write_text(
        'rehearsal = true\nrehearsal_from = "opening"\nrehearsal_speed = 60\n'
        "[asrun]\nrestart_grace = 15.5\n"
    )
    settings = load_settings(file, {"VENUEBRIDGE_REHEARSAL_LEAD_SECONDS": "30"})
    assert settings.rehearsal
    assert settings.rehearsal_from == "opening"
    assert settings.rehearsal_speed == 60.0
    assert settings.rehearsal_lead_seconds == 30
    assert settings.asrun_restart_grace == 15.5
    env = load_settings(None, {"VENUEBRIDGE_ASRUN_RESTART_GRACE": "5"})
    assert env.asrun_restart_grace == 5.0
    with pytest.raises(SettingsError, match="'rehearsal_speed': must be above 0"):
        load_settings(None, {"VENUEBRIDGE_REHEARSAL_SPEED": "0"})
    with pytest.raises(SettingsError, match="VENUEBRIDGE_REHEARSAL_SPEED: expected a number"):
        load_settings(None, {"VENUEBRIDGE_REHEARSAL_SPEED": "fast"})
    with pytest.raises(SettingsError, match=r"'asrun\.restart_grace': must be between 0"):
        load_settings(None, {"VENUEBRIDGE_ASRUN_RESTART_GRACE": "-1"})
    with pytest.raises(SettingsError, match="'rehearsal_lead_seconds': must be between"):
        load_settings(None, {"VENUEBRIDGE_REHEARSAL_LEAD_SECONDS": "100000"})


def test_the_invite_limits_are_settings_checked_by_name() -> None:
    loaded = load_settings(environ={"VENUEBRIDGE_INVITES_MAX_PER_EVENT": "7"})
    assert loaded.invites.max_per_event == 7
    assert load_settings().invites.max_label_chars == 80
    for key, bad in (
        ("max_per_event", "0"),
        ("max_label_chars", "201"),
        ("last_use_seconds", "0"),
    ):
        with pytest.raises(SettingsError, match=rf"invites\.{key}"):
            load_settings(environ={f"VENUEBRIDGE_INVITES_{key.upper()}": bad})


def test_media_port_settings(tmp_path: Path) -> None:
    defaults = load_settings(None, {})
    assert (defaults.ice.udp_mux, defaults.ice.udp_port) == (True, 8189)
    assert defaults.ice.stun_answers_per_second == 20
    assert defaults.ice.tcp_mux is None  # ICE-TCP on whenever the mux is
    assert load_settings(None, {"VENUEBRIDGE_ICE_TCP_MUX": "false"}).ice.tcp_mux is False
    path = tmp_path / "settings.toml"
    path.write_text("[ice]\nudp_mux = false\nudp_port_min = 40000\nudp_port_max = 40199\n")
    ranged = load_settings(path, {})
    assert (ranged.ice.udp_mux, ranged.ice.udp_port_min, ranged.ice.udp_port_max) == (
        False,
        40000,
        40199,
    )
    moved = load_settings(None, {"VENUEBRIDGE_ICE_UDP_PORT": "3479"})
    assert moved.ice.udp_port == 3479
    path.write_text("[ice]\nudp_mux = true\nudp_port_min = 40000\nudp_port_max = 40199\n")
    with pytest.raises(SettingsError, match=r"ice\.udp_port_min.*ice\.udp_mux = false"):
        load_settings(path, {})


def test_relay_settings_from_file_and_environment(tmp_path: Path) -> None:
    defaults = load_settings(None, {})
    assert defaults.relay.upstream is None  # an origin: pulls nothing
    assert (defaults.relay.grace_seconds, defaults.relay.wait_seconds) == (30.0, 5.0)
    assert (defaults.relay.repair_hold_ms, defaults.relay.repair_hold_max_packets) == (1000, 2048)
    path = tmp_path / "settings.toml"
    path.write_text('[relay]\nupstream = "http://origin:8080"\ngrace_seconds = 10\n')
    from_file = load_settings(path, {})
    assert (from_file.relay.upstream, from_file.relay.grace_seconds) == ("http://origin:8080", 10)
    env = {
        "VENUEBRIDGE_RELAY_UPSTREAM": "https://region.example.org",
        "VENUEBRIDGE_RELAY_TOKEN": "t0ken",
        "VENUEBRIDGE_RELAY_STALL_SECONDS": "3",
        "VENUEBRIDGE_RELAY_RETRY_MAX_SECONDS": "20",
        "VENUEBRIDGE_RELAY_WAIT_SECONDS": "0",
    }
    both = load_settings(path, env)
    assert both.relay.upstream == "https://region.example.org"
    assert both.relay.token == "t0ken"
    assert (both.relay.stall_seconds, both.relay.retry_max_seconds) == (3.0, 20.0)
    assert both.relay.wait_seconds == 0
    assert defaults.relay.token_ttl_seconds == 600.0  # the node's own relay token
    renewed = load_settings(None, {"VENUEBRIDGE_RELAY_TOKEN_TTL_SECONDS": "30"})
    assert renewed.relay.token_ttl_seconds == 30.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VENUEBRIDGE_RELAY_UPSTREAM": "origin:8080"}, "'relay.upstream': must be an http"),
        ({"VENUEBRIDGE_RELAY_UPSTREAM": "http://"}, "'relay.upstream': must be an http"),
        ({"VENUEBRIDGE_RELAY_GRACE_SECONDS": "-1"}, "'relay.grace_seconds': must be between"),
        ({"VENUEBRIDGE_RELAY_WAIT_SECONDS": "61"}, "'relay.wait_seconds': must be between"),
        ({"VENUEBRIDGE_RELAY_STALL_SECONDS": "0.5"}, "'relay.stall_seconds': must be between"),
        ({"VENUEBRIDGE_RELAY_RETRY_MAX_SECONDS": "0"}, "'relay.retry_max_seconds': must be"),
        ({"VENUEBRIDGE_RELAY_GRACE_SECONDS": "soon"}, "RELAY_GRACE_SECONDS: expected a number"),
        ({"VENUEBRIDGE_RELAY_REPAIR_HOLD_MS": "-1"}, "'relay.repair_hold_ms': must be between"),
        ({"VENUEBRIDGE_RELAY_REPAIR_HOLD_MS": "5001"}, "'relay.repair_hold_ms': must be between"),
        (
            {"VENUEBRIDGE_RELAY_REPAIR_HOLD_MAX_PACKETS": "15"},
            "'relay.repair_hold_max_packets': must be between",
        ),
        (
            {"VENUEBRIDGE_RELAY_REPAIR_HOLD_MAX_PACKETS": "16385"},
            "'relay.repair_hold_max_packets': must be between",
        ),
        ({"VENUEBRIDGE_RELAY_TOKEN_TTL_SECONDS": "29"}, "'relay.token_ttl_seconds': must be"),
        ({"VENUEBRIDGE_RELAY_TOKEN_TTL_SECONDS": "3601"}, "'relay.token_ttl_seconds': must be"),
    ],
)
def test_bad_relay_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env)
    assert message in str(caught.value)
