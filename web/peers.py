"""The other nodes' origins, for the pages' ``connect-src`` (web/hygiene.py).

A page steered by a 307 (web/steering.py) talks to another node: its OPTIONS, POST,
PATCH and DELETE go there, and the Content-Security-Policy of the page must allow that
origin. Kept current from the directory each heartbeat (web/departures.py reads it); a
node that joins later is allowed in pages loaded after it joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from signaling.nodes import NodeEntry

# What may appear in a CSP source: a plain scheme://host[:port], nothing that ends it.
_SAFE = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``; None when it is not a plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    return origin if _SAFE.fullmatch(origin) else None


class PeerOrigins:
    """The origins of the nodes in the directory other than this one."""

    def __init__(self, own_url: str | None) -> None:
        self._own = origin_of(own_url) if own_url else None
        self.origins: tuple[str, ...] = ()

    def update(self, nodes: Iterable[NodeEntry]) -> None:
        found = {origin_of(n.url) for n in nodes if n.url}
        self.origins = tuple(sorted(o for o in found if o is not None and o != self._own))
