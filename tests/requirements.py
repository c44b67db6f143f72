"""What a test tier needs from the machine, and what happens when it is missing.

On a developer's machine a missing Chromium, coturn, Caddy or test network skips its tier
with a reason. With ``CI=true`` it fails instead: CI must never pass without having run a tier.
(A missing redis-server always fails: see tests/redis_server.py.)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest

from tests.chromium import CHROMIUM


def _network() -> bool:
    from tests.media_peers import non_loopback_ipv4  # imports aiortc: only when asked

    return non_loopback_ipv4() is not None


# name -> (is it here?, what to do about it)
REQUIREMENTS: dict[str, tuple[Callable[[], bool], str]] = {
    "chromium": (
        lambda: shutil.which(CHROMIUM) is not None,
        f"{CHROMIUM} is not installed (scripts/setup.sh --dev installs it)",
    ),
    "coturn": (
        lambda: shutil.which("turnserver") is not None,
        "coturn (turnserver) is not installed (scripts/setup.sh --dev installs it)",
    ),
    "caddy": (
        lambda: shutil.which("caddy") is not None,
        "Caddy is not installed (scripts/setup.sh --dev installs it)",
    ),
    "nginx": (
        lambda: shutil.which("nginx") is not None or os.path.exists("/usr/sbin/nginx"),
        "nginx is not installed (scripts/setup.sh --dev installs it)",
    ),
    "nftables": (
        lambda: shutil.which("nft") is not None,
        "nftables (nft) is not installed (scripts/setup.sh --dev installs it)",
    ),
    "namespaces": (
        lambda: os.geteuid() == 0 and all(shutil.which(t) for t in ("unshare", "nsenter", "ip")),
        "needs root with unshare, nsenter and ip (util-linux, iproute2) for the topology tests",
    ),
    "node": (
        lambda: shutil.which("node") is not None,
        "Node.js is not installed (scripts/setup.sh --dev installs it)",
    ),
    "network": (
        _network,
        "needs a non-loopback IPv4 address for ICE host candidates; "
        "run inside scripts/test.sh's network namespace",
    ),
}


@dataclass(frozen=True, slots=True)
class Missing:
    """A requirement that is not met: fail the test (in CI) or skip it, and why."""

    fail: bool
    reason: str


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """CI services set ``CI=true``; so does anyone who wants the strict behaviour."""
    return environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def verdict(name: str, present: bool, environ: Mapping[str, str]) -> Missing | None:
    """None when the requirement is met; otherwise fail in CI, skip elsewhere."""
    if present:
        return None
    _, hint = REQUIREMENTS[name]
    if running_in_ci(environ):
        return Missing(fail=True, reason=f"{hint}; with CI=true this fails instead of skipping")
    return Missing(fail=False, reason=hint)


def require(name: str) -> None:
    """Skip or fail the running test when ``name`` (a key of REQUIREMENTS) is missing."""
    is_present, _ = REQUIREMENTS[name]
    missing = verdict(name, is_present(), os.environ)
    if missing is None:
        return
    if missing.fail:
        pytest.fail(missing.reason, pytrace=False)
    pytest.skip(missing.reason)
