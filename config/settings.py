"""Settings: defaults, then an optional TOML file, then ``VENUEBRIDGE_*`` variables.

Read once at start-up into a frozen ``Settings``. Nothing else in the code base reads
the environment; a bad value stops start-up with a message naming the key and its source.
This module knows the keys (how each is parsed) and checks the whole; the file and the
variables are read in ``config/setting_sources.py``, the sections' dataclasses and their
own checks live in ``config/setting_sections.py`` and its neighbours.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.caption_settings import CaptionSettings, validate_captions
from config.hls_settings import HlsSettings, validate_hls
from config.recording_settings import RecordingSettings, validate_recording
from config.setting_sections import (
    ControlLimits,
    FailoverSettings,
    HealthSettings,
    IceSettings,
    InviteSettings,
    MediaSettings,
    NodeSettings,
    RelaySettings,
    SettingsError,
    TokenSettings,
    has_host,
    section_check,
    validate_ice,
    validate_invites,
    validate_limits,
    validate_media,
    validate_node,
    validate_relay,
    validate_tokens,
)
from config.setting_sources import ENV_PREFIX, SETTINGS_FILE_ENV, raw_values
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
from config.workers import parse_workers, validate_workers

# The sections and the sources are defined elsewhere (see above); importers keep using
# this module.
__all__ = [
    "ENV_PREFIX",
    "SETTINGS_FILE_ENV",
    "CaptionSettings",
    "ControlLimits",
    "FailoverSettings",
    "HealthSettings",
    "HlsSettings",
    "IceSettings",
    "InviteSettings",
    "MediaSettings",
    "NodeSettings",
    "RecordingSettings",
    "RelaySettings",
    "Settings",
    "SettingsError",
    "TokenSettings",
    "load_settings",
    "replace",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
VIDEO_CODECS = ("H264", "VP8")
FAILOVER_MODES = ("auto", "confirm")


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
    # Worker processes on this machine (config/workers.py): 1, N or "auto".
    workers: int | str = 1
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
    captions: CaptionSettings = field(default_factory=CaptionSettings)
    hls: HlsSettings = field(default_factory=HlsSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)


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
    "workers": parse_workers,
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
    "media.native_send": parse_bool,
    "media.frame_send": parse_bool,
    "health.lost_after": parse_float,
    "failover.after": parse_float,
    "failover.mode": parse_choice(FAILOVER_MODES, upper=False),
    "node.id": parse_optional_str,
    "node.region": parse_str,
    "node.url": parse_optional_str,
    "node.heartbeat_seconds": parse_float,
    "node.ttl_seconds": parse_float,
    "node.steering": parse_bool,
    "node.pass_seconds": parse_float,
    "node.venues": parse_str_tuple,
    "relay.upstream": parse_optional_str,
    "relay.token": parse_optional_str,
    "relay.grace_seconds": parse_float,
    "relay.wait_seconds": parse_float,
    "relay.stall_seconds": parse_float,
    "relay.retry_max_seconds": parse_float,
    "relay.repair_hold_ms": parse_int,
    "relay.repair_hold_max_packets": parse_int,
    "relay.token_ttl_seconds": parse_float,
    "captions.max_line_chars": parse_int,
    "captions.lines_per_second": parse_float,
    "captions.burst_lines": parse_int,
    "captions.history_lines": parse_int,
    "captions.max_cue_seconds": parse_float,
    "captions.export_burst": parse_int,
    "captions.exports_per_minute": parse_int,
    "captions.asr_model": parse_optional_path,
    "captions.asr_language": parse_optional_str,
    "captions.asr_channels": parse_str_tuple,
    "hls.enabled": parse_bool,
    **{f"hls.{name}": parse_int for name in ("window_segments", "max_segment_bytes")},
    **{f"hls.{name}": parse_int for name in ("playlist_max_age", "segment_max_age")},
    **{f"hls.{name}": parse_float for name in ("segment_seconds", "part_seconds")},
    "hls.block_seconds": parse_float,
    "recording.programme": parse_bool,
    "recording.returns": parse_bool,
    "recording.directory": parse_optional_path,
    "recording.retention_days": parse_float,
    "recording.min_free_mb": parse_int,
    "recording.rotate_minutes": parse_float,
    "recording.fragment_seconds": parse_float,
    "recording.idle_close_seconds": parse_float,
    "recording.languages": parse_bool,
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
    "captions": CaptionSettings,
    "hls": HlsSettings,
    "recording": RecordingSettings,
}


def _validate(settings: Settings) -> None:
    check = section_check("")

    check("port", 0 <= settings.port <= 65535, "must be between 0 and 65535")
    check("host", bool(settings.host), "must not be empty")
    if settings.public_url is not None:
        check(
            "public_url",
            settings.public_url.startswith(("http://", "https://")),
            "must start with http:// or https://",
        )
        # Links and `venuebridge doctor` parse it: a host and a valid port, or nothing works.
        check("public_url", has_host(settings.public_url), "needs a host (and a port <= 65535)")
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
    validate_limits(settings.limits)
    validate_tokens(settings.tokens)
    validate_invites(settings.invites)
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
    validate_ice(settings.ice)
    validate_media(settings.media)
    validate_node(settings.node)
    validate_relay(settings.relay)
    validate_captions(settings.captions)
    validate_hls(settings.hls)
    validate_recording(settings.recording)
    validate_workers(settings)


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
    values = raw_values(file, environ or {}, _PARSERS)
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
