"""Every venue's slate: what it says now, its encoding, and the clock that plays them.

A slate names the event, the venue and the venue's next session with its local start
time. It is encoded in a worker thread (the event loop never waits for an encoder) when
the venue's output first has a viewer, and again only when that text changes (a
session started, so the next one is another): never per viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from config import Event, Venue
from streaming.slate import SlateFeed
from streaming.slate_picture import SlateClip, SlateText, encode, render

logger = logging.getLogger(__name__)

TICK = 0.02  # the slate's audio packet interval
TEXT_CHECK_INTERVAL = 1.0


def slate_text(event: Event, venue: Venue, now: datetime) -> SlateText:
    """What ``venue``'s slate says at ``now``: its next session, in its local time."""
    upcoming = [s for s in event.sessions if venue.id in s.venues and s.start > now]
    if not upcoming:
        return SlateText(str(event.name), str(venue.name), None, None)
    session = min(upcoming, key=lambda s: s.start)
    local = session.start.astimezone(venue.time_zone)
    starts = f"{local:%a %d %b %Y, %H:%M} {local:%Z} ({venue.time_zone.key})"
    # The event's default language: the slate is drawn once, not per viewer.
    return SlateText(str(event.name), str(venue.name), str(session.title), starts)


def encode_slate(text: SlateText, video_codec: str) -> SlateClip:
    """Draw and encode one slate (blocking: run it in a thread)."""
    return encode(render(text), video_codec)


class SlateBook:
    """Owns each venue's ``SlateFeed``, keeps its clip current and paces them all."""

    def __init__(
        self,
        event: Event,
        video_codec: str,
        on_ready: Callable[[str], None],
        now: Callable[[], datetime],
        wanted: Callable[[str], bool] = lambda venue: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.feeds = {v.id: SlateFeed(v.id, video_codec) for v in event.venues}
        self._event = event
        self._video_codec = video_codec
        self._on_ready = on_ready
        self._now = now
        self._wanted = wanted
        self._clock = clock
        self._wake = asyncio.Event()
        self._texts: dict[str, SlateText] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Encode every slate (in a thread) and start pacing them."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._keep_current(), name="slate-text"),
            loop.create_task(self._pace(), name="slate-pace"),
        ]

    async def aclose(self) -> None:
        """Stop encoding and pacing."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """A venue output got a viewer: encode its slate now rather than at the next check."""
        self._wake.set()

    async def refresh(self) -> None:
        """Encode the wanted slates whose text changed since they were last encoded."""
        now = self._now()
        for venue in self._event.venues:
            text = slate_text(self._event, venue, now)
            if self._texts.get(venue.id) == text or not self._wanted(venue.id):
                continue
            clip = await asyncio.to_thread(encode_slate, text, self._video_codec)
            self._texts[venue.id] = text
            self.feeds[venue.id].load(clip)
            logger.info("venue %s: slate ready (next: %s)", venue.id, text.next_session)
            self._on_ready(venue.id)

    async def _keep_current(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # a failed encoding leaves the previous slate in place
                logger.exception("could not encode a slate")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TEXT_CHECK_INTERVAL)
            self._wake.clear()

    async def _pace(self) -> None:
        feeds = tuple(self.feeds.values())
        while True:
            await asyncio.sleep(TICK)
            now = self._clock()
            for feed in feeds:
                feed.tick(now)
