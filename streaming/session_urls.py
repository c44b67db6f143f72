"""Session URLs: the capability to change or end a session, and what hangs off each one.

RFC 9725 lets the server choose the URL, so ours ends in ``<id>.<secret>``: the id names
the session in stats and logs (directors see it), the secret is shown only once, in the
``Location`` of the ``201``. Whoever holds the URL may PATCH or DELETE; anything else
finds nothing.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

from streaming.admission import Ticket
from streaming.errors import NotFound
from streaming.http_rules import new_etag, new_session_secret, session_id_of, session_url_key

NO_SUCH_SESSION = "no such session (it may have ended)"


@dataclass(frozen=True, slots=True)
class Negotiated:
    """A new session: its id, our SDP answer, its ETag and its URL path (with the secret)."""

    session_id: str
    answer: str
    etag: str
    path: str


@dataclass(slots=True)
class SessionUrl:
    """One live session's URL path (secret included), ETag and what it holds."""

    path: str
    etag: str
    remote_ufrag: str | None
    ticket: Ticket | None  # what admission control counts (WHEP sessions only)
    reaper: asyncio.TimerHandle | None = None  # ends the session if it never connects


class SessionUrls:
    """The URL of every live session, by session id."""

    def __init__(self) -> None:
        self._by_id: dict[str, SessionUrl] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._by_id

    def add(
        self, session_id: str, base: str, remote_ufrag: str | None, ticket: Ticket | None
    ) -> SessionUrl:
        """A new URL under ``base`` (e.g. ``/whep/venue/jp``) with a fresh secret."""
        path = f"{base}/{session_url_key(session_id, new_session_secret())}"
        url = self._by_id[session_id] = SessionUrl(path, new_etag(), remote_ufrag, ticket)
        return url

    def resolve(self, path: str) -> str:
        """The id of the session whose URL is ``path``, secret and all; else ``NotFound``.

        A wrong or missing secret looks exactly like a session that does not exist, and
        the comparison takes the same time however much of the secret was right.
        """
        session_id = session_id_of(path.rpartition("/")[2])
        url = self._by_id.get(session_id)
        if url is None or not hmac.compare_digest(url.path.encode(), path.encode()):
            raise NotFound(NO_SUCH_SESSION)
        return session_id

    def get(self, session_id: str) -> SessionUrl:
        """The URL record of a live session; ``NotFound`` if it has ended."""
        url = self._by_id.get(session_id)
        if url is None:
            raise NotFound(NO_SUCH_SESSION)
        return url

    def pop(self, session_id: str) -> SessionUrl | None:
        """Forget a session's URL (it ended); its record, if it had one."""
        return self._by_id.pop(session_id, None)
