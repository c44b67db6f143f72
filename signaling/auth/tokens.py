"""Signed, expiring tokens (JWT, HS256 via PyJWT) that carry a ``Grant``."""

from __future__ import annotations

import secrets
import time

import jwt

from signaling.auth.grants import Grant, Role, validate_scope
from signaling.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "venuebridge"
ANONYMOUS_TTL = 30 * 24 * 3600


def new_identity(prefix: str = "anon") -> str:
    """A fresh, unguessable identity for someone without a token."""
    return f"{prefix}-{secrets.token_urlsafe(12)}"


class TokenAuthority:
    """Mints and checks tokens with one secret; both the server and the CLI use it."""

    def __init__(self, secret: bytes, audience: str) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        self._secret = secret
        # The event id: a token for one event is not accepted by another.
        self._audience = audience

    def mint(self, grant: Grant, ttl: float, now: float | None = None) -> str:
        """A token for ``grant`` valid for ``ttl`` seconds."""
        validate_scope(grant.role, grant.venue, grant.sessions, grant.channels)
        if grant.also_directs:
            raise ValueError("only the ingest key directs as a producer; mint a director token")
        issued = int(time.time() if now is None else now)
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": self._audience,
            "sub": grant.identity,
            "role": grant.role.value,
            "iat": issued,
            "exp": issued + int(ttl),
        }
        if grant.venue:
            claims["venue"] = grant.venue
        if grant.sessions:
            claims["sessions"] = list(grant.sessions)
        if grant.channels:
            claims["channels"] = list(grant.channels)
        if grant.anonymous:
            claims["anon"] = True
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Grant:
        """The grant a valid token carries; ``Unauthorized`` for anything else."""
        if not token or len(token) > 4096:
            raise Unauthorized("missing or oversized token")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", code="token_expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is not valid") from None
        try:
            grant = Grant(
                identity=_text(claims["sub"]),
                role=Role(claims["role"]),
                venue=_optional_text(claims.get("venue")),
                sessions=_texts(claims.get("sessions", [])),
                channels=_texts(claims.get("channels", [])),
                anonymous=claims.get("anon") is True,
            )
            validate_scope(grant.role, grant.venue, grant.sessions, grant.channels)
        except (ValueError, TypeError):
            raise Unauthorized("the token is not valid") from None
        return grant

    def anonymous_viewer(self) -> tuple[Grant, str]:
        """A generated viewer identity and its token, for people who arrive without one."""
        grant = Grant(identity=new_identity(), role=Role.VIEWER, anonymous=True)
        return grant, self.mint(grant, ANONYMOUS_TTL)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError("expected a short string")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return tuple(_text(item) for item in value)
