"""Names and words for what pages show people, in place of ids and enum values.

Templates use these directly; pages whose scripts draw ids (a question's origin, the
presence tables, what is on air) get them as one JSON blob, ``#display-names``.
"""

from __future__ import annotations

from typing import Any

from config import Event
from signaling.routing.languages import event_languages

# A question's origin (signaling's ``Origin``) as the moderator and the stage read it.
ORIGIN_WORDS = {
    "remote": "watching online",
    "in_room": "in the hall",
    "sub_venue": "from a sub-venue",
}


# Each language in its own name (endonym), as interpretation channels are announced.
LANGUAGE_NAMES = {"zh": "中文", "en": "English", "ja": "日本語", "ko": "한국어", "ru": "Русский"}


def track_options(event: Event) -> list[tuple[str, str]]:
    """(value, label) for a venue output's language select: the floor, then every track."""
    names = LANGUAGE_NAMES
    tracks = [(code, f"{code} · {names.get(code, code)}") for code in event_languages(event)]
    return [("", "floor (no interpretation)"), *tracks]


def display_names(event: Event) -> dict[str, Any]:
    """Id -> name for venues, channels and sessions, and words for question origins.

    Names are ``LocalText``s: the page's ``| in_page_language`` filter makes them
    strings in the page's language before they become JSON (templates/_names.html).
    """
    return {
        "venues": {v.id: v.name for v in event.venues},
        "channels": {c.id: c.title for c in event.channels},
        "sessions": {s.id: s.title for s in event.sessions},
        "origins": ORIGIN_WORDS,
        # English words around the name: the crew pages that show them are English.
        "from_venue": {v.id: f"from the {v.name}" for v in event.venues},
    }
