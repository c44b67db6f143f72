from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from config import Event
from signaling.records.airing import Airing, Status
from signaling.records.report import (
    CSV_COLUMNS,
    airing_row,
    terminal_report,
    to_csv,
    totals_by_part,
    totals_by_venue,
)

GZ = ZoneInfo("Asia/Shanghai")


def airing(session: str, venue: str, status: Status, **changes: object) -> Airing:
    start = datetime(2018, 12, 21, 9, 0, tzinfo=GZ)
    base = Airing(
        id=f"{session}@{venue}#1",
        session=session,
        venue=venue,
        channel="gz-hall-1",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=50),
        actual_start=start - timedelta(minutes=2),
        actual_end=start + timedelta(minutes=50, seconds=1),
        status=status,
        routed_by="automation",
    )
    fields = {**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes}
    return Airing(**fields)  # type: ignore[arg-type]


def test_csv_parses_back_with_utc_and_venue_times(reference_event: Event) -> None:
    rows = [
        airing_row(reference_event, airing("opening", "us", Status.AIRED)),
        airing_row(
            reference_event,
            airing("opening", "jp", Status.SKIPPED, actual_start=None, actual_end=None),
        ),
    ]
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert tuple(parsed[0]) == CSV_COLUMNS
    us, jp = parsed
    assert us["scheduled_start_utc"] == "2018-12-21T01:00:00Z"
    assert us["scheduled_start_local"] == "2018-12-20T17:00:00-08:00"
    assert us["actual_start_local"] == "2018-12-20T16:58:00-08:00"
    assert us["start_delta_seconds"] == "-120.0"
    assert us["venue_time_zone"] == "America/Los_Angeles"
    assert us["title"].startswith("Opening Ceremony")
    assert jp["status"] == "skipped"
    assert jp["actual_start_utc"] == ""
    assert jp["start_delta_seconds"] == ""
    assert (us["node"], jp["node"]) == ("", "")
    named = airing_row(reference_event, airing("opening", "jp", Status.AIRED, node="edge-jp"))
    assert next(iter(csv.DictReader(io.StringIO(to_csv([named])))))["node"] == "edge-jp"


def test_totals(reference_event: Event) -> None:
    airings = [
        airing("opening", "us", Status.AIRED),
        airing("opening", "jp", Status.FAILED),
        airing("overseas-talents-summit", "us", Status.CUT_SHORT),
    ]
    venues = totals_by_venue(reference_event, airings)
    assert venues["us"].by_status["aired"] == 1
    assert venues["us"].by_status["cut_short"] == 1
    assert venues["us"].total == 2
    assert venues["us"].minutes_on_air == 104.0
    assert venues["kr"].total == 0
    parts = totals_by_part(reference_event, airings)
    assert parts["anniversary"].total == 2
    assert parts["summit_forums"].by_status["cut_short"] == 1


def test_terminal_report_is_in_each_venue_zone(reference_event: Event) -> None:
    text = terminal_report(
        reference_event,
        [
            airing("opening", "us", Status.AIRED),
            airing("opening", "jp", Status.OVERRAN, node="edge-jp"),
        ],
    )
    assert "Opening Ceremony" in text
    assert text.count("[node edge-jp]") == 1  # the airing that names its node
    assert "United States sub-venue (Silicon Valley) (America/Los_Angeles): 1 airing(s)" in text
    assert "12-20 17:00-17:50" in text
    assert "16:58:00-17:50:01" in text
    assert "12-21 10:00-10:50" in text  # Tokyo
    assert "total: overran 1; 52.0 min on air" in text
    assert "CIS countries sub-venue (Moscow) (Europe/Moscow): 0 airing(s)" in text


def test_timeline_geometry(reference_event: Event) -> None:
    from signaling.records.timeline import WIDTH, venue_timeline

    airings = [
        airing("opening", "us", Status.AIRED),
        airing("overseas-talents-summit", "us", Status.SKIPPED, actual_start=None, actual_end=None),
    ]
    now = datetime(2018, 12, 21, 12, 0, tzinfo=GZ)
    timeline = venue_timeline(reference_event, "us", airings, now)
    assert [r.status for r in timeline.rows] == ["aired", "skipped"]
    opening = timeline.rows[0]
    assert opening.actual is not None
    assert opening.actual.x < opening.scheduled.x  # it started at the pre-roll
    assert 0 <= opening.scheduled.x < WIDTH
    assert timeline.rows[1].actual is None
    # Ticks are in the venue's zone: the axis starts on the evening of the 20th in California.
    assert timeline.ticks[0].label == "Thu 16:55"  # 5-minute ticks for under an hour
    assert venue_timeline(reference_event, "kr", airings, now).rows == ()
