"""The one place that says which client address a request comes from.

Limits key on it (media admission control today). It is the socket's peer address; when
the server learns to trust a reverse proxy's ``X-Forwarded-For``, this is what changes.
"""

from __future__ import annotations

from aiohttp import web

UNKNOWN = "unknown"


def client_address(request: web.Request) -> str:
    """The address limits count this request against."""
    return request.remote or UNKNOWN
