"""This node's identity: the id, region and URL the directory and the bus know it by.

The id comes from ``node.id``, or else from the host name, so a restarted node comes back
under the name it had (its directory entries and the log lines match). Two processes on
one host differ by port. A node on port 0 (a free port picked at start-up, as tests do)
has no stable address to begin with, so it gets a random suffix instead: several such
nodes in one test process must not share an id, or each would ignore the others' bus
messages as its own.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from config.event import Event
from config.settings import Settings, SettingsError

DEFAULT_PORT = Settings().port
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """Who this node is among several; ``url`` is None when no public URL is set."""

    id: str
    region: str
    url: str | None


def node_identity(
    settings: Settings, hostname: Callable[[], str] = socket.gethostname
) -> NodeIdentity:
    """This node's id, region and public base URL, from the settings (and the host name)."""
    node = settings.node
    url = node.url or settings.public_url
    return NodeIdentity(
        id=node.id or _derived_id(hostname(), settings.port),
        region=node.region,
        url=url.rstrip("/") if url else None,
    )


def _derived_id(hostname: str, port: int) -> str:
    base = _NOT_ALLOWED.sub("-", hostname.split(".")[0]).strip("-._")[:40] or "node"
    if port == 0:
        return f"{base}-{secrets.token_hex(3)}"
    if port != DEFAULT_PORT:
        return f"{base}-{port}"
    return base


def home_venues(settings: Settings, event: Event) -> tuple[str, ...]:
    """The venues ``node.venues`` makes this node home to; each must be in the event."""
    for venue in settings.node.venues:
        if event.venue(venue) is None:
            known = ", ".join(v.id for v in event.venues)
            raise SettingsError(
                f"setting 'node.venues': event '{event.id}' has no venue '{venue}' "
                f"(its venues: {known})"
            )
    return settings.node.venues
