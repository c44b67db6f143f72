from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config import EventFileError, Part, load_event
from config.schedule_import import ImportOptions, ScheduleImportError, import_schedule
from web.cli import main

EXPORT = Path(__file__).resolve().parents[1] / "data" / "pretalx-schedule.json"


def export() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXPORT.read_text(encoding="utf-8"))
    return data


def talks(data: dict[str, Any]) -> list[dict[str, Any]]:
    days = data["schedule"]["conference"]["days"]
    return [talk for day in days for room in day["rooms"].values() for talk in room]


def run(data: object, **options: Any) -> str:
    text, _ = import_schedule(json.dumps(data), ImportOptions(**options), "export.json")
    return text


def test_a_pretalx_export_becomes_a_valid_event_file(tmp_path: Path) -> None:
    text = run(export(), venue_id="gz", venue_name="Guangzhou")
    path = tmp_path / "event.toml"
    path.write_text(text, encoding="utf-8")
    event = load_event(path)
    assert event.id == "talent-tech-2019"
    assert str(event.name) == "Greater Bay Area Talent Tech Days 2019"
    assert event.main_venue.id == "gz"
    assert [str(c.title) for c in event.channels] == ["Main Hall", "Forum Room B", "Roadshow Stage"]
    assert len(event.sessions) == len(talks(export())) == 8
    keynote = event.session("1002-keynote-regenerative-medicine-after-the")
    assert keynote is not None
    assert keynote.start.astimezone(UTC) == datetime(2019, 6, 14, 1, 30, tzinfo=UTC)
    assert keynote.end.astimezone(UTC) == datetime(2019, 6, 14, 2, 30, tzinfo=UTC)
    assert keynote.part is Part.SUMMIT_FORUMS
    assert keynote.languages == ("en",)
    assert keynote.channel == "main-hall"
    visa = next(s for s in event.sessions if str(s.title).startswith("Visa"))
    assert visa.part is Part.PROFESSIONAL_MEETINGS  # "Service desk" maps to the default


def test_track_mapping_and_a_zone_from_options() -> None:
    data = export()
    del data["schedule"]["conference"]["time_zone_name"]
    for talk in talks(data):
        talk.pop("date")
    text = run(
        data,
        time_zone="Asia/Shanghai",
        track_parts={"Service desk": Part.TALENT_RECRUITMENT},
    )
    assert 'time_zone = "Asia/Shanghai"' in text
    assert "start = 2019-06-15 09:30:00+08:00" in text
    assert text.count('part = "talent_recruitment"') == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("schedule"), "no schedule.conference object"),
        (lambda d: d["schedule"]["conference"].update(days=[]), "days is missing or empty"),
        (
            lambda d: d["schedule"]["conference"].update(time_zone_name="Mars/Olympus"),
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            lambda d: talks(d)[0].update(duration="forever"),
            "('Opening of the Talent Tech Days'): duration 'forever' is not HH:MM",
        ),
        (lambda d: talks(d)[1].update(date="soon"), "date 'soon' is not an ISO 8601 date-time"),
        (lambda d: talks(d)[2].update(title=""), ".title: a talk needs a title"),
        (lambda d: d["schedule"]["conference"]["days"][0].update(date="June"), "is not a date"),
    ],
)
def test_bad_exports_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    data = copy.deepcopy(export())
    mutate(data)
    with pytest.raises(ScheduleImportError) as caught:
        run(data)
    assert message in str(caught.value)


def test_not_json() -> None:
    with pytest.raises(ScheduleImportError, match="not valid JSON"):
        import_schedule("{nope", ImportOptions(), "export.json")


def test_overlapping_talks_are_caught_by_the_event_validator() -> None:
    data = export()
    talks(data)[1]["date"] = "2019-06-14T09:15:00+08:00"  # inside the opening
    with pytest.raises(EventFileError, match="overlaps"):
        run(data)


def test_cli_writes_the_file_and_will_not_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "imported.toml"
    args = ["import-schedule", str(EXPORT), "-o", str(out), "--part", "Service desk=exhibition"]
    assert main(args) == 0
    assert "8 sessions" in capsys.readouterr().err
    assert main(["check", str(out)]) == 0
    assert main(args) == 2
    assert "exists (use --force)" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"schedule": {}}')
    assert main(["import-schedule", str(bad)]) == 2
    assert "not a pretalx/frab export" in capsys.readouterr().err
