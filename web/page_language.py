"""Which language a page is drawn in, and the words the server-drawn pages need.

The same order as the pages' scripts (static/venue/i18n.js): ``?lang=``, then the saved
choice (the ``vb_lang`` cookie the scripts set with their localStorage), then the
browser's languages (``Accept-Language``, best first), then English. Titles are then
picked from the event's ``LocalText``s with their own fallback (the event's default
language).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import jinja2
from aiohttp import web

from config.event import LocalText
from config.languages import primary_subtag

UI_LANGUAGES = ("en", "zh")
FALLBACK = "en"
COOKIE = "vb_lang"
# Accept-Language is a short header in practice; a longer one is read only this far.
MAX_ACCEPT_ENTRIES = 16


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    primary = primary_subtag(code.strip())
    return primary if primary in UI_LANGUAGES else None


def accepted_languages(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, highest quality first (stable)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:MAX_ACCEPT_ENTRIES]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def page_language(request: web.Request) -> str:
    """The UI language of this request's page: ``en`` or ``zh``."""
    for candidate in (request.query.get("lang"), request.cookies.get(COOKIE)):
        if chosen := _supported(candidate):
            return chosen
    for tag in accepted_languages(request.headers.get("Accept-Language", "")):
        if chosen := _supported(tag):
            return chosen
    return FALLBACK


# The schedule page's own words (the scripts' pages keep theirs in i18n.js).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "schedule": "Schedule",
        "programme": "Programme",
        "venues": "venues",
        "sessions": "sessions",
        "all_venues": "all venues",
        "show_times_in": "Show times in",
        "event_time": "Event time",
        "a_venues_time": "A venue's time",
        "my_time_zone": "My time zone",
        "times_shown_in": "Times shown in",
        "event_date": "(event date)",
        "to": "to",
        "no_sessions": "No sessions.",
        "other_language": "中文",
        "programme_kind": "programme",
        "return_kind": "return feed",
        "qa": "Q&A",
    },
    "zh": {
        "schedule": "日程",
        "programme": "大会日程",
        "venues": "个会场",
        "sessions": "场活动",
        "all_venues": "全部会场",
        "show_times_in": "时间显示为",
        "event_time": "大会时间",
        "a_venues_time": "会场当地时间",
        "my_time_zone": "我的时区",
        "times_shown_in": "当前时区",
        "event_date": "（大会日期）",
        "to": "发往",
        "no_sessions": "暂无日程。",
        "other_language": "English",
        "programme_kind": "节目",
        "return_kind": "回传",
        "qa": "互动提问",
    },
}

_WEEKDAYS_ZH = "一二三四五六日"


def day_heading(day: date, language: str) -> str:
    """``Friday 21 December 2018`` or ``2018年12月21日 星期五``."""
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日 星期{_WEEKDAYS_ZH[day.weekday()]}"
    return str(day.strftime("%A %d %B %Y"))


def language_context(request: web.Request) -> dict[str, str]:
    """What a page's template needs to draw in the request's language: ``lang`` (the
    ``finalize`` hook below reads it) and ``other_lang`` (the switch to the other one).

    Pages whose handler leaves it out show the event's default language.
    """
    language = page_language(request)
    return {"lang": language, "other_lang": "en" if language == "zh" else "zh"}


def _context_language(context: jinja2.runtime.Context) -> str | None:
    language = context.get("lang")
    return language if isinstance(language, str) else None


@jinja2.pass_context
def show_in_page_language(context: jinja2.runtime.Context, value: Any) -> Any:
    """Jinja's ``finalize``: ``{{ session.title }}`` prints the page language's text.

    Every template then shows titles and names in the page's language without each
    one spelling it out; anything that is not a ``LocalText`` passes through.
    """
    if isinstance(value, LocalText):
        return value.get(_context_language(context))
    return value


def texts_in(value: Any, language: str | None) -> Any:
    """``value`` with every ``LocalText`` in it (in dicts and lists) made a string."""
    if isinstance(value, LocalText):
        return value.get(language)
    if isinstance(value, dict):
        return {key: texts_in(item, language) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [texts_in(item, language) for item in value]
    return value


@jinja2.pass_context
def in_page_language(context: jinja2.runtime.Context, value: Any) -> Any:
    """The filter ``| in_page_language``: ``texts_in`` for the page (before ``tojson``)."""
    return texts_in(value, _context_language(context))
