"""Interpreter booths on other processes, over the bus, to the one that keeps the records.

Only the process that runs routing keeps interpreters' turns (``interpreting_store.py``),
but an interpreter's WHIP lands on whichever node or worker holds the channel. Every
other process hands each on-air change of its booths to the bus (``booth-on-air``, from
one task so the media plane never waits); the routing process checks each message
against the event and folds it into its log as if its own media plane had said it. A
booth lives on one process at a time, so its changes arrive in the order they happened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import msgspec

from config.event import Event
from signaling.bus.node import BusMessage, NodeBus
from signaling.records.interpreting import LanguageNote
from signaling.routing.languages import LANGUAGE_CODE
from signaling.routing.outbox import Outbox

logger = logging.getLogger(__name__)

BOOTH = "booth-on-air"
MAX_NAME = 200  # an interpreter's name as their token carries it; longer is not ours
_NODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class BadBoothNote(ValueError):
    """A ``booth-on-air`` message that is malformed or does not fit the event."""


class BoothNote(msgspec.Struct, frozen=True, kw_only=True):
    """Who is on air in ``channel``'s ``language`` booth since ``at`` (None: nobody)."""

    node: str
    channel: str
    language: str
    interpreter: str | None
    at: datetime


class LanguageListener(Protocol):
    def language_changed(self, event: LanguageNote) -> None: ...


def parse_booth_note(message: Mapping[str, Any], event: Event) -> BoothNote:
    """One bus message as a ``BoothNote``, or ``BadBoothNote`` saying why not."""
    fields = {k: v for k, v in message.items() if k in BoothNote.__struct_fields__}
    try:
        note = msgspec.convert(fields, BoothNote)
    except msgspec.ValidationError as error:
        raise BadBoothNote(str(error)) from None
    if _NODE.fullmatch(note.node) is None:
        raise BadBoothNote("the sender is not a node id")
    if event.channel(note.channel) is None:
        raise BadBoothNote(f"no channel {note.channel[:70]!r}")
    if LANGUAGE_CODE.fullmatch(note.language) is None:
        raise BadBoothNote("the language is not a language code")
    if note.interpreter is not None and not 0 < len(note.interpreter) <= MAX_NAME:
        raise BadBoothNote("the interpreter's name is empty or too long")
    if note.at.tzinfo is None:
        raise BadBoothNote("the time has no time zone")
    return note


class BoothReports:
    """A process that keeps no records: its booths' changes go out on the bus."""

    def __init__(self, bus: NodeBus) -> None:
        self._outbox = Outbox(bus)

    def language_changed(self, event: LanguageNote) -> None:
        """Called by the media plane; queued, never waits."""
        fields = {
            "channel": event.channel,
            "language": event.language,
            "interpreter": event.interpreter,
            "at": event.at.isoformat(),
        }
        self._outbox.put(BOOTH, fields)

    def start(self) -> None:
        self._outbox.start()

    async def aclose(self) -> None:
        await self._outbox.aclose()


def hear_booths(bus: NodeBus, event: Event, recorder: LanguageListener) -> None:
    """On the process that keeps the records: other processes' booth changes go to
    ``recorder`` (a forged or broken message is one log line)."""

    def heard(message: BusMessage) -> None:
        try:
            note = parse_booth_note(message, event)
        except BadBoothNote as error:
            sender = str(message.get("node"))[:70]
            logger.warning("ignored a booth message from %s: %s", sender, error)
            return
        recorder.language_changed(note)

    bus.on(BOOTH, heard)
