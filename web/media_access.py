"""Who may publish, play and route media: role tokens, plus an optional ingest key.

The control plane's ``TokenMediaAccess`` exists only once the app has started (on Redis
its secret comes from Redis), so this looks it up per request. A ``producer_secret``
set in the settings is accepted as well, like a broadcast stream key: it publishes any
channel and routes any venue, which suits an encoder configured once for the event.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from signaling.auth import TokenMediaAccess
from web.keys import MEDIA_ACCESS


class AppMediaAccess:
    def __init__(self, app: web.Application, producer_key: str | None) -> None:
        self._app = app
        self._key = producer_key.encode() if producer_key else None

    def _is_key(self, token: str | None) -> bool:
        return (
            self._key is not None
            and token is not None
            and hmac.compare_digest(token.encode(), self._key)
        )

    def _tokens(self) -> TokenMediaAccess | None:
        return self._app.get(MEDIA_ACCESS)

    def may_publish(self, token: str | None, channel: str) -> bool:
        tokens = self._tokens()
        return self._is_key(token) or (tokens is not None and tokens.may_publish(token, channel))

    def may_play(self, token: str | None, channel: str) -> bool:
        tokens = self._tokens()
        return self._is_key(token) or (tokens is not None and tokens.may_play(token, channel))

    def may_play_venue(self, token: str | None, venue: str) -> bool:
        tokens = self._tokens()
        return self._is_key(token) or (tokens is not None and tokens.may_play_venue(token, venue))

    def may_route(self, token: str | None, venue: str) -> bool:
        tokens = self._tokens()
        return self._is_key(token) or (tokens is not None and tokens.may_route(token, venue))
