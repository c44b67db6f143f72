"""The HTTP half of a relay pull: a WHEP client's POST and DELETE, to another node.

The pull is an ordinary client of the upstream: its offer goes through the upstream's
normal WHEP admission and auth, with the relay's Bearer token. The token is asked for
on every request: a node's own relay token is renewed before it expires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

logger = logging.getLogger(__name__)

# One POST or DELETE to the upstream; the upstream answers after its own negotiation.
REQUEST_TIMEOUT = 10.0
# An upstream's error text is logged, never more than this.
MAX_ERROR_TEXT = 200
MAX_ANSWER_BYTES = 64 * 1024


# What to check when the upstream refuses this node's relay credentials (401, 403).
KEY_HINT = (
    "nodes must share one signing key (one Redis, or the same data_dir/signing.key), "
    "or set relay.token to a token the upstream signed"
)


class UpstreamRefused(Exception):
    """The upstream answered the offer with something other than 201 (or not at all)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def credentials_refused(self) -> bool:
        """Refused for who we are, not for the channel: no retry will change that."""
        return self.status in (401, 403)


@dataclass(frozen=True, slots=True)
class WhepAnswer:
    """The upstream's SDP answer and the session URL to DELETE at the end."""

    sdp: str
    location: str


class WhepClient:
    """POSTs offers and DELETEs sessions on upstream nodes; one HTTP session for all."""

    def __init__(self, token: Callable[[], str | None]) -> None:
        self._token = token
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
        return self._http

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/sdp"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def offer(self, url: str, sdp: str) -> WhepAnswer:
        """POST ``sdp`` to the WHEP endpoint ``url``; ``UpstreamRefused`` unless 201."""
        try:
            async with self._session().post(url, data=sdp, headers=self._headers()) as response:
                body = await response.content.read(MAX_ANSWER_BYTES)
                text = body.decode("utf-8", "replace")
                if response.status != 201:
                    raise UpstreamRefused(
                        f"{url} answered {response.status}: {text[:MAX_ERROR_TEXT].strip()}",
                        response.status,
                    )
                location = response.headers.get("Location")
                if not location:
                    raise UpstreamRefused(f"{url} answered 201 without a Location")
                return WhepAnswer(text, urljoin(url, location))
        except (aiohttp.ClientError, TimeoutError) as error:
            raise UpstreamRefused(f"{url} did not answer: {error!r}") from None

    async def delete(self, location: str) -> None:
        """End a session upstream; best effort (it also ends when the connection does)."""
        token = self._token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self._session().delete(location, headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.debug("DELETE %s failed: %r", location, error)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
