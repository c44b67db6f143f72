"""Where this process sits among a node's workers, and the session ids that say so.

A worker's session ids start with its index (``3w…``), so a PATCH or DELETE that the
kernel hands to another worker can be sent on to the owner (web/worker_proxy.py) from
the URL alone. With one worker there is no place and ids are as they always were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp

from signaling.nodes import DirectoryUnavailable, RedisDirectory
from streaming.http_rules import new_session_id

_OWNER = re.compile(r"(\d{1,3})w")


@dataclass(frozen=True, slots=True)
class WorkerPlace:
    """Worker ``index`` of ``count``; ``private_url`` is its loopback listener."""

    index: int
    count: int
    private_url: str

    def new_session_id(self) -> str:
        """A session id that names this worker as its owner."""
        return f"{self.index}w{new_session_id()}"

    def owner_of(self, url_key: str) -> int | None:
        """The index of the worker a session URL's last segment belongs to, if any."""
        match = _OWNER.match(url_key)
        if match is None:
            return None
        index = int(match.group(1))
        return index if index < self.count else None


class WorkerLinks:
    """This worker's view of its siblings: their private URLs and the channels they hold."""

    def __init__(
        self, directory: RedisDirectory | None, me: str, session: aiohttp.ClientSession | None
    ) -> None:
        self.directory = directory
        self.me = me
        self.http = session  # for requests sent on to a sibling (web/worker_proxy.py)
        self._known: dict[int, str] = {}  # each sibling's URL as last read

    async def private_url(self, index: int) -> str | None:
        """Worker ``index``'s loopback listener, or None when it is not up."""
        if self.directory is None:
            return None
        try:
            entry = await self.directory.node(str(index))
        except DirectoryUnavailable:
            # Redis is away: the sibling most likely still listens where it did.
            return self._known.get(index)
        url = None if entry is None else entry.url
        if url is None:
            self._known.pop(index, None)
        else:
            self._known[index] = url
        return url
