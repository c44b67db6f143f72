"""Signed, expiring tokens (JWT, HS256 via PyJWT) that carry a ``Grant``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping

import jwt

from signaling.auth.grants import Grant, Role, validate_scope
from signaling.auth.revocation import Revocations, whole_milliseconds
from signaling.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "venuebridge"
ANONYMOUS_TTL = 30 * 24 * 3600


def new_identity(prefix: str = "anon") -> str:
    """A fresh, unguessable identity for someone without a token."""
    return f"{prefix}-{secrets.token_urlsafe(12)}"


# The longest a token of each role may live (settings ``tokens.*_max_hours`` override).
DEFAULT_MAX_LIFETIMES: Mapping[Role, float] = {
    Role.VIEWER: 720 * 3600,
    Role.OPERATOR: 336 * 3600,
    Role.MODERATOR: 336 * 3600,
    Role.PRODUCER: 336 * 3600,
    Role.DIRECTOR: 168 * 3600,
    Role.ADMIN: 24 * 3600,
    Role.RELAY: 168 * 3600,
    Role.CAPTIONER: 336 * 3600,
    Role.INTERPRETER: 336 * 3600,
}
# A redirect's pass (``mint_pass``) never lives longer than this, whatever it asks for.
PASS_MAX_LIFETIME = 300.0


def describe_lifetime(seconds: float) -> str:
    """``seconds`` in the largest whole unit (``30d``, ``12h``, ``90s``)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


class TokenAuthority:
    """Mints and checks tokens with one secret; both the server and the CLI use it."""

    def __init__(
        self,
        secret: bytes,
        audience: str,
        max_lifetimes: Mapping[Role, float] | None = None,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the signing secret must be at least 32 bytes")
        self._secret = secret
        # The event id: a token for one event is not accepted by another.
        self._audience = audience
        self._max_lifetimes = {**DEFAULT_MAX_LIFETIMES, **(max_lifetimes or {})}
        # Filled by the node's revocation watcher (signaling.auth.revoker); empty in the CLI.
        self.revocations = Revocations()

    def max_lifetime(self, role: Role) -> float:
        """The longest lifetime, in seconds, a token of ``role`` may have."""
        return self._max_lifetimes[role]

    def mint(self, grant: Grant, ttl: float, now: float | None = None) -> str:
        """A token for ``grant`` valid for ``ttl`` seconds; ``ValueError`` past the role's limit."""
        validate_scope(grant.role, grant.venue, grant.sessions, grant.channels, grant.language)
        if grant.also_directs:
            raise ValueError("only the ingest key directs as a producer; mint a director token")
        longest = self.max_lifetime(grant.role)
        if ttl > longest:
            role = grant.role.value
            article = "an" if role[0] in "aeiou" else "a"
            raise ValueError(
                f"{article} {role} token may live at most {describe_lifetime(longest)} "
                f"(setting tokens.{role}_max_hours)"
            )
        claims = self._claims(grant, ttl, now)
        if grant.anonymous:
            claims["anon"] = True
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def _claims(self, grant: Grant, ttl: float, now: float | None) -> dict[str, object]:
        """What every token and pass of ``grant`` carries: who, what role, when, scope."""
        issued = whole_milliseconds(time.time() if now is None else now)
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": self._audience,
            "sub": grant.identity,
            "role": grant.role.value,
            "iat": issued,
            "exp": int(issued + ttl),
            # Hex: an id never starts with "-", so `venuebridge revoke --token-id ID` parses.
            "jti": secrets.token_hex(12),
        }
        if grant.venue:
            claims["venue"] = grant.venue
        if grant.sessions:
            claims["sessions"] = list(grant.sessions)
        if grant.channels:
            claims["channels"] = list(grant.channels)
        if grant.language:
            claims["lang"] = grant.language
        return claims

    def verify(self, token: str) -> Grant:
        """The grant a valid token carries; ``Unauthorized`` for anything else (a pass too)."""
        grant, lifetime, scope = self._decode(token, check_expiry=True)
        if scope is not None:
            raise Unauthorized("this token is valid for one redirected request only")
        # One second of slack: ``exp`` is whole seconds, ``iat`` has milliseconds.
        if lifetime > self.max_lifetime(grant.role) + 1:
            raise Unauthorized(
                f"the token lives longer than a {grant.role.value} token may",
                code="token_too_long",
            )
        if self.revocations.revokes(grant):
            raise Unauthorized("the token has been revoked", code="token_revoked")
        return grant

    def mint_pass(self, grant: Grant, scope: str, ttl: float, now: float | None = None) -> str:
        """A pass for one redirect: ``grant``'s holder may do ``scope`` (and nothing else).

        The redirecting node has checked ``grant`` may do it; the node redirected to
        accepts the pass only for ``scope`` (``verify_pass``), for ``ttl`` seconds. The
        original token's id and issue time travel along, so revoking that token (or its
        role) also ends what the pass opened.
        """
        if not 0 < ttl <= PASS_MAX_LIFETIME:
            raise ValueError(f"a pass lives at most {PASS_MAX_LIFETIME:.0f} seconds")
        claims = self._claims(grant, ttl, now)
        claims["scope"] = scope
        if grant.token_id is not None:
            claims["ojti"] = grant.token_id
        if grant.issued_at is not None:
            claims["oiat"] = grant.issued_at
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify_pass(self, token: str, scope: str) -> Grant:
        """The grant behind a pass valid for ``scope``; ``Unauthorized`` for anything else."""
        grant, lifetime, found = self._decode(token, check_expiry=True)
        if found is None or found != scope:
            raise Unauthorized("the token is not valid here")
        if lifetime > PASS_MAX_LIFETIME + 1:
            raise Unauthorized("the pass lives too long", code="token_too_long")
        if self.revocations.revokes(grant):
            raise Unauthorized("the token has been revoked", code="token_revoked")
        return grant

    def is_revoked(self, token: str) -> bool:
        """Whether a token of ours is revoked now, expired or not (False for a stranger's).

        Media sessions outlive the check made when they opened: a revocation must end
        them, while a token that merely expires mid-show must not.
        """
        try:
            grant, _, _ = self._decode(token, check_expiry=False)
        except Unauthorized:
            return False
        return self.revocations.revokes(grant)

    def holder(self, token: str) -> Grant | None:
        """Whose token of ours this is, expired or not; None for anything else."""
        try:
            grant, _, _ = self._decode(token, check_expiry=False)
        except Unauthorized:
            return None
        return grant

    def _decode(self, token: str, *, check_expiry: bool) -> tuple[Grant, float, str | None]:
        """The grant a token of ours carries, its lifetime and its scope (passes only).

        ``Unauthorized`` if it is not ours. A pass's grant carries the original token's
        id and issue time (for revocation), not its own.
        """
        if not token or len(token) > 4096:
            raise Unauthorized("missing or oversized token")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role"], "verify_exp": check_expiry},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", code="token_expired") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("the token is not valid") from None
        try:
            issued = _number(claims["iat"])
            lifetime = _number(claims["exp"]) - issued
            scope = _optional_text(claims.get("scope"))
            if scope is not None:
                original = claims.get("oiat")
                token_id = _optional_text(claims.get("ojti"))
                issued_at = None if original is None else _number(original)
            else:
                token_id = _optional_text(claims.get("jti"))
                issued_at = issued
            grant = Grant(
                identity=_text(claims["sub"]),
                role=Role(claims["role"]),
                venue=_optional_text(claims.get("venue")),
                sessions=_texts(claims.get("sessions", [])),
                channels=_texts(claims.get("channels", [])),
                anonymous=claims.get("anon") is True,
                language=_optional_text(claims.get("lang")),
                token_id=token_id,
                issued_at=issued_at,
            )
            validate_scope(grant.role, grant.venue, grant.sessions, grant.channels, grant.language)
        except (ValueError, TypeError):
            raise Unauthorized("the token is not valid") from None
        return grant, lifetime, scope

    def anonymous_viewer(self) -> tuple[Grant, str]:
        """A generated viewer identity and its token, for people who arrive without one."""
        grant = Grant(identity=new_identity(), role=Role.VIEWER, anonymous=True)
        return grant, self.mint(grant, min(ANONYMOUS_TTL, self.max_lifetime(Role.VIEWER)))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError("expected a short string")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return float(value)


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return tuple(_text(item) for item in value)
