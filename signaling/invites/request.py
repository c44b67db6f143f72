"""What the invite form asks for, checked against the event and the limits. Pure.

The form shows every scope field (it works without JavaScript); only the one the chosen
role needs is read: a venue for an operator, sessions for a moderator, channels for a
producer. Each refusal names the field and what to do, in a ``BadMessage``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from config import Event
from signaling.auth.grants import ALL, PEOPLE_ROLES, Role
from signaling.errors import BadMessage

Form = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class InviteRequest:
    """A checked request for one invite."""

    role: Role
    label: str
    ttl: float  # seconds
    venue: str | None = None
    sessions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    language: str | None = None  # captioner: one language (None: any); interpreter: theirs


def _shown(value: str) -> str:
    """``value`` cut short for an error message (it came from the client)."""
    return value if len(value) <= 40 else value[:40] + "…"


def _one(form: Form, name: str) -> str:
    values = [v.strip() for v in form.get(name, ()) if v.strip()]
    if len(values) > 1:
        raise BadMessage(f"give one {name}, not {len(values)}")
    return values[0] if values else ""


def _many(form: Form, name: str) -> tuple[str, ...]:
    # dict.fromkeys: duplicates dropped in order, in linear time however many are posted.
    return tuple(dict.fromkeys(v.strip() for v in form.get(name, ()) if v.strip()))


def check_label(label: str, max_chars: int) -> str:
    """The label trimmed; ``BadMessage`` when empty, too long or holding control characters."""
    label = label.strip()
    if not label:
        raise BadMessage("give the invite a label (who it is for)")
    if len(label) > max_chars:
        raise BadMessage(f"the label is {len(label)} characters; at most {max_chars}")
    if any(not character.isprintable() for character in label):
        raise BadMessage("the label may not hold line breaks or other control characters")
    return label


def _hours(text: str, role: Role, max_hours: float) -> float:
    if not text:
        raise BadMessage("say how many hours the invite is valid")
    try:
        hours = float(text)
    except ValueError:
        raise BadMessage(f"'{_shown(text)}' is not a number of hours") from None
    if not math.isfinite(hours) or hours <= 0:
        raise BadMessage("the invite must be valid for more than 0 hours")
    if hours > max_hours:
        raise BadMessage(
            f"a {role.value} invite may be valid at most {max_hours:g} hours "
            f"(setting tokens.{role.value}_max_hours)"
        )
    return hours * 3600


Scope = tuple[str | None, tuple[str, ...], tuple[str, ...]]  # venue, sessions, channels


def _scope(form: Form, role: Role, event: Event) -> Scope:
    """The scope field the role needs, every id checked against the event."""
    if role is Role.OPERATOR:
        venue = _one(form, "venue")
        if not venue:
            raise BadMessage("an operator invite needs a venue")
        if event.venue(venue) is None:
            raise BadMessage(f"there is no venue '{_shown(venue)}' in this event")
        return venue, (), ()
    if role is Role.CAPTIONER:
        return None, _captioned_sessions(form, event), ()
    if role is Role.MODERATOR:
        sessions = _many(form, "session")
        if not sessions:
            raise BadMessage("a moderator invite needs at least one session")
        for session_id in sessions:
            session = None if session_id == ALL else event.session(session_id)
            if session_id != ALL and session is None:
                raise BadMessage(f"there is no session '{_shown(session_id)}' in this event")
            if session is not None and not session.qa:
                raise BadMessage(f"the session '{session_id}' has no Q&A to moderate")
        return None, ((ALL,) if ALL in sessions else sessions), ()
    if role is Role.PRODUCER:
        channels = _many(form, "channel")
        if not channels:
            raise BadMessage("a producer invite needs at least one channel")
        unknown = [c for c in channels if c != ALL and event.channel(c) is None]
        if unknown:
            raise BadMessage(f"there is no channel '{_shown(unknown[0])}' in this event")
        return None, (), ((ALL,) if ALL in channels else channels)
    return None, (), ()


def _captioned_sessions(form: Form, event: Event) -> tuple[str, ...]:
    """The sessions a captioner invite names, each in the event (or ``*``)."""
    sessions = _many(form, "caption_session") or _many(form, "session")
    if not sessions:
        raise BadMessage("a captioner invite needs at least one session")
    unknown = [s for s in sessions if s != ALL and event.session(s) is None]
    if unknown:
        raise BadMessage(f"there is no session '{_shown(unknown[0])}' in this event")
    return (ALL,) if ALL in sessions else sessions


def parse_request(
    form: Form, event: Event, max_hours: Callable[[Role], float], max_label_chars: int
) -> InviteRequest:
    """The invite ``form`` asks for; ``BadMessage`` saying what is wrong otherwise."""
    role_text = _one(form, "role")
    role = next((r for r in PEOPLE_ROLES if r.value == role_text), None)
    if role is None:
        roles = ", ".join(r.value for r in PEOPLE_ROLES)
        raise BadMessage(f"choose a role: one of {roles}")
    label = check_label(_one(form, "label"), max_label_chars)
    ttl = _hours(_one(form, "hours"), role, max_hours(role))
    venue, sessions, channels = _scope(form, role, event)
    language = _caption_language(form, event, sessions) if role is Role.CAPTIONER else None
    return InviteRequest(
        role, label, ttl, venue=venue, sessions=sessions, channels=channels, language=language
    )


def _caption_language(form: Form, event: Event, sessions: tuple[str, ...]) -> str | None:
    """The one language a captioner invite is for (None: any), spoken in its sessions."""
    language = _one(form, "caption_lang").lower()
    if not language:
        return None
    named = event.sessions if ALL in sessions else [event.session(s) for s in sessions]
    if not any(s is not None and language in s.languages for s in named):
        raise BadMessage(f"none of the chosen sessions has the language '{_shown(language)}'")
    return language
