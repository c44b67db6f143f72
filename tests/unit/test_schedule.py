from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from config import Event
from config.schedule import by_day_and_hall, local_time, sessions_for_venue, zone_label


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
