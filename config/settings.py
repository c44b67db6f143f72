"""Settings: defaults, then an optional TOML file, then ``VENUEBRIDGE_*`` variables.

Read once at start-up into a frozen ``Settings``. Nothing else in the code base reads
the environment; a bad value stops start-up with a message naming the key and its source.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.setting_values import (
    parse_bool,
    parse_choice,
    parse_float,
    parse_int,
    parse_optional_bool,
    parse_optional_int,
    parse_optional_path,
    parse_optional_str,
    parse_path,
    parse_str,
    parse_str_tuple,
)

ENV_PREFIX = "VENUEBRIDGE_"
# Names the settings file itself; the other VENUEBRIDGE_* variables name settings.
SETTINGS_FILE_ENV = "VENUEBRIDGE_SETTINGS"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
VIDEO_CODECS = ("H264", "VP8")
FAILOVER_MODES = ("auto", "confirm")
# Node ids go into Redis keys, URLs and logs: a short plain name.
NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
NODE_ID_RULE = "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
REGION = re.compile(r"[a-z0-9-]{0,32}")
REGION_RULE = "at most 32 lower-case letters, digits or '-' (like cn, us, eu, jp)"


class SettingsError(ValueError):
    """A setting could not be read or failed validation."""


@dataclass(frozen=True, slots=True)
class IceSettings:
    """What the media plane tells aiortc and hands to clients for ICE."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    # coturn's ``static-auth-secret``: clients get time-limited REST-style credentials.
    turn_secret: str | None = None
    turn_credential_ttl: int = 86400
    # Addresses written into our candidates instead of the interface ones (NAT, cloud).
    advertised_addresses: tuple[str, ...] = ()
    # All media of the process on one UDP socket (streaming/udp_mux.py): a firewall
    # needs one rule. 0 picks a free port at start-up (tests).
    udp_mux: bool = True
    udp_port: int = 8189
    # Answers to plain STUN binding requests (no ICE username) on the media port, per
    # second: lets ``venuebridge doctor`` see the port open, without making us a reflector.
    stun_answers_per_second: int = 20
    # ICE over TCP (RFC 6544) on the same port number, for networks that drop UDP; and
    # how many TCP connections may wait unauthenticated for their first check.
    # None: on whenever udp_mux is.
    tcp_mux: bool | None = None
    tcp_pending_max: int = 256
    # Without the mux: each connection's socket on a port in this range (both or neither);
    # neither means any free port.
    udp_port_min: int | None = None
    udp_port_max: int | None = None


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """Abuse limits of the control plane (``[limits]``): the websocket, identities, votes."""

    # Every /ws frame takes one token from its connection's bucket; a join takes more.
    ws_message_burst: int = 60
    ws_messages_per_second: int = 20
    ws_join_cost: int = 10
    # Frames refused in a row (over the rate) before the socket is closed.
    ws_refused_before_close: int = 50
    # Anonymous identities minted per client address: room for a venue NAT full of phones.
    anonymous_burst_per_address: int = 500
    anonymous_per_address_per_minute: int = 300
    vote_burst_per_identity: int = 20
    votes_per_identity_per_minute: int = 60
    vote_burst_per_address: int = 600
    votes_per_address_per_minute: int = 600
    # Votes on one question from one address within the window that flag it to moderators.
    suspect_votes_per_address: int = 50
    suspect_window_seconds: int = 60


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """Token lifetimes per role (``[tokens]``, in hours) and how revocations spread."""

    viewer_max_hours: int = 720
    operator_max_hours: int = 336
    moderator_max_hours: int = 336
    producer_max_hours: int = 336
    director_max_hours: int = 168
    admin_max_hours: int = 24
    # Every node re-reads the revocation list this often (the CLI writes it to the store).
    revocation_refresh_seconds: int = 5

    def max_hours(self, role: str) -> int:
        """The longest lifetime a token of ``role`` may have, in hours."""
        hours: int = getattr(self, f"{role}_max_hours")
        return hours


@dataclass(frozen=True, slots=True)
class InviteSettings:
    """The invite page (``[invites]``): how many, how long a label, how often a use is saved."""

    # Invites not yet expired (revoked ones included, until they expire) per event.
    max_per_event: int = 500
    max_label_chars: int = 80
    # A token's last use is written at most once per this many seconds per node.
    last_use_seconds: int = 60


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Admission control for WHEP sessions and how long a session may take to connect."""

    # Every WHEP session (channel players and venue outputs together).
    max_sessions: int = 1000
    # Per channel, and per venue output.
    max_sessions_per_channel: int = 500
    # Per client address; a venue behind one NAT may need more.
    max_sessions_per_address: int = 50
    # Session set-ups per client address: a token bucket refilled at this rate.
    setup_rate_per_minute: int = 120
    setup_burst: int = 20
    # A WHIP or WHEP session whose ICE/DTLS has not connected by then is ended.
    connect_timeout_seconds: int = 20


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """When a channel's source counts as lost."""

    # Seconds without media from the publisher on air.
    lost_after: float = 1.0


@dataclass(frozen=True, slots=True)
class FailoverSettings:
    """When outputs move to a channel's backup publisher and back."""

    # Seconds the primary must be lost before the backup goes on air.
    after: float = 2.0
    # "auto": back to the primary as soon as it returns; "confirm": when the director says.
    mode: str = "auto"


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """This node among several (``[node]``): its name, region and address, and its heartbeat.

    With Redis each node writes a directory entry that lives ``ttl_seconds`` unless the
    next heartbeat (every ``heartbeat_seconds``) refreshes it: a dead node drops out alone.
    """

    # None: derived from the host name (config/node.py), the same after a restart.
    id: str | None = None
    # Free text naming where the node is ("cn", "us", "eu", "jp", "kr", "cis").
    region: str = ""
    # This node's public base URL; None means ``public_url``.
    url: str | None = None
    heartbeat_seconds: float = 3.0
    ttl_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """``[relay]``: pull channels from an upstream node (an edge of an origin).

    ``upstream`` unset: this node is an origin and pulls nothing. ``token`` is the Bearer
    token sent on each pull (it must be valid at the upstream: a director token there).
    """

    upstream: str | None = None
    token: str | None = None
    # A pull stays up this long after its last local viewer leaves.
    grace_seconds: float = 30.0
    # A WHEP request for a channel being pulled waits this long before a 409.
    wait_seconds: float = 5.0
    # No media on a pull for this long: it is re-established.
    stall_seconds: float = 5.0
    # The longest pause between two attempts to re-establish a broken pull.
    retry_max_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with, validated and frozen."""

    host: str = "0.0.0.0"
    port: int = 8080
    data_dir: Path = Path("data")
    # None means the reference event shipped inside the ``config`` package.
    event_file: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    public_url: str | None = None
    redis_url: str | None = None
    # One video codec per event, so venue outputs can switch sources without renegotiating.
    video_codec: str = "H264"
    # An optional ingest key, like a broadcast stream key: publishes any channel and
    # routes any venue. Role tokens (``venuebridge token``) are the usual credentials.
    producer_secret: str | None = None
    # Routing automation and as-run records (run on the node that holds venue outputs).
    routing: bool = True
    pre_roll_seconds: int = 120
    asrun_tolerance_seconds: int = 120
    source_lost_seconds: int = 30
    # The rehearsal clock: the event shifted so its first session (or ``rehearsal_from``)
    # starts ``rehearsal_lead_seconds`` after start-up, running ``rehearsal_speed`` times
    # as fast as real time; records made on it are marked rehearsal.
    rehearsal: bool = False
    # The HTTP edge (web/server.py): a client must finish its request head and its body
    # within these, idle keep-alive connections close after the third, and at most
    # ``http_max_connections`` connections are open at once (the rest get a 503).
    http_header_timeout_seconds: int = 10
    http_body_timeout_seconds: int = 30
    http_keepalive_seconds: int = 75
    http_max_connections: int = 4096
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For, -Proto and
    # -Host are believed; from anyone else those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Built-in HTTPS for set-ups without a reverse proxy: a PEM certificate chain and its
    # private key, both or neither. SIGHUP re-reads them (web/tls.py).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    rehearsal_lead_seconds: int = 120
    rehearsal_from: str | None = None
    rehearsal_speed: float = 1.0
    # A node back within this many seconds of its last heartbeat continues the airings
    # it left on air (with the time it was down as off air) instead of closing them.
    asrun_restart_grace: float = 60.0
    ice: IceSettings = field(default_factory=IceSettings)
    limits: ControlLimits = field(default_factory=ControlLimits)
    tokens: TokenSettings = field(default_factory=TokenSettings)
    invites: InviteSettings = field(default_factory=InviteSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    failover: FailoverSettings = field(default_factory=FailoverSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "host": parse_str,
    "port": parse_int,
    "data_dir": parse_path,
    "event_file": parse_optional_path,
    "log_level": parse_choice(LOG_LEVELS, upper=True),
    "log_format": parse_choice(LOG_FORMATS, upper=False),
    "public_url": parse_optional_str,
    "redis_url": parse_optional_str,
    "video_codec": parse_choice(VIDEO_CODECS, upper=True),
    "routing": parse_bool,
    "pre_roll_seconds": parse_int,
    "asrun_tolerance_seconds": parse_int,
    "source_lost_seconds": parse_int,
    "rehearsal": parse_bool,
    "rehearsal_lead_seconds": parse_int,
    "rehearsal_from": parse_optional_str,
    "rehearsal_speed": parse_float,
    "asrun.restart_grace": parse_float,
    "producer_secret": parse_optional_str,
    "http_header_timeout_seconds": parse_int,
    "http_body_timeout_seconds": parse_int,
    "http_keepalive_seconds": parse_int,
    "http_max_connections": parse_int,
    "trusted_proxies": parse_str_tuple,
    "tls_cert": parse_optional_path,
    "tls_key": parse_optional_path,
    "ice.stun_urls": parse_str_tuple,
    "ice.turn_urls": parse_str_tuple,
    "ice.turn_secret": parse_optional_str,
    "ice.turn_credential_ttl": parse_int,
    "ice.advertised_addresses": parse_str_tuple,
    "ice.udp_mux": parse_bool,
    "ice.udp_port": parse_int,
    "ice.stun_answers_per_second": parse_int,
    "ice.tcp_mux": parse_optional_bool,
    "ice.tcp_pending_max": parse_int,
    "ice.udp_port_min": parse_optional_int,
    "ice.udp_port_max": parse_optional_int,
    **{f"limits.{name}": parse_int for name in ControlLimits.__dataclass_fields__},
    **{f"tokens.{name}": parse_int for name in TokenSettings.__dataclass_fields__},
    **{f"invites.{name}": parse_int for name in InviteSettings.__dataclass_fields__},
    **{f"media.{name}": parse_int for name in MediaSettings.__dataclass_fields__},
    "health.lost_after": parse_float,
    "failover.after": parse_float,
    "failover.mode": parse_choice(FAILOVER_MODES, upper=False),
    "node.id": parse_optional_str,
    "node.region": parse_str,
    "node.url": parse_optional_str,
    "node.heartbeat_seconds": parse_float,
    "node.ttl_seconds": parse_float,
    "relay.upstream": parse_optional_str,
    "relay.token": parse_optional_str,
    "relay.grace_seconds": parse_float,
    "relay.wait_seconds": parse_float,
    "relay.stall_seconds": parse_float,
    "relay.retry_max_seconds": parse_float,
}
# Settings in a ``[section]`` of the file, each built into its own frozen dataclass.
_SECTIONS: dict[str, type[Any]] = {
    "ice": IceSettings,
    "limits": ControlLimits,
    "tokens": TokenSettings,
    "invites": InviteSettings,
    "media": MediaSettings,
    "health": HealthSettings,
    "failover": FailoverSettings,
    "node": NodeSettings,
    "relay": RelaySettings,
}


def _env_name(key: str) -> str:
    return ENV_PREFIX + key.replace(".", "_").upper()


def _flatten(table: Mapping[str, object], source: str, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, source, prefix=f"{key}."))
        elif key in _PARSERS:
            flat[key] = value
        else:
            raise SettingsError(f"{source}: unknown setting '{key}'")
    return flat


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    return _flatten(table, str(path))


def _validate(settings: Settings) -> None:
    def check(key: str, ok: bool, reason: str) -> None:
        if not ok:
            raise SettingsError(f"setting '{key}': {reason}")

    check("port", 0 <= settings.port <= 65535, "must be between 0 and 65535")
    check("host", bool(settings.host), "must not be empty")
    if settings.public_url is not None:
        check(
            "public_url",
            settings.public_url.startswith(("http://", "https://")),
            "must start with http:// or https://",
        )
        # Links and `venuebridge doctor` parse it: a host and a valid port, or nothing works.
        check("public_url", _has_host(settings.public_url), "needs a host (and a port <= 65535)")
    if settings.redis_url is not None:
        check(
            "redis_url",
            settings.redis_url.startswith(("redis://", "rediss://", "unix://")),
            "must be a redis://, rediss:// or unix:// URL",
        )
    if settings.producer_secret is not None:
        check("producer_secret", len(settings.producer_secret) >= 16, "needs 16 characters or more")
    for key in ("pre_roll_seconds", "asrun_tolerance_seconds", "source_lost_seconds"):
        check(key, 0 <= getattr(settings, key) <= 86400, "must be between 0 and 86400")
    for key in ("http_header_timeout_seconds", "http_body_timeout_seconds"):
        check(key, 1 <= getattr(settings, key) <= 3600, "must be between 1 and 3600")
    check(
        "http_keepalive_seconds",
        1 <= settings.http_keepalive_seconds <= 86400,
        "must be between 1 and 86400",
    )
    check("http_max_connections", settings.http_max_connections >= 1, "must be 1 or more")
    for entry in settings.trusted_proxies:
        check(
            "trusted_proxies", _is_network(entry), f"'{entry}' is not an address or a CIDR network"
        )
    check(
        "tls_cert",
        (settings.tls_cert is None) == (settings.tls_key is None),
        "tls_cert and tls_key go together: set both for HTTPS, or neither",
    )
    check(
        "rehearsal_lead_seconds",
        0 <= settings.rehearsal_lead_seconds <= 86400,
        "must be between 0 and 86400",
    )
    check("rehearsal_speed", 0 < settings.rehearsal_speed <= 3600, "must be above 0, at most 3600")
    check(
        "asrun.restart_grace",
        0 <= settings.asrun_restart_grace <= 86400,
        "must be between 0 and 86400 seconds",
    )
    ice = settings.ice
    for url in ice.stun_urls:
        check("ice.stun_urls", url.startswith(("stun:", "stuns:")), f"'{url}' is not a stun: URL")
    for url in ice.turn_urls:
        check("ice.turn_urls", url.startswith(("turn:", "turns:")), f"'{url}' is not a turn: URL")
    check(
        "ice.turn_secret",
        not ice.turn_urls or ice.turn_secret is not None,
        "is required when ice.turn_urls is set",
    )
    check("ice.turn_credential_ttl", ice.turn_credential_ttl > 0, "must be positive")
    for name in ControlLimits.__dataclass_fields__:
        value = getattr(settings.limits, name)
        check(f"limits.{name}", 1 <= value <= 1_000_000, "must be between 1 and 1000000")
    for name in TokenSettings.__dataclass_fields__:
        value = getattr(settings.tokens, name)
        check(f"tokens.{name}", 1 <= value <= 87_600, "must be between 1 and 87600")
    invites = settings.invites
    check("invites.max_per_event", 1 <= invites.max_per_event <= 100_000, "must be 1 to 100000")
    check("invites.max_label_chars", 1 <= invites.max_label_chars <= 200, "must be 1 to 200")
    check("invites.last_use_seconds", 1 <= invites.last_use_seconds <= 3600, "must be 1 to 3600")
    low, high = ice.udp_port_min, ice.udp_port_max
    check(
        "ice.udp_port_min",
        (low is None) == (high is None),
        "ice.udp_port_min and ice.udp_port_max go together",
    )
    if low is not None and high is not None:
        check("ice.udp_port_min", 1024 <= low <= high <= 65535, "need 1024 <= min <= max <= 65535")
    check(
        "ice.udp_port_min",
        low is None or not ice.udp_mux,
        "a port range is for ice.udp_mux = false; the mux uses the one port ice.udp_port",
    )
    check("ice.udp_port", 0 <= ice.udp_port <= 65535, "must be between 0 and 65535")
    check(
        "ice.tcp_mux",
        ice.udp_mux or ice.tcp_mux is not True,
        "ICE-TCP shares the mux's port: it needs ice.udp_mux = true",
    )
    check("ice.tcp_pending_max", 1 <= ice.tcp_pending_max <= 100_000, "must be 1 to 100000")
    check(
        "ice.stun_answers_per_second",
        1 <= ice.stun_answers_per_second <= 10_000,
        "must be between 1 and 10000",
    )
    check(
        "health.lost_after",
        0.25 <= settings.health.lost_after <= 60,
        "must be between 0.25 and 60 seconds",
    )
    check(
        "failover.after",
        settings.health.lost_after <= settings.failover.after <= 600,
        "must be between health.lost_after and 600 seconds",
    )
    _validate_media(settings.media)
    _validate_node(settings.node)
    _validate_relay(settings.relay)


def _validate_node(node: NodeSettings) -> None:
    def check(key: str, ok: bool, reason: str) -> None:
        if not ok:
            raise SettingsError(f"setting 'node.{key}': {reason}")

    if node.id is not None:
        check("id", NODE_ID.fullmatch(node.id) is not None, NODE_ID_RULE)
    check("region", REGION.fullmatch(node.region) is not None, REGION_RULE)
    if node.url is not None:
        check("url", node.url.startswith(("http://", "https://")), "must start with http(s)://")
        check("url", _has_host(node.url), "needs a host (and a port <= 65535)")
    check("heartbeat_seconds", 0.1 <= node.heartbeat_seconds <= 60, "must be 0.1 to 60 seconds")
    check(
        "ttl_seconds",
        2 * node.heartbeat_seconds <= node.ttl_seconds <= 600,
        "must be at least twice node.heartbeat_seconds and at most 600 seconds",
    )


def _validate_relay(relay: RelaySettings) -> None:
    def check(key: str, ok: bool, reason: str) -> None:
        if not ok:
            raise SettingsError(f"setting 'relay.{key}': {reason}")

    if relay.upstream is not None:
        check(
            "upstream",
            relay.upstream.startswith(("http://", "https://")) and _has_host(relay.upstream),
            "must be an http:// or https:// URL with a host (the node to pull from)",
        )
    check("grace_seconds", 0 <= relay.grace_seconds <= 86400, "must be between 0 and 86400")
    check("wait_seconds", 0 <= relay.wait_seconds <= 60, "must be between 0 and 60")
    check("stall_seconds", 1 <= relay.stall_seconds <= 600, "must be between 1 and 600")
    check("retry_max_seconds", 1 <= relay.retry_max_seconds <= 600, "must be between 1 and 600")


def _validate_media(media: MediaSettings) -> None:
    for name in (
        "max_sessions",
        "max_sessions_per_channel",
        "max_sessions_per_address",
        "setup_rate_per_minute",
        "setup_burst",
    ):
        if not 1 <= getattr(media, name) <= 1_000_000:
            raise SettingsError(f"setting 'media.{name}': must be between 1 and 1000000")
    if not 1 <= media.connect_timeout_seconds <= 600:
        raise SettingsError("setting 'media.connect_timeout_seconds': must be between 1 and 600")


def _has_host(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it raises ValueError for a bad port)
    except ValueError:
        return False
    return bool(parts.hostname)


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def load_settings(
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from defaults, ``file`` (TOML) and ``environ``, then validate."""
    environ = environ or {}
    if file is None and environ.get(SETTINGS_FILE_ENV, "").strip():
        file = Path(environ[SETTINGS_FILE_ENV].strip())
    values: dict[str, tuple[object, str]] = {}
    if file is not None:
        for key, value in _read_file(file).items():
            values[key] = (value, f"{file}: '{key}'")
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == SETTINGS_FILE_ENV:
            continue
        env_key = next((k for k in _PARSERS if _env_name(k) == name), None)
        if env_key is None:
            raise SettingsError(f"environment: unknown setting {name}")
        values[env_key] = (value, f"environment: {name}")

    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    for key, (raw, source) in values.items():
        try:
            parsed = _PARSERS[key](raw)
        except ValueError as error:
            raise SettingsError(f"{source}: {error} (got {raw!r})") from None
        section, dot, name = key.partition(".")
        if dot and section in sections:
            sections[section][name] = parsed
        elif dot:
            # Other dotted keys name flat fields: ``asrun.restart_grace`` is asrun_restart_grace.
            top[key.replace(".", "_")] = parsed
        else:
            top[key] = parsed
    built = {name: kind(**sections[name]) for name, kind in _SECTIONS.items()}
    settings = Settings(**top, **built)
    _validate(settings)
    return settings


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with ``changes`` applied and validated again."""
    updated = dataclasses.replace(settings, **changes)
    _validate(updated)
    return updated
