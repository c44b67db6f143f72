"""Where setting values come from: the TOML file and the ``VENUEBRIDGE_*`` variables.

This module only finds raw values and says where each came from (for the error message);
``config.settings`` knows the keys, parses the values and validates the result. The file
is named by the caller or by ``VENUEBRIDGE_SETTINGS``; a variable overrides the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path

from config.setting_sections import SettingsError

ENV_PREFIX = "VENUEBRIDGE_"
# Names the settings file itself; the other VENUEBRIDGE_* variables name settings.
SETTINGS_FILE_ENV = "VENUEBRIDGE_SETTINGS"

# A raw value and where it was read, e.g. ``("8443", "environment: VENUEBRIDGE_PORT")``.
Sourced = tuple[object, str]


def env_name(key: str) -> str:
    """The variable that sets ``key``: ``ice.udp_port`` is ``VENUEBRIDGE_ICE_UDP_PORT``."""
    return ENV_PREFIX + key.replace(".", "_").upper()


def _flatten(
    table: Mapping[str, object], known: Collection[str], source: str, prefix: str = ""
) -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, known, source, prefix=f"{key}."))
        elif key in known:
            flat[key] = value
        else:
            raise SettingsError(f"{source}: unknown setting '{key}'")
    return flat


def read_file(path: Path, known: Collection[str]) -> dict[str, object]:
    """The settings in a TOML file, by dotted key (``[ice] udp_port`` is ``ice.udp_port``)."""
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    return _flatten(table, known, str(path))


def raw_values(
    file: Path | None, environ: Mapping[str, str], known: Collection[str]
) -> dict[str, Sourced]:
    """Every value set in ``file`` (or the file ``VENUEBRIDGE_SETTINGS`` names) and then
    ``environ``, by dotted key; an unknown key in either stops with a ``SettingsError``."""
    if file is None and environ.get(SETTINGS_FILE_ENV, "").strip():
        file = Path(environ[SETTINGS_FILE_ENV].strip())
    values: dict[str, Sourced] = {}
    if file is not None:
        for key, value in read_file(file, known).items():
            values[key] = (value, f"{file}: '{key}'")
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == SETTINGS_FILE_ENV:
            continue
        env_key = next((k for k in known if env_name(k) == name), None)
        if env_key is None:
            raise SettingsError(f"environment: unknown setting {name}")
        values[env_key] = (value, f"environment: {name}")
    return values
