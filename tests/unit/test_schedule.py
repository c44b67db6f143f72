from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from config import Event
from config.schedule import (
    by_day_and_hall,
    local_time,
    session_on_channel,
    sessions_for_venue,
    zone_label,
)


def test_venue_sees_what_it_receives_and_what_it_sends(reference_event: Event) -> None:
    sessions = sessions_for_venue(reference_event, "jp")
    ids = {s.id for s in sessions}
    assert "gba-new-materials" in ids  # sent to Japan
    assert "jp-tokyo-exchange" in ids  # Japan's own return feed
    assert "chunhui-cup-finals" not in ids  # neither


def test_grouping_follows_the_chosen_zone(reference_event: Event) -> None:
    la = ZoneInfo("America/Los_Angeles")
    days = by_day_and_hall(reference_event, reference_event.sessions, la)
    # The first Guangzhou morning is still the 20th in California.
    assert days[0].day == date(2018, 12, 20)
    halls = [h.channel.id for h in days[0].halls]
    assert halls.index("gz-hall-1") < halls.index("gz-hall-2")
    total = sum(len(h.sessions) for d in days for h in d.halls)
    assert total == len(reference_event.sessions)


def test_local_time_and_zone_label(reference_event: Event) -> None:
    session = reference_event.session("opening")
    assert session is not None
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_time(session.start, tokyo) == "10:00"
    assert local_time(session.start, ZoneInfo("America/Los_Angeles"), date(2018, 12, 21)) == (
        "Thu 20 Dec 17:00"
    )
    assert zone_label(session.start, tokyo) == "Asia/Tokyo (UTC+09:00)"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_channel_shows_the_session_on_air_then_the_next_that_day(reference_event: Event) -> None:
    # gz-hall-2 (Guangzhou, UTC+8): the materials forum 10:00-12:00 and the science and
    # technology finance forum 14:00-17:00 on the 21st; an award on the 22nd at 09:30.
    def pick(at: str) -> tuple[str | None, str, str | None]:
        now = session_on_channel(reference_event, "gz-hall-2", _utc(at))
        recheck = now.recheck_at.isoformat() if now.recheck_at else None
        return (now.session.id if now.session else None, now.state, recheck)

    assert pick("2018-12-20T12:00:00Z") == (
        "gba-new-materials",
        "upcoming",
        "2018-12-21T00:00:00+08:00",  # midnight in Guangzhou: the forum's day begins
    )
    assert pick("2018-12-21T00:30:00Z") == (
        "gba-new-materials",
        "next",
        "2018-12-21T10:00:00+08:00",
    )
    assert pick("2018-12-21T02:30:00Z") == (
        "gba-new-materials",
        "on_air",
        "2018-12-21T12:00:00+08:00",
    )
    assert pick("2018-12-21T04:30:00Z") == (
        "sci-tech-finance-forum",
        "next",
        "2018-12-21T14:00:00+08:00",
    )
    # After the day's last session: the most recent until the next day starts.
    assert pick("2018-12-21T10:00:00Z") == (
        "sci-tech-finance-forum",
        "last",
        "2018-12-22T00:00:00+08:00",
    )
    assert pick("2030-01-01T00:00:00Z") == ("global-entrepreneurship-award", "last", None)


def test_a_channel_without_sessions_shows_none(reference_event: Event) -> None:
    now = session_on_channel(reference_event, "no-such-channel", _utc("2018-12-21T02:30:00Z"))
    assert (now.session, now.state, now.recheck_at) == (None, "none", None)
