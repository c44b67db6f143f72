"""The caption service of one node: checks, keeps and delivers caption lines.

A line is checked (role, session, language, length, rate), kept in the store, sent to
the pages of this node watching that session and language, and published on the bus so
the other nodes and worker processes send it to theirs. Delivery reuses the Q&A fan-out
machinery: one encoded ``Frame`` per line, its bytes handed to every watcher by
``ClientRegistry.send_to`` (a client too slow is dropped, never waited for).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from config import Event
from config.event import Session
from signaling.auth.grants import Grant
from signaling.bus.node import BusMessage, NodeBus
from signaling.captions.lines import CaptionLimits, CaptionLine, LineRate, clean_line, clean_lines
from signaling.captions.log import CaptionLog
from signaling.clients import Client
from signaling.errors import Forbidden, NotFound
from signaling.protocol.server import CaptionFrame, CaptionHistory, as_json, encode_frame
from signaling.registry import ClientRegistry

# The registry room of one session's captions in one language.
ROOM_PREFIX = "captions:"
BUS_KIND = "captions"


def caption_room(session: str, language: str) -> str:
    return f"{ROOM_PREFIX}{session}:{language}"


def line_frame(session: str, language: str, line: CaptionLine) -> CaptionFrame:
    return CaptionFrame(
        session=session, language=language, seq=line.seq, text=line.text, at=line.at, by=line.by
    )


class CaptionService:
    """Caption lines in and out for one node; the websocket commands and the recognizers
    both come here."""

    def __init__(
        self,
        event: Event,
        clients: ClientRegistry,
        bus: NodeBus,
        log: CaptionLog,
        limits: CaptionLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.log = log
        self._event = event
        self._clients = clients
        self._bus = bus
        self._clock = clock
        self._rate = LineRate(limits.lines_per_second, limits.burst_lines)
        bus.on(BUS_KIND, self._heard)

    def session(self, session_id: str, language: str | None = None) -> Session:
        """The session, and ``language`` one of its languages; ``NotFound`` otherwise."""
        session = self._event.session(session_id)
        if session is None:
            raise NotFound(f"no session '{session_id}'")
        if language is not None and language not in session.languages:
            spoken = ", ".join(session.languages) or "none"
            raise NotFound(
                f"session '{session_id}' has no '{language}' captions; its languages: {spoken}",
                code="no_such_language",
            )
        return session

    async def watch(self, client: Client, session_id: str, language: str | None) -> None:
        """Send ``client`` the lines of one session and language from now on (and the last
        few said before); any captions it watched before stop."""
        if language is not None:
            self.session(session_id, language)
        for room in [r for r in client.rooms if r.startswith(ROOM_PREFIX)]:
            self._clients.leave(client, room)
        if language is None:
            return
        self._clients.join(client, caption_room(session_id, language))
        recent = await self.log.last(session_id, language, self.limits.history_lines)
        frames = [line_frame(session_id, language, line) for line in recent]
        history = CaptionHistory(session=session_id, language=language, lines=frames)
        self._clients.send(client, encode_frame(history))

    async def send(
        self, grant: Grant, session_id: str, language: str, texts: list[str]
    ) -> list[CaptionLine]:
        """A person's lines: checked against their role and the limits, kept, delivered."""
        self.session(session_id, language)
        if not grant.captions(session_id, language):
            raise Forbidden(
                f"only a captioner of this session ({language}) or a director may send captions",
                code="not_captioner",
            )
        lines = clean_lines(texts, self.limits)
        self._rate.take(grant.identity, len(lines), time.monotonic())
        return await self._keep_and_deliver(session_id, language, lines, grant.identity)

    async def heard(self, session_id: str, language: str, text: str, by: str) -> list[CaptionLine]:
        """A recognizer's line: no person's rate applies; a long one is split to fit."""
        self.session(session_id, language)
        words = " ".join(text.split())
        chunks = _split(words, self.limits.max_line_chars)
        lines = [clean_line(chunk, self.limits) for chunk in chunks]
        return await self._keep_and_deliver(session_id, language, lines, by) if lines else []

    async def _keep_and_deliver(
        self, session_id: str, language: str, texts: list[str], by: str
    ) -> list[CaptionLine]:
        kept = await self.log.append(session_id, language, texts, self._clock(), by)
        frames = [line_frame(session_id, language, line) for line in kept]
        self._deliver(frames)
        await self._bus.publish(BUS_KIND, {"frames": [as_json(frame) for frame in frames]})
        return kept

    def _heard(self, message: BusMessage) -> None:
        # A malformed message raises here and is logged by the bus as a bad message.
        self._deliver(msgspec.convert(message.get("frames"), list[CaptionFrame]))

    def _deliver(self, frames: list[CaptionFrame]) -> None:
        for frame in frames:
            watchers = self._clients.members(caption_room(frame.session, frame.language))
            if watchers:
                self._clients.send_to(watchers, encode_frame(frame))


def _split(words: str, width: int) -> list[str]:
    """``words`` cut into lines of at most ``width`` characters, at spaces where it can."""
    lines: list[str] = []
    while len(words) > width:
        cut = words.rfind(" ", 0, width + 1)
        cut = cut if cut > 0 else width
        lines.append(words[:cut].strip())
        words = words[cut:].strip()
    if words:
        lines.append(words)
    return lines
