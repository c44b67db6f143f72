"""``UpstreamLocator`` answered from the node directory: where to pull a channel from."""

from __future__ import annotations

import logging

from signaling.nodes import Directory, DirectoryUnavailable

logger = logging.getLogger(__name__)


class DirectoryUpstreams:
    """The base URL of the node holding a channel's publisher, when that is another node.

    None when nobody holds the channel, when this node does (nothing to pull), when the
    holder's entry expired (its claim outlived it by less than a heartbeat), or when the
    holder has no public URL configured (``node.url`` / ``public_url``), or when the
    directory cannot be read right now (logged): the caller answers "not here yet" and the
    client's retry asks again.
    """

    def __init__(self, directory: Directory, me: str) -> None:
        self._directory = directory
        self._me = me

    async def upstream_for(self, channel: str) -> str | None:
        try:
            holder = await self._directory.owner(channel)
            if holder is None or holder == self._me:
                return None
            node = await self._directory.node(holder)
        except DirectoryUnavailable as error:
            logger.warning("no upstream for %s: %s", channel, error)
            return None
        if node is None:
            return None
        if node.url is None:
            logger.warning("node %s holds %s but has no public URL (node.url)", holder, channel)
        return node.url
