"""Sans-I/O WHIP/WHEP (RFC 9725) header rules: content types, tokens, ETags, CORS."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from streaming.errors import BadRequest, PreconditionFailed, Unauthenticated, UnsupportedMediaType
from streaming.sdp_syntax import (
    MAX_FRAGMENT_BYTES,
    MAX_FRAGMENT_CANDIDATES,
    check_candidate,
    check_text,
)

SDP = "application/sdp"
TRICKLE = "application/trickle-ice-sdpfrag"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Patch, Retry-After",
}


def new_session_id() -> str:
    """A session id: names a session in stats and logs, never enough to act on it."""
    return secrets.token_urlsafe(24)


def new_session_secret() -> str:
    """The unguessable part of a session URL: whoever holds the URL may change or end it."""
    return secrets.token_urlsafe(32)


def session_url_key(session_id: str, secret: str) -> str:
    """The last segment of a session URL: ``<id>.<secret>`` (ids and secrets have no dot)."""
    return f"{session_id}.{secret}"


def session_id_of(url_key: str) -> str:
    """The session id a session URL's last segment names (its secret is checked elsewhere)."""
    return url_key.partition(".")[0]


def new_etag() -> str:
    """A strong ETag naming one ICE session."""
    return f'"{secrets.token_hex(8)}"'


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def require_content_type(content_type: str | None, expected: str) -> None:
    """Raise ``UnsupportedMediaType`` unless the Content-Type is ``expected``."""
    if media_type(content_type) != expected:
        got = media_type(content_type) or "none"
        raise UnsupportedMediaType(f"Content-Type must be {expected}, not {got}")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when there is no header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use Authorization: Bearer <token>")
    return token.strip()


def check_if_match(if_match: str | None, etag: str) -> None:
    """RFC 9725 section 4.3.1: a PATCH may carry ``If-Match``; ``*`` always matches."""
    if if_match is None or if_match.strip() == "*":
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if etag not in tags:
        raise PreconditionFailed("If-Match does not name this ICE session")


@dataclass(frozen=True, slots=True)
class TrickleFragment:
    """What a trickle-ice-sdpfrag carries: credentials, candidates per mid, end marker."""

    ufrag: str | None
    pwd: str | None
    candidates: tuple[tuple[str | None, str], ...]
    end_of_candidates: bool


def parse_trickle_fragment(text: str) -> TrickleFragment:
    """Parse an ``application/trickle-ice-sdpfrag`` body (RFC 8840); every candidate checked."""
    ufrag = pwd = None
    mid: str | None = None
    candidates: list[tuple[str | None, str]] = []
    end = False
    # Room for every candidate plus its mid and the credentials, but not for a flood.
    max_lines = 2 * MAX_FRAGMENT_CANDIDATES + 8
    for line in check_text(text, "fragment", MAX_FRAGMENT_BYTES, max_lines):
        if len(line) < 2 or line[1] != "=":
            raise BadRequest(f"malformed sdpfrag line: '{line[:80]}'")
        if line.startswith("a=ice-ufrag:"):
            ufrag = line.removeprefix("a=ice-ufrag:")
        elif line.startswith("a=ice-pwd:"):
            pwd = line.removeprefix("a=ice-pwd:")
        elif line.startswith("a=mid:"):
            mid = line.removeprefix("a=mid:")
        elif line.startswith("a=candidate:"):
            check_candidate(line.removeprefix("a=candidate:"))
            if len(candidates) == MAX_FRAGMENT_CANDIDATES:
                raise BadRequest(f"at most {MAX_FRAGMENT_CANDIDATES} candidates per PATCH")
            candidates.append((mid, line.removeprefix("a=")))
        elif line == "a=end-of-candidates":
            end = True
    return TrickleFragment(ufrag, pwd, tuple(candidates), end)
