"""``GET /api/streams`` for the whole node when it runs several workers.

Each worker holds its own sessions, and the kernel hands each poll to any of them; the
director page polls every two seconds and would see publishers blink in and out. So the
worker a poll lands on asks its siblings for their own view (``?worker=local``, over
their private loopback listeners, with the caller's credentials so session ids stay for
directors only) and merges: sessions and relay links are listed with the worker that
holds them (a pull from a sibling as a relay link, not as a publisher), counts of
players are added up, and a channel is live if any worker has it live (its health and
source are the ones of the worker that has the publisher: the others only relay it).
A sibling that does not answer in time is left out and named in ``workers_missing``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from web.keys import WORKER, WORKER_LINKS

logger = logging.getLogger(__name__)

LOCAL_QUERY = "worker"  # ?worker=local: this worker's own view, as a sibling asks for it
SIBLING_TIMEOUT_SECONDS = 1.0
_PASSED_ON = ("Authorization", "Cookie")


def wants_node_view(request: web.Request) -> bool:
    """Several workers, and not a sibling asking for this worker's own view."""
    place = request.app.get(WORKER)
    return place is not None and request.query.get(LOCAL_QUERY) != "local"


async def _sibling_view(request: web.Request, index: int) -> dict[str, Any] | None:
    links = request.app[WORKER_LINKS]
    url = await links.private_url(index)
    if url is None or links.http is None:
        return None
    headers = {k: request.headers[k] for k in _PASSED_ON if k in request.headers}
    try:
        async with links.http.get(
            f"{url}/api/streams",
            params={LOCAL_QUERY: "local"},
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=SIBLING_TIMEOUT_SECONDS),
        ) as answer:
            if answer.status != 200:
                return None
            view: dict[str, Any] = await answer.json()
            return view
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        logger.info("worker %d's streams left out: %s", index, error)
        return None


async def node_view(request: web.Request, mine: dict[str, Any]) -> dict[str, Any]:
    """``mine`` merged with every sibling's own view."""
    place = request.app[WORKER]
    others = [i for i in range(place.count) if i != place.index]
    answers = await asyncio.gather(*(_sibling_view(request, i) for i in others))
    views = {place.index: mine}
    missing = []
    for index, view in zip(others, answers, strict=True):
        if view is None:
            missing.append(index)
        else:
            views[index] = view
    merged = merge_views(views)
    merged["workers_missing"] = missing
    return merged


def _tagged(views: dict[int, dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{**entry, "worker": index} for index, view in views.items() for entry in view[key]]


def _own_publishers(view: dict[str, Any]) -> list[dict[str, Any]]:
    """A worker's publishers but its pulls from siblings (those are in its ``relays``)."""
    pulled = {relay["channel"] for relay in view["relays"]}
    return [p for p in view["publishers"] if p["channel"] not in pulled]


def _merge_by_id(
    views: dict[int, dict[str, Any]], key: str, prefer: dict[str, int]
) -> list[dict[str, Any]]:
    """Entries with the same id from every worker: ``subscribers`` added, the rest taken
    from the worker ``prefer`` names for that id (else the lowest index)."""
    merged: dict[str, dict[str, Any]] = {}
    for index in sorted(views, key=lambda i: (i != 0, i)):
        for entry in views[index][key]:
            ident = entry["id"]
            if ident not in merged:
                merged[ident] = dict(entry)
                continue
            total = merged[ident]["subscribers"] + entry["subscribers"]
            if prefer.get(ident) == index:
                merged[ident] = dict(entry)
            merged[ident]["subscribers"] = total
    return list(merged.values())


def merge_views(views: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Several workers' ``/api/streams`` views (by worker index) as one node's."""
    # A channel's facts come from the worker with its publisher (the others relay it).
    own = {index: _own_publishers(view) for index, view in views.items()}
    holders = {p["channel"]: i for i, mine in own.items() for p in mine if p["live"]}
    channels = _merge_by_id(views, "channels", holders)
    live = {c["id"] for view in views.values() for c in view["channels"] if c["live"]}
    for channel in channels:
        channel["live"] = channel["id"] in live
    first = views[min(views)]
    return {
        **first,
        "channels": channels,
        # Every worker's venue outputs follow worker 0's switches: its facts, all players.
        "venues": _merge_by_id(views, "venues", {}),
        "publishers": [{**p, "worker": i} for i, mine in own.items() for p in mine],
        "subscribers": _tagged(views, "subscribers"),
        "relays": _tagged(views, "relays"),
    }
