"""Settings: defaults, then an optional TOML file, then ``VENUEBRIDGE_*`` variables.

Read once at start-up into a frozen ``Settings``. Nothing else in the code base reads
the environment; a bad value stops start-up with a message naming the key and its source.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "VENUEBRIDGE_"
# Names the settings file itself; the other VENUEBRIDGE_* variables name settings.
SETTINGS_FILE_ENV = "VENUEBRIDGE_SETTINGS"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
VIDEO_CODECS = ("H264", "VP8")


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
    udp_port_min: int | None = None
    udp_port_max: int | None = None


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
    rehearsal_lead_seconds: int = 120
    rehearsal_from: str | None = None
    rehearsal_speed: float = 1.0
    # A node back within this many seconds of its last heartbeat continues the airings
    # it left on air (with the time it was down as off air) instead of closing them.
    asrun_restart_grace: float = 60.0
    ice: IceSettings = field(default_factory=IceSettings)


def _parse_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError("expected a whole number")


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError("expected a number")


def _parse_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()


def _parse_optional_str(value: object) -> str | None:
    text = _parse_str(value)
    return text or None


def _parse_optional_int(value: object) -> int | None:
    if isinstance(value, str) and not value.strip():
        return None
    return _parse_int(value)


def _parse_path(value: object) -> Path:
    text = _parse_str(value)
    if not text:
        raise ValueError("expected a path")
    return Path(text)


def _parse_optional_path(value: object) -> Path | None:
    text = _parse_str(value)
    return Path(text) if text else None


def _parse_str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list):
        items = list(value)
    else:
        raise ValueError("expected a list of strings or a comma-separated string")
    result = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("expected a list of strings")
        if item.strip():
            result.append(item.strip())
    return tuple(result)


def _parse_choice(choices: tuple[str, ...], *, upper: bool) -> Callable[[object], str]:
    def parse(value: object) -> str:
        text = _parse_str(value)
        text = text.upper() if upper else text.lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return parse


_PARSERS: dict[str, Callable[[object], Any]] = {
    "host": _parse_str,
    "port": _parse_int,
    "data_dir": _parse_path,
    "event_file": _parse_optional_path,
    "log_level": _parse_choice(LOG_LEVELS, upper=True),
    "log_format": _parse_choice(LOG_FORMATS, upper=False),
    "public_url": _parse_optional_str,
    "redis_url": _parse_optional_str,
    "video_codec": _parse_choice(VIDEO_CODECS, upper=True),
    "routing": _parse_bool,
    "pre_roll_seconds": _parse_int,
    "asrun_tolerance_seconds": _parse_int,
    "source_lost_seconds": _parse_int,
    "rehearsal": _parse_bool,
    "rehearsal_lead_seconds": _parse_int,
    "rehearsal_from": _parse_optional_str,
    "rehearsal_speed": _parse_number,
    "asrun.restart_grace": _parse_number,
    "producer_secret": _parse_optional_str,
    "ice.stun_urls": _parse_str_tuple,
    "ice.turn_urls": _parse_str_tuple,
    "ice.turn_secret": _parse_optional_str,
    "ice.turn_credential_ttl": _parse_int,
    "ice.advertised_addresses": _parse_str_tuple,
    "ice.udp_port_min": _parse_optional_int,
    "ice.udp_port_max": _parse_optional_int,
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
    low, high = ice.udp_port_min, ice.udp_port_max
    check(
        "ice.udp_port_min",
        (low is None) == (high is None),
        "ice.udp_port_min and ice.udp_port_max go together",
    )
    if low is not None and high is not None:
        check("ice.udp_port_min", 1024 <= low <= high <= 65535, "need 1024 <= min <= max <= 65535")


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
    ice: dict[str, Any] = {}
    for key, (raw, source) in values.items():
        try:
            parsed = _PARSERS[key](raw)
        except ValueError as error:
            raise SettingsError(f"{source}: {error} (got {raw!r})") from None
        if key.startswith("ice."):
            ice[key.removeprefix("ice.")] = parsed
        else:
            # Other dotted keys name flat fields: ``asrun.restart_grace`` is asrun_restart_grace.
            top[key.replace(".", "_")] = parsed
    settings = Settings(**top, ice=IceSettings(**ice))
    _validate(settings)
    return settings


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with ``changes`` applied and validated again."""
    updated = dataclasses.replace(settings, **changes)
    _validate(updated)
    return updated
