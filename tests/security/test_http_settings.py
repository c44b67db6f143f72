"""The HTTP edge's limits are settings: defaults, environment, and refusals naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import SettingsError, load_settings


def test_edge_defaults() -> None:
    settings = load_settings(None, {})
    assert settings.http_header_timeout_seconds == 10
    assert settings.http_body_timeout_seconds == 30
    assert settings.http_keepalive_seconds == 75
    assert settings.http_max_connections == 4096
    assert settings.trusted_proxies == ()


def test_edge_settings_from_file_and_environment(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text('trusted_proxies = ["10.0.0.0/8", "127.0.0.1"]\nhttp_max_connections = 900\n')
    settings = load_settings(file, {"VENUEBRIDGE_HTTP_HEADER_TIMEOUT_SECONDS": "3"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert settings.http_max_connections == 900
    assert settings.http_header_timeout_seconds == 3
    env = load_settings(None, {"VENUEBRIDGE_TRUSTED_PROXIES": "192.0.2.1, fd00::/8"})
    assert env.trusted_proxies == ("192.0.2.1", "fd00::/8")


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("VENUEBRIDGE_HTTP_HEADER_TIMEOUT_SECONDS", "0", "http_header_timeout_seconds"),
        ("VENUEBRIDGE_HTTP_BODY_TIMEOUT_SECONDS", "99999", "http_body_timeout_seconds"),
        ("VENUEBRIDGE_HTTP_KEEPALIVE_SECONDS", "0", "http_keepalive_seconds"),
        ("VENUEBRIDGE_HTTP_MAX_CONNECTIONS", "0", "http_max_connections"),
        ("VENUEBRIDGE_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", "trusted_proxies"),
    ],
)
def test_bad_edge_values_name_the_key(name: str, value: str, key: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings(None, {name: value})
