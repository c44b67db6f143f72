"""The routing state that must survive a restart: directors' routes, paused automation,
failover choices. One JSON document per event in the store, replaced on every change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from signaling.routing.router import Route, Router

SourceName = Literal["primary", "backup"]
SOURCES = ("primary", "backup")


class ValueStore(Protocol):
    async def put_value(self, key: str, value: str) -> None: ...

    async def get_value(self, key: str) -> str | None: ...


def routing_state(router: Router, sources: dict[str, SourceName]) -> dict[str, Any]:
    """What a restarted node needs to route as before: per venue, and per channel."""
    venues = {}
    for state in router.states():
        if state.requested is None and not state.paused:
            continue
        venues[state.venue] = {
            "paused": state.paused,
            "requested": _route_json(state.requested),
            "held_against": state.held_against,
        }
    return {"venues": venues, "sources": dict(sorted(sources.items()))}


def restore_routing(router: Router, document: dict[str, Any]) -> dict[str, SourceName]:
    """Put the stored state back into ``router``; returns the failover choices.

    What no longer fits the event (a venue or channel removed from the file) is dropped.
    """
    event = router.event
    for venue_id, data in dict(document.get("venues", {})).items():
        if event.venue(venue_id) is None:
            continue
        state = router.state(venue_id)
        state.paused = bool(data.get("paused", False))
        route = _route(venue_id, data.get("requested"))
        if route is not None and (route.channel is None or event.channel(route.channel)):
            state.requested = route
            held = data.get("held_against")
            state.held_against = str(held) if held is not None else None
    return {
        channel: cast(SourceName, source)
        for channel, source in dict(document.get("sources", {})).items()
        if event.channel(channel) is not None and source in SOURCES
    }


def _route_json(route: Route | None) -> dict[str, Any] | None:
    if route is None:
        return None
    return {
        "channel": route.channel,
        "session": route.session,
        "by": route.by,
        "requested_at": route.requested_at.isoformat(),
    }


def _route(venue_id: str, data: dict[str, Any] | None) -> Route | None:
    if not data:
        return None
    return Route(
        venue=venue_id,
        channel=data.get("channel"),
        session=data.get("session"),
        by=str(data["by"]),
        requested_at=datetime.fromisoformat(data["requested_at"]),
    )


class RoutingStateKeeper:
    """Loads and saves the routing state document; writes only when it changed."""

    def __init__(self, store: ValueStore, event_id: str) -> None:
        self._store = store
        self._key = f"routing-state:{event_id}"
        self._saved: str | None = None

    async def load(self) -> dict[str, Any] | None:
        text = await self._store.get_value(self._key)
        self._saved = text
        return None if text is None else dict(json.loads(text))

    async def save(self, document: dict[str, Any]) -> None:
        text = json.dumps(document, ensure_ascii=False, sort_keys=True)
        if text != self._saved:
            await self._store.put_value(self._key, text)
            self._saved = text
