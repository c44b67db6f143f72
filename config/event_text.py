"""Reading a name or title that may be written in several languages.

``title = "Opening"`` or ``title = { en = "Opening", zh = "开幕式" }``. The table must
carry the event's default language (``[event] default_language``, ``en`` unless set),
because that text is what exports and the command line print. Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from config.event import LocalText
from config.languages import language_problem


def local_text(default_language: str) -> Callable[[object], LocalText]:
    """A parser for one name or title; raises ``ValueError`` naming every fault in it."""

    def parse(value: object) -> LocalText:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("expected a non-empty string")
            return LocalText.plain(value.strip(), default_language)
        if not isinstance(value, dict):
            raise ValueError('expected a string or a table like { en = "...", zh = "..." }')
        faults: list[str] = []
        texts: dict[str, str] = {}
        for language, text in value.items():
            problem = language_problem(language)
            if problem is not None:
                faults.append(problem)
            elif not isinstance(text, str) or not text.strip():
                faults.append(f"the '{language}' text is empty or not a string")
            else:
                texts[language] = text.strip()
        if not value:
            faults.append("the table has no language in it")
        elif default_language not in value:
            faults.append(
                f"no text in the event's default language '{default_language}' "
                "(event.default_language)"
            )
        if faults:
            raise ValueError("; ".join(faults))
        return LocalText.of(default_language, texts)

    return parse
