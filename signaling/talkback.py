"""Talkback: short text lines between a venue's operators and the directors. Pure.

An operator always speaks for their own venue; a director (or admin) names the venue.
A line goes to that venue's operators and to every director and admin, so directors see
each other's lines too. Text is data: it is trimmed and bounded here, escaped by pages.
"""

from __future__ import annotations

from signaling.auth.grants import Grant, Role
from signaling.errors import Forbidden, Refused
from signaling.protocol.server import Talkback

MAX_TALKBACK = 500


def talkback_venue(grant: Grant, venue: str | None) -> str:
    """The venue a talkback line from ``grant`` belongs to, or ``Forbidden``."""
    if grant.role is Role.OPERATOR and grant.venue:
        if venue is not None and venue != grant.venue:
            raise Forbidden("an operator talks back for their own venue only")
        return grant.venue
    if grant.directs:
        if venue is None:
            raise Refused("name the venue to talk to", code="empty")
        return venue
    raise Forbidden("talkback is for sub-venue operators and directors")


def talkback_text(text: str) -> str:
    """``text`` trimmed; refused when empty or longer than ``MAX_TALKBACK``."""
    trimmed = " ".join(text.split())
    if not trimmed:
        raise Refused("say something", code="empty")
    if len(trimmed) > MAX_TALKBACK:
        raise Refused(f"at most {MAX_TALKBACK} characters", code="too_long")
    return trimmed


def talkback_frame(grant: Grant, venue: str, text: str, at: float) -> Talkback:
    """The ``talkback`` server frame."""
    return Talkback(
        venue=venue,
        from_="operator" if grant.role is Role.OPERATOR else "director",
        identity=grant.identity,
        # Tokens carry the person's name as their identity (``venuebridge token --name``).
        name=grant.identity,
        text=text,
        at=at,
    )


def hears_talkback(grant: Grant, venue: str) -> bool:
    """Whether a client with ``grant`` receives the lines of ``venue``."""
    if grant.directs:
        return True
    return grant.role is Role.OPERATOR and grant.venue == venue
