"""Venues on their home nodes: the bus messages, who is home where, and their order. Pure.

The routing node decides; a venue whose home is another node gets the decision as a
``venue-route`` message, and that node reports the switch back as ``venue-switched``.
Every message is parsed here into a frozen struct, checked against the event, or
refused with ``BadHomeMessage`` (the listener logs it and carries on).

Order: every command and report carries ``order = (epoch, seq)``. The epoch is when the
message was sent (wall-clock milliseconds, never going back within a process), the
sequence counts the process's messages. A receiver keeps the newest order per venue (per
sender node and venue for reports) and drops anything not newer: a duplicate, or a stale
message overtaken by a newer one. A restarted sender sends later, so its first message
wins over everything it sent before; so do the worker processes of one node (they share
its name), whose messages are ordered by when each was sent, not by which started last.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import msgspec

from config.event import Event
from signaling.routing.languages import LANGUAGE_CODE

ROUTE = "venue-route"
SWITCHED = "venue-switched"
HEALTH = "channel-health"
HELLO = "home-hello"
AUDIENCE = "venue-audience"
ROUTING_HELLO = "routing-hello"
LANGUAGE = "venue-language"

Order = tuple[int, int]
# Bus ids (venues, channels, nodes): bounded so a forged message cannot make us keep junk.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
MAX_HELLO_VENUES = 64
MAX_PLAYERS = 10_000_000  # per venue output: far above any node's capacity


class BadHomeMessage(ValueError):
    """A bus message about home venues that is malformed or does not fit the event."""


class VenueRouteOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Routing node -> home node: switch ``venue`` to ``channel`` (None: nothing)."""

    node: str  # the sender (the routing node)
    home: str  # the node meant to apply it
    venue: str
    channel: str | None
    order: Order


class VenueLanguageOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Routing node -> home node: ``venue``'s output plays ``language`` (None: the floor)."""

    node: str
    home: str
    venue: str
    language: str | None
    order: Order


class VenueSwitched(msgspec.Struct, frozen=True, kw_only=True):
    """Home node -> routing node: ``venue``'s output really switched, at ``at``."""

    node: str
    venue: str
    channel: str | None
    previous: str | None
    at: datetime
    order: Order


class ChannelHealthNote(msgspec.Struct, frozen=True, kw_only=True):
    """A channel whose WHIP publisher is on ``node`` changed health (live, lost, idle)."""

    node: str
    channel: str
    state: Literal["live", "lost", "idle"]
    source: Literal["primary", "backup"] | None
    backup_ready: bool
    at: datetime
    order: Order


class HomeHello(msgspec.Struct, frozen=True, kw_only=True):
    """A node (re)started or (re)subscribed: these venues are home here (settings)."""

    node: str
    venues: tuple[str, ...]


class VenueAudience(msgspec.Struct, frozen=True, kw_only=True):
    """Home node -> routing node: players of its venue outputs now (for the records' peaks)."""

    node: str
    venues: dict[str, int]


class RoutingHello(msgspec.Struct, frozen=True, kw_only=True):
    """The routing node (re)started: every home node says hello again."""

    node: str


HomeMessage = (
    VenueRouteOrder
    | VenueLanguageOrder
    | VenueSwitched
    | ChannelHealthNote
    | HomeHello
    | VenueAudience
    | RoutingHello
)
_TYPES: dict[str, type[HomeMessage]] = {
    ROUTE: VenueRouteOrder,
    LANGUAGE: VenueLanguageOrder,
    SWITCHED: VenueSwitched,
    HEALTH: ChannelHealthNote,
    HELLO: HomeHello,
    AUDIENCE: VenueAudience,
    ROUTING_HELLO: RoutingHello,
}


def parse_home_message(message: Mapping[str, Any], event: Event) -> HomeMessage:
    """One bus message (already JSON-decoded) as its struct, or ``BadHomeMessage``."""
    kind = message.get("kind")
    struct = _TYPES.get(kind) if isinstance(kind, str) else None
    if struct is None:
        raise BadHomeMessage(f"not a home-venue message: kind {str(kind)[:40]!r}")
    fields = {k: v for k, v in message.items() if k != "kind"}
    try:
        parsed: HomeMessage = msgspec.convert(fields, struct)
    except msgspec.ValidationError as error:
        raise BadHomeMessage(f"{kind}: {error}") from None
    _check(parsed, event)
    return parsed


def _check(message: HomeMessage, event: Event) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise BadHomeMessage(f"{type(message).__name__}: {what}")

    need(_ID.fullmatch(message.node) is not None, "the sender is not a node id")
    if isinstance(message, VenueRouteOrder | VenueLanguageOrder | VenueSwitched):
        need(event.venue(message.venue) is not None, f"no venue {message.venue[:70]!r}")
    if isinstance(message, VenueLanguageOrder):
        need(_ID.fullmatch(message.home) is not None, "the home is not a node id")
        need(
            message.language is None or LANGUAGE_CODE.fullmatch(message.language) is not None,
            "the language is not a language code",
        )
    channels = []
    if isinstance(message, VenueRouteOrder):
        need(_ID.fullmatch(message.home) is not None, "the home is not a node id")
        channels = [message.channel]
    elif isinstance(message, VenueSwitched):
        channels = [message.channel, message.previous]
    elif isinstance(message, ChannelHealthNote):
        channels = [message.channel]
    for channel in channels:
        need(channel is None or event.channel(channel) is not None, "names no channel of the event")
    if isinstance(
        message, VenueRouteOrder | VenueLanguageOrder | VenueSwitched | ChannelHealthNote
    ):
        need(all(0 <= n < 2**63 for n in message.order), "the order is out of range")
    if isinstance(message, VenueSwitched | ChannelHealthNote):
        need(message.at.tzinfo is not None, "the time has no time zone")
    if isinstance(message, VenueAudience):
        need(len(message.venues) <= MAX_HELLO_VENUES, "too many venues")
        for venue, players in message.venues.items():
            need(event.venue(venue) is not None, f"no venue {venue[:70]!r}")
            need(0 <= players <= MAX_PLAYERS, "a player count is out of range")
    if isinstance(message, HomeHello):
        need(len(message.venues) <= MAX_HELLO_VENUES, "too many venues")
        # A venue this event does not have is left out, not an error: events differ only
        # if nodes were started with different event files, which the log shows.


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Sequencer:
    """This process's orders: the send time (never going back) and a counter.

    ``epoch`` fixes the time and ``clock`` replaces the wall clock (both for tests)."""

    def __init__(self, epoch: int | None = None, clock: Callable[[], int] = _wall_ms) -> None:
        self._now: Callable[[], int] = clock if epoch is None else (lambda: epoch)
        self.epoch = self._now()  # when this sender started
        self._last = self.epoch
        self._counter = itertools.count(1)

    def next(self) -> Order:
        self._last = max(self._last, self._now())
        return (self._last, next(self._counter))


class OrderGate:
    """The newest order seen per key; a message not newer than it is dropped."""

    def __init__(self) -> None:
        self._newest: dict[tuple[str, ...], Order] = {}

    def admit(self, key: tuple[str, ...], order: Order) -> bool:
        """True (and remembered) when ``order`` is newer than anything seen for ``key``."""
        newest = self._newest.get(key)
        if newest is not None and order <= newest:
            return False
        self._newest[key] = order
        return True


class HomeBook:
    """Which node is home to each venue, as this node knows it.

    A node's settings (``node.venues``, announced in its hello) win over the event file's
    ``home_node``; two nodes announcing one venue: the later hello wins (a warning is the
    caller's to log). A venue with neither is served by the routing node (None).
    """

    def __init__(
        self, event: Event, me: str, my_venues: Iterable[str] = (), *, alone: bool = False
    ) -> None:
        """``alone``: no other node can exist (no shared bus), so every venue is served
        here whatever the event file names."""
        self.me = me
        homes = {} if alone else {v.id: v.home_node for v in event.venues if v.home_node}
        self._event_homes: dict[str, str] = homes
        self._venue_ids = {v.id for v in event.venues}
        self._claims: dict[str, str] = {}  # venue -> node, from settings and hellos
        self.alone = alone
        self.claim(me, tuple(my_venues))

    def claim(self, node: str, venues: tuple[str, ...]) -> list[str]:
        """``node`` says these venues are home there; returns venues taken from another."""
        if self.alone and node != self.me:
            return []
        taken = []
        for venue in venues:
            if venue not in self._venue_ids:
                continue
            before = self._claims.get(venue)
            if before is not None and before != node:
                taken.append(venue)
            self._claims[venue] = node
        # A venue the node no longer names falls back to the event file's home.
        for venue, holder in list(self._claims.items()):
            if holder == node and venue not in venues:
                del self._claims[venue]
        return taken

    def home(self, venue: str) -> str | None:
        """The venue's home node id; None when none is named (the routing node serves it)."""
        return self._claims.get(venue) or self._event_homes.get(venue)

    def remote(self, venue: str) -> str | None:
        """The venue's home when it is another node than this one, else None."""
        home = self.home(venue)
        return home if home is not None and home != self.me else None

    def here(self, venue: str) -> bool:
        """This node is the venue's home by its own settings or the event file."""
        return self.home(venue) == self.me

    def venues_of(self, node: str) -> list[str]:
        return sorted(v for v in self._venue_ids if self.home(v) == node)

    def homes(self) -> dict[str, str | None]:
        """Every venue's home (None: the routing node)."""
        return {venue: self.home(venue) for venue in sorted(self._venue_ids)}
