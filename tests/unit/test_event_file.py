from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Event, EventFileError, Part, VenueKind, load_event

GOOD = """
[event]
id = "demo"
name = "Demo"
time_zone = "Asia/Shanghai"

[[venues]]
id = "gz"
name = "Guangzhou"
kind = "main"
time_zone = "Asia/Shanghai"

[[venues]]
id = "jp"
name = "Tokyo"
kind = "sub"
time_zone = "Asia/Tokyo"

[[channels]]
id = "hall-1"
title = "Hall 1"
venue = "gz"
kind = "programme"

[[channels]]
id = "jp-return"
title = "Tokyo return"
venue = "jp"
kind = "return"

[[sessions]]
id = "a"
title = "A"
part = "summit_forums"
start = 2018-12-21T09:00:00
end = 2018-12-21T10:00:00
channel = "hall-1"
venues = ["jp"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "event.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(EventFileError) as caught:
        load_event(path)
    assert str(path) in str(caught.value)
    return caught.value.problems


def test_reference_event_loads_with_all_eight_parts() -> None:
    event = load_event()
    assert event.id == "coet2018"
    assert event.time_zone.key == "Asia/Shanghai"
    assert set(Part) == {s.part for s in event.sessions}
    assert event.main_venue.id == "gz"
    subs = {v.id for v in event.venues if v.kind is VenueKind.SUB}
    assert subs == {"us", "eu", "jp", "kr", "cis"}
    returns = {c.venue for c in event.channels if c.kind.value == "return"}
    assert returns == subs
    titles = {str(s.title) for s in event.sessions}
    assert "2018 Overseas Talents Summit" in titles
    assert '"Huacheng Night" Exchange Meeting' in titles
    days = {s.start.astimezone(event.time_zone).date().isoformat() for s in event.sessions}
    assert days == {"2018-12-21", "2018-12-22"}


def test_local_times_are_read_in_the_event_zone_and_offsets_kept(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
[[sessions]]
id = "b"
title = "B"
part = "overseas_venues"
start = 2018-12-21T15:00:00+09:00
end = 2018-12-21T16:00:00+09:00
channel = "jp-return"
venues = ["gz"]
"""
    )
    event = load_event(write(tmp_path, text))
    a, b = event.sessions
    assert a.start.astimezone(UTC) == datetime(2018, 12, 21, 1, 0, tzinfo=UTC)
    assert b.start.astimezone(UTC) == datetime(2018, 12, 21, 6, 0, tzinfo=UTC)
    assert a.languages == ("zh", "en")
    assert a.qa is True


def test_unknown_references(tmp_path: Path) -> None:
    text = GOOD.replace('channel = "hall-1"', 'channel = "hall-9"').replace(
        'venues = ["jp"]', 'venues = ["mars"]'
    )
    found = problems(tmp_path, text)
    assert "sessions[0].channel: unknown channel 'hall-9'" in found
    assert "sessions[0].venues: unknown venue 'mars'" in found


def test_channel_with_unknown_venue(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('venue = "jp"', 'venue = "kr"'))
    assert found == ["channels[1].venue: unknown venue 'kr'"]


def test_end_before_start(tmp_path: Path) -> None:
    found = problems(
        tmp_path, GOOD.replace("end = 2018-12-21T10:00:00", "end = 2018-12-21T08:00:00")
    )
    assert len(found) == 1
    assert found[0].startswith("sessions[0].end: ends at 2018-12-21T08:00:00+08:00")


def test_overlapping_sessions_on_one_channel(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
[[sessions]]
id = "b"
title = "B"
part = "exhibition"
start = 2018-12-21T09:30:00
end = 2018-12-21T11:00:00
channel = "hall-1"
"""
    )
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert "overlaps 'a' on channel 'hall-1'" in found[0]


def test_a_venue_cannot_receive_two_sessions_at_once(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
[[channels]]
id = "hall-2"
title = "Hall 2"
venue = "gz"
kind = "programme"

[[sessions]]
id = "b"
title = "B"
part = "exhibition"
start = 2018-12-21T09:30:00
end = 2018-12-21T11:00:00
channel = "hall-2"
venues = ["jp"]
"""
    )
    found = problems(tmp_path, text)
    assert found == [
        "sessions 'b'.venues: venue 'jp' already receives 'a' then; "
        "a venue output carries one session at a time"
    ]


def test_unknown_time_zone(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('"Asia/Tokyo"', '"Asia/Atlantis"'))
    assert found == [
        "venues[1].time_zone: unknown time zone 'Asia/Atlantis' (use an IANA name like Asia/Tokyo)"
    ]


def test_duplicate_ids(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('id = "jp-return"', 'id = "hall-1"'))
    assert found == ["channels[1].id: duplicate id 'hall-1'"]


def test_unknown_keys_everywhere(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "programme"', 'kind = "programme"\ncolour = "red"')
    text = "speakers = []\n" + text.replace('title = "A"', 'title = "A"\nroom = "1"')
    found = problems(tmp_path, text)
    assert "speakers: unknown key" in found
    assert "channels[0].colour: unknown key" in found
    assert "sessions[0].room: unknown key" in found


def test_wrong_types_and_enums(tmp_path: Path) -> None:
    text = GOOD.replace('part = "summit_forums"', 'part = "party"').replace(
        'kind = "main"', 'kind = "central"'
    )
    found = problems(tmp_path, text)
    assert any(p.startswith("sessions[0].part: 'party' is not one of summit_forums") for p in found)
    assert any(p.startswith("venues[0].kind: 'central' is not one of main, sub") for p in found)


def test_missing_required_key_and_main_venue(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Guangzhou"\n', "").replace('kind = "main"', 'kind = "sub"')
    found = problems(tmp_path, text)
    assert "venues[0].name: is required" in found
    assert "venues: exactly one venue must have kind = 'main' (found 0)" in found


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    found = problems(tmp_path, "[event\nid=")
    assert len(found) == 1
    assert found[0].startswith("not valid TOML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="cannot read the file"):
        load_event(tmp_path / "nope.toml")


def test_the_reference_event_uses_the_announcements_name(reference_event: Event) -> None:
    # The source announcement writes "2018 CEOT"; the id keeps the older letters for URLs.
    name = "2018 Convention on Exchange of Overseas Talents (2018 CEOT)"
    assert str(reference_event.name) == name
    assert reference_event.id == "coet2018"


def test_a_venue_names_its_home_node(tmp_path: Path) -> None:
    text = GOOD.replace(
        'time_zone = "Asia/Tokyo"', 'time_zone = "Asia/Tokyo"\nhome_node = "edge-jp"'
    )
    event = load_event(write(tmp_path, text))
    homes = {venue.id: venue.home_node for venue in event.venues}
    assert homes == {"gz": None, "jp": "edge-jp"}


def test_a_home_node_must_be_a_node_id(tmp_path: Path) -> None:
    text = GOOD.replace('time_zone = "Asia/Tokyo"', 'time_zone = "Asia/Tokyo"\nhome_node = "a b"')
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert found[0].startswith("venues[1].home_node: 'a b' is not a node id")
