"""What every ``venuebridge`` command shares: settings from the file, env and flags."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from config import Settings, load_settings
from config.settings import replace

# Flags that override the setting of the same name when given.
OVERRIDES = ("host", "port", "data_dir", "event_file", "public_url", "workers")


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults, then ``--settings``, then ``VENUEBRIDGE_*``, then the command's flags."""
    settings = load_settings(args.settings, os.environ)
    changes: dict[str, object] = {}
    for name in OVERRIDES:
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    # --rehearse-from and --rehearse-speed imply --rehearse.
    if getattr(args, "rehearse", False):
        changes["rehearsal"] = True
    if getattr(args, "rehearse_from", None) is not None:
        changes.update(rehearsal=True, rehearsal_from=args.rehearse_from)
    if getattr(args, "rehearse_speed", None) is not None:
        changes.update(rehearsal=True, rehearsal_speed=args.rehearse_speed)
    return replace(settings, **changes) if changes else settings


def add_settings_options(sub: argparse.ArgumentParser) -> None:
    """``--settings`` and ``--event``, as the server takes them."""
    sub.add_argument("--settings", type=Path, help="settings file (TOML)")
    sub.add_argument("--event", dest="event_file", type=Path, help="event file (TOML)")


def add_deployment_options(sub: argparse.ArgumentParser) -> None:
    """Where a running server keeps its data and where browsers reach it."""
    sub.add_argument(
        "--data-dir", type=Path, help="the server's data directory (else VENUEBRIDGE_DATA_DIR)"
    )
    sub.add_argument(
        "--public-url",
        help="the address browsers use, e.g. https://live.example.org "
        "(else VENUEBRIDGE_PUBLIC_URL)",
    )


def listens_only_on_loopback(host: str) -> bool:
    """Whether ``host`` (the ``host`` setting) is reachable from this machine alone."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def public_url_warning(settings: Settings) -> str | None:
    """What ``serve`` says at start-up when others will reach it with no public URL set."""
    if settings.public_url or listens_only_on_loopback(settings.host):
        return None
    return (
        f"public_url is not set and the server listens on {settings.host}: pages build "
        "their links from the address each browser used, but `venuebridge token` prints "
        "path-only links and `doctor` cannot check what the audience reaches. Set "
        "VENUEBRIDGE_PUBLIC_URL (or public_url) to the address browsers use, "
        "e.g. https://live.example.org"
    )


def bounded_number(upper: float, what: str) -> Callable[[str], float]:
    """An argparse type: a number above 0 and at most ``upper`` ("'x' is not <what>")."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}")
        return value

    return parse
