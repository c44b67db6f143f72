"""What every section's checks share: the error a bad setting raises, the helper that
names the key in it, and the URL test the sections with addresses use.

The lowest of the settings modules: it imports none of the others, so any can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting could not be read or failed validation."""


def section_check(prefix: str) -> Callable[[str, bool, str], None]:
    """``check(key, ok, reason)``: a ``SettingsError`` naming ``prefix + key`` unless ok."""

    def check(key: str, ok: bool, reason: str) -> None:
        if not ok:
            raise SettingsError(f"setting '{prefix}{key}': {reason}")

    return check


def has_host(url: str) -> bool:
    """``url`` names a host (and, if it names a port, a valid one)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it raises ValueError for a bad port)
    except ValueError:
        return False
    return bool(parts.hostname)
