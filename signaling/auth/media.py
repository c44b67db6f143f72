"""The media plane's publish/play hook, answered from control-plane grants.

``streaming`` never imports this: ``web/app.py`` hands it over as a Protocol-typed port.
A request redirected from another node (``web/steering.py``) carries a pass for exactly
the one action it was redirected for: ``pass_scope`` names that action, and each check
here accepts a pass only for its own.
"""

from __future__ import annotations

from typing import Literal

from config import ChannelKind, Event
from signaling.auth.credentials import Credentials
from signaling.auth.grants import Grant, Role
from signaling.errors import Unauthorized

Action = Literal["publish", "play"]
Target = Literal["channel", "venue"]


def pass_scope(action: Action, target: Target, name: str) -> str:
    """What a redirect's pass allows: one action on one channel or venue output."""
    return f"{action}:{target}:{name}"


class TokenMediaAccess:
    """WHIP/WHEP Bearer tokens: who may publish or play which channel or venue output.

    Routing is not asked here: ``POST /api/venues/{venue}/route`` checks ``Grant.directs``
    like every other director action.
    """

    def __init__(self, credentials: Credentials, event: Event) -> None:
        self._credentials = credentials
        self._event = event

    def _grant(self, token: str | None) -> Grant | None:
        if not token:
            return None
        try:
            return self._credentials.grant(token)
        except Unauthorized:
            return None

    def _passes(self, token: str | None, scope: str) -> bool:
        """``token`` is a redirect's pass for exactly ``scope``."""
        if not token:
            return False
        try:
            self._credentials.pass_grant(token, scope)
        except Unauthorized:
            return False
        return True

    def may_publish(self, token: str | None, channel: str) -> bool:
        """Producers publish their channels; operators their venue's return channel."""
        grant = self._grant(token)
        found = self._event.channel(channel)
        if found is None:
            return False
        if grant is None:
            return self._passes(token, pass_scope("publish", "channel", channel))
        if grant.produces(channel):
            return True
        if grant.role is Role.OPERATOR:
            return found.kind is ChannelKind.RETURN and found.venue == grant.venue
        return False

    def may_play(self, token: str | None, channel: str) -> bool:
        """Programme channels are public (no token, or any valid one); return feeds need more."""
        found = self._event.channel(channel)
        if found is None:
            return False
        grant = self._grant(token)
        if grant is None and self._passes(token, pass_scope("play", "channel", channel)):
            return True
        if found.kind is ChannelKind.PROGRAMME:
            # No token is a public viewer; a bad token is refused, not silently downgraded.
            return not token or grant is not None
        if grant is None:
            return False
        if grant.directs or grant.role is Role.RELAY:
            return True  # a node's relay pull plays every channel (and nothing more)
        return grant.produces(channel)

    def interpreter(self, token: str | None, channel: str, language: str) -> str | None:
        """The name of the interpreter ``token`` belongs to if it may publish ``channel``'s
        ``language`` track (their booth), else None. A redirect's pass is not enough:
        the booth shows names, which only a token carries."""
        grant = self._grant(token)
        if grant is None or self._event.channel(channel) is None:
            return None
        return grant.identity if grant.interprets(channel, language) else None

    def may_see_booth(self, token: str | None, channel: str) -> bool:
        """Who is in ``channel``'s booths: its interpreters, its producers, directors."""
        grant = self._grant(token)
        if grant is None or self._event.channel(channel) is None:
            return False
        if grant.role is Role.INTERPRETER:
            return grant.channels == (channel,)
        return grant.directs or grant.produces(channel)

    def may_play_venue(self, token: str | None, venue: str) -> bool:
        """Operators play their own venue output; directors and admins play any."""
        grant = self._grant(token)
        if self._event.venue(venue) is None:
            return False
        if grant is None:
            return self._passes(token, pass_scope("play", "venue", venue))
        if grant.directs:
            return True
        return grant.role is Role.OPERATOR and grant.venue == venue

    def revoked(self, token: str) -> bool:
        """A session opened with ``token`` must end: the token has been revoked since."""
        return self._credentials.revoked(token)
