"""Captions core: line checks and limits, the line rate, roles, WebVTT (read back by
webvtt-py, an independent reader), where cue times count from, and the settings."""

from __future__ import annotations

import html
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import webvtt

from config import Event, load_settings
from config.settings import SettingsError
from signaling.auth import Grant, Role
from signaling.auth.tokens import TokenAuthority
from signaling.captions.lines import CaptionLimits, CaptionLine, LineRate, clean_line, clean_lines
from signaling.captions.service import _split, caption_room
from signaling.captions.webvtt import render, timestamp
from signaling.clients import Client
from signaling.errors import BadMessage, RateLimited, Refused
from signaling.invites import InviteRequest, parse_request
from signaling.presence import count
from signaling.records.airing import Airing, Status
from web.captions_http import session_start

LIMITS = CaptionLimits(max_line_chars=40, lines_per_second=2.0, burst_lines=4)


def test_a_line_is_folded_and_bounded_by_the_setting() -> None:
    assert clean_line("  Good   morning,\tGuangzhou ", LIMITS) == "Good morning, Guangzhou"
    assert clean_line("x" * 40, LIMITS) == "x" * 40
    too_long = r"41 characters; at most 40 \(setting captions\.max_line_chars"
    with pytest.raises(Refused, match=too_long):
        clean_line("x" * 41, LIMITS)
    with pytest.raises(Refused, match="empty"):
        clean_line(" \n ", LIMITS)
    with pytest.raises(BadMessage, match="control characters"):
        clean_line("bell\x07", LIMITS)


def test_a_paste_drops_blank_lines_and_is_bounded_by_burst_lines() -> None:
    assert clean_lines(["one", "", "  ", "two"], LIMITS) == ["one", "two"]
    with pytest.raises(Refused, match=r"5 lines at once; at most 4 \(setting captions.burst_lines"):
        clean_lines(["a", "b", "c", "d", "e"], LIMITS)
    # One bad line refuses the whole paste: nothing of it is kept half-way.
    with pytest.raises(Refused, match=r"at most 40"):
        clean_lines(["fine", "y" * 41], LIMITS)


def test_the_line_rate_takes_a_paste_whole_or_not_at_all() -> None:
    rate = LineRate(per_second=2.0, burst=4)
    rate.take("cap", 3, now=0.0)
    flood = r"at most 2 a second \(setting captions\.lines_per_second"
    with pytest.raises(RateLimited, match=flood):
        rate.take("cap", 2, now=0.0)
    rate.take("other", 4, now=0.0)  # per captioner
    rate.take("cap", 1, now=0.0)  # the refused two took nothing
    with pytest.raises(RateLimited) as refused:
        rate.take("cap", 1, now=0.1)
    assert refused.value.code == "caption_flood"
    rate.take("cap", 2, now=1.1)  # refilled at 2 a second


def test_recognized_text_is_split_at_spaces_to_fit() -> None:
    words = "the quick brown fox jumps over the lazy dog " * 3
    parts = _split(" ".join(words.split()), 20)
    assert all(len(p) <= 20 for p in parts)
    assert " ".join(parts) == " ".join(words.split())
    assert _split("x" * 45, 20) == ["x" * 20, "x" * 20, "x" * 5]


def test_captioner_scope_and_language() -> None:
    anyone = Grant("c", Role.CAPTIONER, sessions=("opening",))
    japanese = Grant("j", Role.CAPTIONER, sessions=("*",), language="ja")
    assert anyone.captions("opening", "zh")
    assert anyone.captions("opening", "en")
    assert not anyone.captions("ip-seminar", "zh")
    assert japanese.captions("jp-tokyo-exchange", "ja")
    assert not japanese.captions("jp-tokyo-exchange", "zh")
    assert Grant("d", Role.DIRECTOR).captions("opening", "zh")
    assert not Grant("v", Role.VIEWER).captions("opening", "zh")
    assert not Grant("m", Role.MODERATOR, sessions=("opening",)).captions("opening", "zh")


def test_captioner_tokens_carry_sessions_and_language() -> None:
    authority = TokenAuthority(b"k" * 32, "coet2018")
    grant = Grant("cap-li", Role.CAPTIONER, sessions=("opening",), language="en")
    back = authority.verify(authority.mint(grant, 3600))
    assert (back.role, back.sessions, back.language) == (Role.CAPTIONER, ("opening",), "en")
    with pytest.raises(ValueError, match="captioner token needs --session"):
        authority.mint(Grant("c", Role.CAPTIONER), 3600)
    with pytest.raises(ValueError, match="not a language code"):
        authority.mint(Grant("c", Role.CAPTIONER, sessions=("opening",), language="EN!"), 3600)
    with pytest.raises(ValueError, match=r"at most 14d \(setting tokens.captioner_max_hours"):
        authority.mint(grant, 15 * 86400)


def _line(seq: int, text: str, at: float) -> CaptionLine:
    return CaptionLine(seq=seq, text=text, at=at, by="cap")


def test_webvtt_cues_match_the_lines_and_end_at_the_next_or_the_max() -> None:
    start = 1_545_357_600.0
    lines = [
        _line(1, "Welcome to Guangzhou", start + 1.25),
        _line(2, "欢迎来到广州", start + 3.5),
        _line(3, "First pasted line", start + 20.0),
        _line(4, "Second <b>pasted</b> & line", start + 20.0),
        _line(5, "Typed before the start", start - 30),
    ]
    text = render(lines, start, max_cue=6.0, note="from the scheduled start")
    cues = list(webvtt.from_buffer(io.StringIO(text)))
    # webvtt-py's *_in_seconds are whole seconds: compare its parsed timestamps instead.
    assert [(c.start, c.end, html.unescape(c.text)) for c in cues] == [
        ("00:00:00.000", "00:00:01.250", "Typed before the start"),
        ("00:00:01.250", "00:00:03.500", "Welcome to Guangzhou"),
        # The max cue length, not the next line 16.5 s later.
        ("00:00:03.500", "00:00:09.500", "欢迎来到广州"),
        ("00:00:20.000", "00:00:26.000", "First pasted line\nSecond <b>pasted</b> & line"),
    ]
    assert "<b>" not in text  # escaped: text is never markup
    assert text.startswith("WEBVTT\n\nNOTE from the scheduled start\n")


def test_webvtt_timestamps() -> None:
    assert timestamp(0) == "00:00:00.000"
    assert timestamp(3725.0456) == "01:02:05.046"
    assert timestamp(-3) == "00:00:00.000"
    assert render([], 0.0, 6.0) == "WEBVTT\n"


def test_cue_times_count_from_the_actual_start_when_the_record_has_one(
    reference_event: Event,
) -> None:
    session = reference_event.session("overseas-talents-summit")
    assert session is not None
    assert session_start(session, []) == (session.start, "the scheduled start")
    late = session.start + timedelta(minutes=7)
    airing = Airing(
        id="a1",
        session=session.id,
        venue="us",
        channel=session.channel,
        scheduled_start=session.start,
        scheduled_end=session.end,
        actual_start=late,
        actual_end=None,
        status=Status.ON_AIR,
        routed_by="schedule",
    )
    long_ago = datetime(2018, 1, 1, tzinfo=UTC)
    other = replace(airing, id="a2", session="opening", actual_start=long_ago)
    earlier = replace(airing, id="a3", venue="jp", actual_start=late + timedelta(seconds=30))
    assert session_start(session, [other, airing, earlier]) == (
        late,
        "the actual start (as-run record)",
    )


def test_caption_settings_are_read_and_checked(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text(
        "[captions]\nmax_line_chars = 120\nlines_per_second = 1.5\nburst_lines = 8\n"
        'max_cue_seconds = 4\nasr_model = "/models/vosk-en"\nasr_channels = ["gz-hall-1"]\n'
    )
    captions = load_settings(file, environ={}).captions
    assert (captions.max_line_chars, captions.lines_per_second, captions.burst_lines) == (
        120,
        1.5,
        8,
    )
    assert captions.asr_model == Path("/models/vosk-en")
    assert captions.asr_channels == ("gz-hall-1",)
    env = {"VENUEBRIDGE_CAPTIONS_MAX_LINE_CHARS": "5"}
    with pytest.raises(SettingsError, match=r"captions\.max_line_chars"):
        load_settings(None, environ=env)
    with pytest.raises(SettingsError, match=r"captions\.burst_lines"):
        load_settings(None, environ={"VENUEBRIDGE_CAPTIONS_BURST_LINES": "0"})


def test_a_captioner_invite_takes_sessions_and_one_language(reference_event: Event) -> None:
    def parse(**fields: list[str]) -> InviteRequest:
        form = {"role": ["captioner"], "label": ["Sato"], "hours": ["8"], **fields}
        return parse_request(form, reference_event, lambda role: 336.0, max_label_chars=40)

    request = parse(caption_session=["jp-tokyo-exchange"], caption_lang=["JA"])
    assert (request.role, request.sessions, request.language) == (
        Role.CAPTIONER,
        ("jp-tokyo-exchange",),
        "ja",
    )
    assert parse(caption_session=["*"]).language is None
    with pytest.raises(BadMessage, match="none of the chosen sessions has the language 'ru'"):
        parse(caption_session=["jp-tokyo-exchange"], caption_lang=["ru"])
    with pytest.raises(BadMessage, match="needs at least one session"):
        parse()


def test_watching_captions_is_not_moderating_a_room() -> None:
    admin = Client(grant=Grant("a", Role.ADMIN), address="10.0.0.1")
    admin.rooms.update({"overseas-talents-summit", caption_room("overseas-talents-summit", "en")})
    assert count([admin]).moderators_by_room == {"overseas-talents-summit": 1}
