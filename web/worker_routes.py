"""Venue outputs on every worker follow the routing worker's crosspoints.

Each worker has its own copy of every venue output (its own players subscribe to it).
The routing automation runs on worker 0 only (web/workers.py); what it switches on its
own media plane it also tells its siblings over the bus (``worker-route``,
``worker-source`` and ``worker-language``, addressed by the node's id), and a sibling that
(re)starts asks for the whole plan (``worker-hello``). The matrix pages watch (director,
consoles, players) goes the same way (``worker-matrix``): a page whose websocket landed
on a sibling sees what the routing worker shows. A channel the sibling does not publish
itself it pulls from the worker that does (web/worker_wiring.py), as for any player.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from config import Event
from signaling.bus.node import BusMessage, NodeBus
from signaling.hub import Hub
from signaling.protocol.server import Frame, encode_frame
from signaling.routing.languages import LANGUAGE_CODE
from signaling.routing.outbox import Outbox
from signaling.routing.service import MediaView
from streaming.hub import MediaHub
from streaming.ports import SourceRole

logger = logging.getLogger(__name__)

WORKER_ROUTE = "worker-route"
WORKER_SOURCE = "worker-source"
WORKER_HELLO = "worker-hello"
WORKER_MATRIX = "worker-matrix"
WORKER_LANGUAGE = "worker-language"
# A routing matrix frame is a few KiB per venue; a bigger one from the bus is not ours.
MAX_MATRIX_CHARS = 4 * 1024 * 1024
SOURCES: tuple[SourceRole, ...] = ("primary", "backup")


def add_counts(mine: Mapping[str, int], theirs: Mapping[str, int]) -> dict[str, int]:
    """Two workers' player counts, key by key."""
    total = dict(mine)
    for key, count in theirs.items():
        total[key] = total.get(key, 0) + count
    return total


class RoutesToSiblings:
    """The routing worker's ``MediaView``: its own media plane, and the same switches
    sent to the node's other workers."""

    def __init__(
        self,
        local: MediaView,
        bus: NodeBus,
        hub: Hub,
        siblings_players: Callable[[], tuple[dict[str, int], dict[str, int]]],
    ) -> None:
        self._local = local
        self._siblings_players = siblings_players
        self._bus = bus
        self._outbox = Outbox(bus)
        self._plan: dict[str, str | None] = {}
        self._sources: dict[str, str] = {}
        self._languages: dict[str, str | None] = {}
        self._hub = hub
        bus.on(WORKER_HELLO, self._heard_hello)
        hub.routing_frames = self._matrix_changed

    def _matrix_changed(self, frame: Frame) -> None:
        self._outbox.put(WORKER_MATRIX, {"frame": frame.text})

    def announce_matrix(self) -> None:
        """Send the siblings the matrix as it is now (at start, and to a new sibling)."""
        routing = self._hub.routing
        if routing is not None:
            self._matrix_changed(encode_frame(routing.matrix_frame()))

    def switch_to(self, venue: str, channel: str | None) -> None:
        self._local.switch_to(venue, channel)
        self._plan[venue] = channel
        self._outbox.put(WORKER_ROUTE, {"venue": venue, "channel": channel})

    def use_source(self, channel: str, source: Any) -> None:
        self._local.use_source(channel, source)
        self._sources[channel] = source
        self._outbox.put(WORKER_SOURCE, {"channel": channel, "source": source})

    def set_output_language(self, venue: str, language: str | None) -> None:
        self._local.set_output_language(venue, language)
        self._languages[venue] = language
        self._outbox.put(WORKER_LANGUAGE, {"venue": venue, "language": language})

    def live_channels(self) -> set[str]:
        return self._local.live_channels()

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        """The whole node's players: this worker's, and its siblings' as last shared."""
        venues, channels = self._local.audience()
        their_venues, their_channels = self._siblings_players()
        return add_counts(venues, their_venues), add_counts(channels, their_channels)

    def _heard_hello(self, message: BusMessage) -> None:
        if message.get("node") != self._bus.node:
            return  # another node's worker: its own routing worker answers it
        for venue, channel in self._plan.items():
            self._outbox.put(WORKER_ROUTE, {"venue": venue, "channel": channel})
        for channel, source in self._sources.items():
            self._outbox.put(WORKER_SOURCE, {"channel": channel, "source": source})
        for venue, language in self._languages.items():
            self._outbox.put(WORKER_LANGUAGE, {"venue": venue, "language": language})
        self.announce_matrix()

    def start(self) -> None:
        self._outbox.start()

    async def aclose(self) -> None:
        await self._outbox.aclose()


class SiblingRoutes:
    """A non-routing worker: applies the routing worker's switches to its own outputs."""

    def __init__(self, bus: NodeBus, event: Event, media: MediaHub, hub: Hub) -> None:
        self._bus = bus
        self._event = event
        self._media = media
        self._hub = hub
        self.applied = 0
        bus.on(WORKER_ROUTE, self._heard_route)
        bus.on(WORKER_SOURCE, self._heard_source)
        bus.on(WORKER_MATRIX, self._heard_matrix)
        bus.on(WORKER_LANGUAGE, self._heard_language)

    async def start(self) -> None:
        await self._bus.publish(WORKER_HELLO, {})

    def _sibling(self, message: BusMessage) -> bool:
        return message.get("node") == self._bus.node

    def _heard_route(self, message: BusMessage) -> None:
        venue, channel = message.get("venue"), message.get("channel")
        if not self._sibling(message) or not isinstance(venue, str):
            return
        if self._event.venue(venue) is None:
            logger.warning("ignored a sibling's switch of an unknown venue %.70r", venue)
            return
        if channel is not None and (
            not isinstance(channel, str) or self._event.channel(channel) is None
        ):
            logger.warning("ignored a sibling's switch to an unknown channel %.70r", channel)
            return
        self._media.route(venue, channel)
        self.applied += 1

    def _heard_source(self, message: BusMessage) -> None:
        channel, source = message.get("channel"), message.get("source")
        if not self._sibling(message) or not isinstance(channel, str) or source not in SOURCES:
            return
        if self._event.channel(channel) is None:
            return
        self._media.use_source(channel, source)

    def _heard_language(self, message: BusMessage) -> None:
        venue, language = message.get("venue"), message.get("language")
        if not self._sibling(message) or not isinstance(venue, str):
            return
        if self._event.venue(venue) is None:
            return
        if language is not None and (
            not isinstance(language, str) or LANGUAGE_CODE.fullmatch(language) is None
        ):
            logger.warning("ignored a sibling's output language %.30r", language)
            return
        self._media.set_output_language(venue, language)

    def _heard_matrix(self, message: BusMessage) -> None:
        text = message.get("frame")
        if not self._sibling(message) or not isinstance(text, str):
            return
        if len(text) > MAX_MATRIX_CHARS:
            logger.warning("ignored a sibling's routing matrix of %d characters", len(text))
            return
        self._hub.show_routing(Frame(text))
