"""Names and titles in several languages: reading them from event files, their faults,
and how a page's language picks one (config/event_text.py, config/languages.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import Event, Part, load_event
from config.event import LocalText
from config.languages import language_problem
from tests.unit.test_event_file import GOOD, problems, write

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_a_title_table_gives_every_language_and_str_is_the_default(tmp_path: Path) -> None:
    text = GOOD.replace('title = "A"', 'title = { en = "Opening", zh = "开幕式", ja = "開会式" }')
    text = text.replace('name = "Tokyo"', 'name.en = "Tokyo"\nname.zh = "东京"')
    event = load_event(write(tmp_path, text))
    session = event.sessions[0]
    assert session.title.as_dict() == {"en": "Opening", "zh": "开幕式", "ja": "開会式"}
    assert str(session.title) == "Opening"
    assert session.title.get("zh") == "开幕式"
    assert session.title.get("zh-CN") == "开幕式"  # a browser's tag finds its language
    assert session.title.get("ru") == "Opening"  # missing: the event's default language
    assert session.title.get(None) == "Opening"
    tokyo = event.venue("jp")
    assert tokyo is not None
    assert tokyo.name.get("zh") == "东京"
    # Plain strings stay valid: one text, in the default language.
    channel = event.channel("hall-1")
    assert channel is not None
    assert channel.title.as_dict() == {"en": "Hall 1"}
    assert event.default_language == "en"


def test_the_default_language_comes_first_whatever_the_order(tmp_path: Path) -> None:
    text = GOOD.replace('title = "A"', 'title = { zh = "开幕式", en = "Opening" }')
    event = load_event(write(tmp_path, text))
    assert event.sessions[0].title.texts == (("en", "Opening"), ("zh", "开幕式"))


def test_an_event_may_default_to_chinese(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Demo"', 'name = "演示"\ndefault_language = "zh"')
    text = text.replace('title = "A"', 'title = { zh = "开幕式", en = "Opening" }')
    event = load_event(write(tmp_path, text))
    assert event.default_language == "zh"
    assert str(event.name) == "演示"
    assert event.name.default_language == "zh"
    assert str(event.sessions[0].title) == "开幕式"
    assert event.sessions[0].title.get("en") == "Opening"


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        (
            '{ en = "Opening", cn = "开幕式" }',
            "'cn' is not an ISO 639-1 language code (did you mean 'zh'?)",
        ),
        ('{ en = "Opening", jp = "開会式" }', "(did you mean 'ja'?)"),
        ('{ en = "Opening", english = "x" }', "'english' is not a language code like zh or en"),
        ('{ en = "Opening", zh = "  " }', "the 'zh' text is empty or not a string"),
        ('{ en = "Opening", zh = 3 }', "the 'zh' text is empty or not a string"),
        ('{ zh = "开幕式" }', "no text in the event's default language 'en'"),
        ("{}", "the table has no language in it"),
        ('""', "expected a non-empty string"),
        ("[]", 'expected a string or a table like { en = "...", zh = "..." }'),
    ],
)
def test_a_bad_title_names_the_file_the_key_and_the_reason(
    tmp_path: Path, title: str, reason: str
) -> None:
    found = problems(tmp_path, GOOD.replace('title = "A"', f"title = {title}"))
    assert len(found) == 1, found
    assert found[0].startswith("sessions[0].title: ")
    assert reason in found[0]


def test_every_fault_of_one_title_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('title = "A"', 'title = { cn = "x", zh = "" }'))
    assert len(found) == 1
    assert "'cn'" in found[0]
    assert "'zh' text is empty" in found[0]
    assert "default language 'en'" in found[0]


def test_names_of_venues_channels_and_the_event_are_checked_the_same_way(
    tmp_path: Path,
) -> None:
    text = GOOD.replace('name = "Demo"', 'name = { en = "Demo", cn = "演示" }')
    text = text.replace('name = "Tokyo"', 'name = { ja = "東京" }')
    text = text.replace('title = "Hall 1"', 'title = { en = "" }')
    found = problems(tmp_path, text)
    assert any(p.startswith("event.name: 'cn'") for p in found), found
    assert any(p.startswith("venues[1].name: no text in the event's default") for p in found)
    assert any(p.startswith("channels[0].title: the 'en' text is empty") for p in found)


def test_session_and_venue_languages_are_real_language_codes(tmp_path: Path) -> None:
    text = GOOD.replace('venues = ["jp"]', 'venues = ["jp"]\nlanguages = ["zh", "jp"]')
    text = text.replace('time_zone = "Asia/Tokyo"', 'time_zone = "Asia/Tokyo"\nlanguage = "jp"')
    found = problems(tmp_path, text)
    reason = "'jp' is not an ISO 639-1 language code (did you mean 'ja'?)"
    assert f"sessions[0].languages: {reason}" in found, found
    assert any(p.startswith("venues[1].language: 'jp'") for p in found), found


def test_an_unknown_default_language_is_a_problem(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Demo"', 'name = "Demo"\ndefault_language = "cn"')
    found = problems(tmp_path, text)
    assert any(p.startswith("event.default_language: 'cn'") for p in found), found


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("zh", True),
        ("zh-Hant", True),
        ("pt-BR", True),
        ("yue", True),  # Cantonese: three letters, ISO 639-3
        ("xx", False),
        ("cn", False),
        ("EN", False),
        ("e", False),
        ("zh_CN", False),
    ],
)
def test_language_codes(code: str, ok: bool) -> None:
    assert (language_problem(code) is None) is ok


def test_a_local_text_needs_its_default_text() -> None:
    with pytest.raises(ValueError, match="non-empty text"):
        LocalText((("en", ""),))
    with pytest.raises(ValueError, match="non-empty text"):
        LocalText(())


def test_every_part_label_has_english_and_chinese() -> None:
    for part in Part:
        assert part.local_label.languages == ("en", "zh")
        assert str(part.local_label) == part.label
        assert HAN.search(part.local_label.get("zh"))


def _assert_bilingual(what: str, text: LocalText) -> None:
    assert text.default_language == "en", what
    zh = text.get("zh")
    assert "zh" in text.languages, f"{what} has no Chinese"
    assert HAN.search(zh), f"{what}: {zh!r} is not Chinese"
    assert zh != str(text), what


def test_the_reference_event_is_bilingual_everywhere(reference_event: Event) -> None:
    _assert_bilingual("the event", reference_event.name)
    assert reference_event.name.get("zh") == "2018中国海外人才交流大会（2018海交会）"
    for venue in reference_event.venues:
        _assert_bilingual(f"venue {venue.id}", venue.name)
    for channel in reference_event.channels:
        _assert_bilingual(f"channel {channel.id}", channel.title)
    for session in reference_event.sessions:
        _assert_bilingual(f"session {session.id}", session.title)
    zh_titles = [s.title.get("zh") for s in reference_event.sessions]
    assert len(set(zh_titles)) == len(zh_titles), "two sessions share a Chinese title"


def test_sessions_sent_to_sub_venues_list_the_languages_interpreted_for_them(
    reference_event: Event,
) -> None:
    main = reference_event.main_venue
    sent = [s for s in reference_event.sessions if s.venues and s.venues != (main.id,)]
    assert sent
    for session in sent:
        wanted = [session.languages[0]]
        for venue_id in session.venues:
            venue = reference_event.venue(venue_id)
            assert venue is not None
            assert venue.language is not None
            if venue.language not in wanted:
                wanted.append(venue.language)
        assert session.languages == tuple(wanted), session.id
    opening = reference_event.session("opening")
    assert opening is not None
    assert opening.languages == ("zh", "en", "ja", "ko", "ru")
    # Sessions sent back to Guangzhou: the sub-venue's floor first, then Chinese.
    tokyo = reference_event.session("jp-tokyo-exchange")
    assert tokyo is not None
    assert tokyo.languages == ("ja", "zh")
