"""Every adapter between the control plane and the media plane, in one place.

``signaling`` and ``streaming`` never import each other; each declares the narrow port
it needs, and these classes answer one plane's port from the other plane's objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from signaling.hub import Hub
from signaling.nodes import Directory
from signaling.qa.model import State
from signaling.routing.home_agent import HomeAgent
from signaling.routing.persisted import SourceName
from signaling.routing.service import RoutingService
from streaming.hub import MediaHub
from streaming.ports import SourceEvent, SwitchEvent


class MediaPlaneView:
    """The media hub as the routing service sees it."""

    def __init__(self, hub: MediaHub) -> None:
        self._hub = hub

    def switch_to(self, venue: str, channel: str | None) -> None:
        self._hub.route(venue, channel)

    def live_channels(self) -> set[str]:
        return set(self._hub.live_channels())

    def audience(self) -> tuple[dict[str, int], dict[str, int]]:
        audience = self._hub.audience()
        return dict(audience.per_venue), dict(audience.per_channel)

    def use_source(self, channel: str, source: SourceName) -> None:
        self._hub.use_source(channel, source)

    def set_output_language(self, venue: str, language: str | None) -> None:
        self._hub.set_output_language(venue, language)


class HubQuestionCounts:
    """Questions asked and answered in a session, from the Q&A rooms."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def counts(self, session_id: str) -> tuple[int, int]:
        session = self._hub.event.session(session_id)
        if session is None or not session.qa:
            return 0, 0
        room = await self._hub.rooms.room(session_id)
        asked = len(room.questions)
        answered = sum(1 for q in room.questions.values() if q.state is State.ANSWERED)
        return asked, answered


class SwitchesToRouting:
    """The media hub's switch and source listener: tells the routing service what really
    went on air and how each channel's source is doing."""

    def __init__(
        self, service: RoutingService, serves_here: Callable[[str], bool] = lambda venue: True
    ) -> None:
        self._service = service
        # A venue served by another node: this node's own output of it is not on air.
        self._serves_here = serves_here
        self._loop = asyncio.get_running_loop()
        self._pending: set[asyncio.Task[None]] = set()

    def _hand_over(self, work: Coroutine[Any, Any, None]) -> None:
        # Called from the media plane's packet path: hand over, never block it.
        task = self._loop.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def venue_switched(self, event: SwitchEvent) -> None:
        if self._serves_here(event.venue):
            self._hand_over(self._service.switched(event.venue, event.channel, event.at))

    def source_changed(self, event: SourceEvent) -> None:
        self._hand_over(
            self._service.source_changed(
                event.channel, event.state, event.source, event.backup_ready, event.at
            )
        )

    async def aclose(self) -> None:
        """Wait for the hand-overs still running (the service records each one)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


class SourcesToDirectory:
    """The media hub's source listener that keeps this node's channel claims current.

    Live: this node holds the channel's publisher. Lost or idle: it no longer does (a
    publisher that comes back is live again and claims again). A channel this node only
    relays from another is never claimed: the holder is the node with the publisher, and
    a claim here would send other nodes' pulls (and this node's own) round in a circle.
    The directory only notes the change here; its own task writes it out, so the packet
    path never waits on Redis.
    """

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def source_changed(self, event: SourceEvent) -> None:
        if event.state == "live" and not event.relayed:
            self._directory.channel_live(event.channel)
        else:
            self._directory.channel_gone(event.channel)


class VenueRoutes:
    """The media hub's venue outputs as a home node switches them for the routing node."""

    def __init__(self, hub: MediaHub) -> None:
        self._hub = hub

    def switch_to(self, venue: str, channel: str | None) -> None:
        self._hub.route(venue, channel)

    def set_output_language(self, venue: str, language: str | None) -> None:
        self._hub.set_output_language(venue, language)

    def last_switch(self, venue: str) -> tuple[str | None, str | None, datetime] | None:
        switch = self._hub.venue_output(venue).last_switch
        return None if switch is None else (switch.channel, switch.previous, switch.at)

    def players(self) -> dict[str, int]:
        """Players per venue output here now."""
        return dict(self._hub.audience().per_venue)


class HomeReports:
    """The media hub's switch and source listener on every node: hands the home agent
    this node's switches, and the health of channels a WHIP publisher here feeds.

    A relay pull (this node playing a channel published elsewhere) is not reported: the
    node holding the publisher reports that channel, and a pull's own ups and downs would
    contradict it.
    """

    def __init__(self, agent: HomeAgent) -> None:
        self._agent = agent
        self._reported: set[str] = set()  # said live from here; its end is ours to say

    def venue_switched(self, event: SwitchEvent) -> None:
        self._agent.venue_switched(event.venue, event.channel, event.previous, event.at)

    def source_changed(self, event: SourceEvent) -> None:
        channel = event.channel
        if event.state == "live":
            if event.relayed:
                return
            self._reported.add(channel)
        elif channel in self._reported:
            self._reported.discard(channel)
        else:
            return
        self._agent.channel_health(channel, event.state, event.source, event.backup_ready, event.at)
