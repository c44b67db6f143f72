"""Captions from a channel's audio: the speech-recognition port and what feeds its lines
into the caption service.

The media plane decodes a channel's audio (``streaming.audio_tap``) and hands PCM to
``SpeechCaptions.hear``; here the PCM goes to a recognizer for the session on air on
that channel, in the session's floor language (its first), and every finished line goes
into the same ``CaptionService`` typed lines go to: kept, delivered, exported alike.
Recognition runs in a worker thread (a real engine takes milliseconds per chunk), one
chunk at a time per node; a backlog past ``max_backlog`` chunks drops the oldest.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from config import Event
from config.schedule import session_on_channel
from signaling.captions.service import CaptionService
from signaling.errors import SignalingError

logger = logging.getLogger(__name__)
# Chunks waiting for the recognizer (a chunk is what the tap decoded at once, ~20-200 ms).
MAX_BACKLOG = 500


class Recognizer(Protocol):
    """Speech in one language: 16-bit mono PCM in, finished lines of text out."""

    def accept(self, pcm: bytes) -> list[str]:
        """Take more audio; the lines it finished with it (often none)."""
        ...

    def finish(self) -> list[str]:
        """The audio ended (the session changed): whatever line was still open."""
        ...


# Makes a recognizer for a language at a sample rate; raises ``RecognizerUnavailable``.
RecognizerFactory = Callable[[str, int], Recognizer]


class RecognizerUnavailable(Exception):
    """The engine, its package or its model cannot be used: the message says which."""


def speaker(channel: str) -> str:
    """Who a recognized line is by, in the store and on the wire."""
    return f"speech:{channel}"


class SpeechCaptions:
    """A ``PcmSink`` for the media plane: caption lines from each tapped channel's audio."""

    def __init__(
        self,
        event: Event,
        captions: CaptionService,
        factory: RecognizerFactory,
        now: Callable[[], datetime],
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.dropped = 0
        self.lines = 0
        self._event = event
        self._captions = captions
        self._factory = factory
        self._now = now
        self._backlog: collections.deque[tuple[str, bytes, int]] = collections.deque(
            maxlen=max_backlog
        )
        self._ready = asyncio.Event()
        # Per channel: (session, language) being recognized and its recognizer.
        self._current: dict[str, tuple[str, str, Recognizer]] = {}
        self._refused: set[str] = set()  # languages the factory could not serve (logged once)
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Chunks waiting for the recognizer."""
        return len(self._backlog)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="speech-captions")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def hear(self, channel: str, pcm: bytes, sample_rate: int) -> None:
        """The media plane's PCM of ``channel``; queued, never recognized on the caller."""
        if len(self._backlog) == self._backlog.maxlen:
            self.dropped += 1
        self._backlog.append((channel, pcm, sample_rate))
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._backlog:
                channel, pcm, rate = self._backlog.popleft()
                try:
                    await self._recognize(channel, pcm, rate)
                except Exception:
                    logger.exception("speech recognition of %s failed on a chunk", channel)

    async def _recognize(self, channel: str, pcm: bytes, rate: int) -> None:
        on_air = session_on_channel(self._event, channel, self._now())
        session = on_air.session if on_air.state == "on_air" else None
        target = (session.id, session.languages[0]) if session and session.languages else None
        current = self._current.get(channel)
        if current is not None and (current[0], current[1]) != target:
            # The session changed (or ended): its last open line belongs to it.
            del self._current[channel]
            await self._publish(current[0], current[1], channel, current[2].finish)
            current = None
        if target is None:
            return
        if current is None:
            recognizer = self._make(target[1], rate)
            if recognizer is None:
                return
            current = (target[0], target[1], recognizer)
            self._current[channel] = current
        session_id, language, recognizer = current
        await self._publish(session_id, language, channel, lambda: recognizer.accept(pcm))

    def _make(self, language: str, rate: int) -> Recognizer | None:
        if language in self._refused:
            return None
        try:
            return self._factory(language, rate)
        except RecognizerUnavailable as error:
            self._refused.add(language)
            logger.error("no speech captions in %s: %s", language, error)
            return None

    async def _publish(
        self, session: str, language: str, channel: str, recognize: Callable[[], list[str]]
    ) -> None:
        for text in await asyncio.to_thread(recognize):
            try:
                kept = await self._captions.heard(session, language, text, speaker(channel))
            except SignalingError as error:
                logger.warning("a recognized line of %s was refused: %s", channel, error.message)
                continue
            self.lines += len(kept)
