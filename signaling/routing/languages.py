"""The language each venue output plays: the floor or one interpretation track. Pure.

Every venue output starts on its venue's ``language`` from the event file (None: the
floor). A director changes any venue's, an operator only their own venue's. A code the
event does not interpret (no venue defaults to it, no session lists it) is refused: the
output would play the floor while the matrix claimed otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

from config.event import Event

# The same shape the event file accepts (config/event_file.py).
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class LanguageError(ValueError):
    """A language request names a venue or a code the event does not have."""


class LanguageRefused(PermissionError):
    """The person asking may not change this venue's output language."""


class LanguageOutputs(Protocol):
    """The media plane as output languages need it (the consumer's port)."""

    def set_output_language(self, venue: str, language: str | None) -> None:
        """Play ``language`` (None: the floor) on ``venue``'s output from now on."""
        ...


def event_languages(event: Event) -> tuple[str, ...]:
    """Every language the event may play on an output: venue defaults and sessions' lists."""
    found = {v.language for v in event.venues if v.language}
    found.update(code for s in event.sessions for code in s.languages)
    return tuple(sorted(found))


def may_set_language(directs: bool, operator_venue: str | None, venue: str) -> bool:
    """Directors set any venue's output language; an operator only their own venue's."""
    return directs or (operator_venue is not None and operator_venue == venue)


class OutputLanguages:
    """The language of every venue output, with who set it last."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.allowed = frozenset(event_languages(event))
        self._languages: dict[str, str | None] = {v.id: v.language for v in event.venues}
        self._set: dict[str, str] = {}  # venue -> who changed it from the event's default

    def language(self, venue: str) -> str | None:
        return self._languages.get(venue)

    def all(self) -> dict[str, str | None]:
        return dict(self._languages)

    def check(self, venue: str, language: str | None) -> None:
        """Raise ``LanguageError`` unless ``venue`` exists and ``language`` is playable."""
        if venue not in self._languages:
            raise LanguageError(f"unknown venue '{venue}'")
        if language is None:
            return
        if not LANGUAGE_CODE.match(language):
            raise LanguageError(f"'{language[:20]}' is not a language code like zh or en")
        if language not in self.allowed:
            offered = ", ".join(sorted(self.allowed)) or "none"
            raise LanguageError(
                f"this event has no '{language}' track (its languages: {offered}; "
                "or null for the floor)"
            )

    def set(self, venue: str, language: str | None, by: str) -> bool:
        """Change ``venue``'s output language; False when it already plays that one."""
        self.check(venue, language)
        if self._languages[venue] == language:
            return False
        self._languages[venue] = language
        self._set[venue] = by
        return True

    def set_by(self, venue: str) -> str | None:
        return self._set.get(venue)

    # -- persistence (one part of the routing state document) ----------------------------

    def state(self) -> dict[str, Any]:
        """The languages people set (a venue still on its default is not written)."""
        return {
            venue: {"language": self._languages[venue], "by": by}
            for venue, by in sorted(self._set.items())
        }

    def restore(self, document: Mapping[str, Any]) -> None:
        """Put back what was set before a restart; what no longer fits the event is dropped."""
        for venue, data in dict(document).items():
            if not isinstance(data, Mapping):
                continue
            language = data.get("language")
            if language is not None and not isinstance(language, str):
                continue
            try:
                self.check(str(venue), language)
            except LanguageError:
                continue
            self._languages[str(venue)] = language
            self._set[str(venue)] = str(data.get("by", ""))
