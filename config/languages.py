"""Language codes as event files write them: checked against ISO 639-1, not just shaped.

A code that merely looks like one is not enough: ``cn`` and ``jp`` are country codes,
the commonest slip in a bilingual programme, and a title under ``cn`` would never be
shown to a Chinese reader. Pure.
"""

from __future__ import annotations

import re

# ISO 639-1: every two-letter language code.
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he
    hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko
    kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd
    ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se
    sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty
    ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905 (a list literal would take 183 lines)
)

# Country codes (or withdrawn codes) people write for a language, and the code they meant.
_MEANT = {
    "cn": "zh",
    "jp": "ja",
    "gr": "el",
    "dk": "da",
    "cz": "cs",
    "ua": "uk",
    "vn": "vi",
    "kz": "kk",
    "in": "id",
    "iw": "he",
    "us": "en",
    "gb": "en",
}

# A BCP 47 shaped tag: a primary language subtag, then optional subtags (zh-Hant, pt-BR).
_SHAPE = re.compile(r"^([a-z]{2,3})(-[A-Za-z0-9]{2,8})*$")


def language_problem(code: str) -> str | None:
    """Why ``code`` is not a language code, or None when it is one.

    Two-letter primary subtags must be ISO 639-1; three-letter ones (ISO 639-2/3, such
    as ``yue`` for Cantonese) are accepted by shape, as no list of them ships here.
    """
    match = _SHAPE.match(code)
    if match is None:
        return f"'{code}' is not a language code like zh or en"
    primary = match.group(1)
    if len(primary) == 2 and primary not in ISO_639_1:
        meant = _MEANT.get(code.lower()) or _MEANT.get(primary)
        hint = f" (did you mean '{meant}'?)" if meant else ""
        return f"'{code}' is not an ISO 639-1 language code{hint}"
    return None


def language_code(value: object) -> str:
    """An event file's language code (``zh``); raises ``ValueError`` saying why not."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    code = value.strip()
    problem = language_problem(code)
    if problem is not None:
        raise ValueError(problem)
    return code


def language_codes(value: object) -> tuple[str, ...]:
    """A non-empty list of language codes (a session's ``languages``)."""
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of language codes")
    return tuple(language_code(item) for item in value)


def primary_subtag(code: str) -> str:
    """``zh`` for ``zh-CN``: the part that names the language itself."""
    return code.split("-", 1)[0].lower()
