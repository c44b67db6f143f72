"""ICE servers handed to clients: STUN as is, TURN with REST-style time-limited credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from config.settings import IceSettings


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server as a client should use it."""

    url: str
    username: str | None = None
    credential: str | None = None


def turn_credentials(secret: str, user: str, expires_at: int) -> tuple[str, str]:
    """coturn ``use-auth-secret``: username ``<expiry>:<user>``, password HMAC-SHA1 of it."""
    username = f"{expires_at}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(settings: IceSettings, user: str, now: float) -> list[IceServer]:
    """The servers for one client session; TURN credentials expire after the configured TTL."""
    servers = [IceServer(url) for url in settings.stun_urls]
    if settings.turn_urls and settings.turn_secret:
        expires_at = int(now) + settings.turn_credential_ttl
        username, password = turn_credentials(settings.turn_secret, user, expires_at)
        servers += [IceServer(url, username, password) for url in settings.turn_urls]
    return servers


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_header(server: IceServer) -> str:
    """RFC 9725 section 4.6: ``<url>; rel="ice-server"`` with TURN credentials."""
    value = f'<{server.url}>; rel="ice-server"'
    if server.username is not None and server.credential is not None:
        value += f"; username={_quote(server.username)}; credential={_quote(server.credential)}"
        value += '; credential-type="password"'
    return value
