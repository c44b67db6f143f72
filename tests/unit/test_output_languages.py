"""Venue output languages in the routing core: who may set them, what is refused, how they
are kept, announced, sent to the media plane and noted on the airings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config import Event
from signaling.protocol.server import Routing, as_json
from signaling.records.airing import LanguageChange
from signaling.records.log import AsRunLog
from signaling.records.report import airing_row, languages_json
from signaling.records.store import airing_from_json, airing_to_json
from signaling.routing.languages import (
    LanguageError,
    OutputLanguages,
    event_languages,
    may_set_language,
)
from signaling.routing.persisted import RoutingStateKeeper
from signaling.routing.router import Router
from signaling.routing.service import RoutingService
from tests.fakes import FakeClock, MemorySink, RecordingCrosspoints

GZ = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2018, 12, 21, hour, minute, second, tzinfo=GZ)


class MemoryValues:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def put_value(self, key: str, value: str) -> None:
        self.values[key] = value

    async def get_value(self, key: str) -> str | None:
        return self.values.get(key)


def make(
    event: Event, values: MemoryValues, log: AsRunLog | None = None
) -> tuple[RoutingService, FakeClock, RecordingCrosspoints, MemorySink, list[dict[str, Any]]]:
    clock = FakeClock(at(8, 58))
    media = RecordingCrosspoints()
    sink = MemorySink()
    announced: list[dict[str, Any]] = []

    async def on_change(matrix: Routing) -> None:
        announced.append(as_json(matrix))

    service = RoutingService(
        Router(event, pre_roll=timedelta(minutes=2)),
        log or AsRunLog(event, since=at(8, 0)),
        media,
        clock,
        sink,
        on_change=on_change,
        keeper=RoutingStateKeeper(values, event.id),
    )
    return service, clock, media, sink, announced


def column(matrix: dict[str, Any], venue: str) -> dict[str, Any]:
    return next(v for v in matrix["venues"] if v["venue"] == venue)


def test_defaults_come_from_the_event_and_bad_requests_change_nothing(
    reference_event: Event,
) -> None:
    languages = OutputLanguages(reference_event)
    assert languages.all() == {
        "gz": "zh",
        "us": "en",
        "eu": "en",
        "jp": "ja",
        "kr": "ko",
        "cis": "ru",
    }
    assert set(event_languages(reference_event)) >= {"zh", "en", "ja", "ko", "ru"}
    with pytest.raises(LanguageError, match="unknown venue 'mars'"):
        languages.set("mars", "ja", "d")
    with pytest.raises(LanguageError, match="not a language code"):
        languages.set("jp", "Japanese", "d")
    with pytest.raises(LanguageError, match="no 'fr' track"):
        languages.set("jp", "fr", "d")
    assert languages.language("jp") == "ja"
    assert languages.state() == {}
    assert languages.set("jp", "ko", "Director Wang") is True
    assert languages.set("jp", "ko", "Director Wang") is False  # already plays it
    assert languages.set("kr", None, "Op Kim") is True  # the floor
    assert languages.state() == {
        "jp": {"language": "ko", "by": "Director Wang"},
        "kr": {"language": None, "by": "Op Kim"},
    }


def test_restore_drops_what_no_longer_fits(reference_event: Event) -> None:
    languages = OutputLanguages(reference_event)
    languages.restore(
        {
            "jp": {"language": "ko", "by": "D"},
            "mars": {"language": "ja", "by": "D"},  # venue gone
            "us": {"language": "fr", "by": "D"},  # no such track
            "eu": {"language": 7, "by": "D"},  # junk
            "kr": "junk",
            "cis": {"language": None, "by": "Op"},
        }
    )
    assert languages.language("jp") == "ko"
    assert languages.language("us") == "en"
    assert languages.language("eu") == "en"
    assert languages.language("cis") is None
    assert "mars" not in languages.all()


def test_directors_set_any_venue_operators_only_their_own() -> None:
    assert may_set_language(True, None, "jp")
    assert may_set_language(False, "jp", "jp")
    assert not may_set_language(False, "kr", "jp")
    assert not may_set_language(False, None, "jp")


async def test_a_change_reaches_media_matrix_store_and_airing(reference_event: Event) -> None:
    values = MemoryValues()
    service, clock, media, sink, announced = make(reference_event, values)
    await service.restore()
    # Every output is told its language at start (the defaults here).
    assert ("jp", "ja") in media.languages
    assert ("cis", "ru") in media.languages
    await service.step()
    await service.switched("jp", "gz-hall-1", at(8, 58, 1))
    airing = sink.saved["opening@jp#1"]
    assert airing.languages == (LanguageChange(at(8, 58, 1), "ja"),)
    assert column(announced[-1], "jp")["language"] == "ja"

    clock.set(at(9, 12))
    assert await service.set_language("jp", "ko", "Director Wang") is True
    assert media.languages[-1] == ("jp", "ko")
    assert column(announced[-1], "jp")["language"] == "ko"
    airing = sink.saved["opening@jp#1"]
    assert airing.languages[-1] == LanguageChange(at(9, 12), "ko")
    document = json.loads(values.values[f"routing-state:{reference_event.id}"])
    assert document["languages"] == {"jp": {"language": "ko", "by": "Director Wang"}}

    # The same language again: nothing is sent, stored or noted.
    sent = len(media.languages)
    assert await service.set_language("jp", "ko", "Op Sato") is False
    assert len(media.languages) == sent
    with pytest.raises(LanguageError):
        await service.set_language("jp", "xx", "Director Wang")
    assert column(service.matrix(), "jp")["language"] == "ko"

    # A restart on the same store plays ko on jp again.
    again, _, media_again, _, _ = make(reference_event, values)
    await again.restore()
    assert ("jp", "ko") in media_again.languages
    assert column(again.matrix(), "jp")["language"] == "ko"
    assert column(again.matrix(), "kr")["language"] == "ko"


def test_the_airing_keeps_its_languages_in_the_store_and_exports(
    reference_event: Event,
) -> None:
    log = AsRunLog(reference_event, since=at(8, 0))
    router = Router(reference_event)
    router.tick(at(8, 58))
    take = router.taken("kr", "gz-hall-1", at(8, 58, 30))
    assert take is not None
    [airing] = log.taken(take)
    assert airing.language == "ko"
    assert log.language("kr", "en", at(9, 5)) != []
    assert log.language("kr", "en", at(9, 6)) == []  # no change
    [changed] = log.language("kr", None, at(9, 10))
    assert [c.language for c in changed.languages] == ["ko", "en", None]
    assert airing_from_json(airing_to_json(changed)) == changed
    row = airing_row(reference_event, changed)
    assert row["language"] == "ko"
    assert row["language_changes"] == "2018-12-21T01:05:00Z en; 2018-12-21T01:10:00Z floor"
    assert languages_json(changed)[2] == {"at_utc": "2018-12-21T01:10:00Z", "language": None}
    # A venue with nothing on air: the next airing starts with the language set meanwhile.
    assert log.language("us", "zh", at(8, 59)) == []
    take = router.taken("us", "gz-hall-1", at(8, 59, 30))
    assert take is not None
    [us] = log.taken(take)
    assert us.language == "zh"


class Booths:
    def __init__(self) -> None:
        self.now: dict[str, dict[str, str]] = {}

    def on_air(self) -> dict[str, dict[str, str]]:
        return self.now


async def test_the_matrix_names_who_is_on_air_in_each_booth(reference_event: Event) -> None:
    service, _, _, _, announced = make(reference_event, MemoryValues())
    booths = Booths()
    service.booths = booths
    assert service.matrix()["channels"]["gz-hall-1"]["interpreters"] == {}
    booths.now = {"gz-hall-1": {"ja": "Akiko Sato"}}
    await service.booths_changed()  # the recorder says a booth changed: announced
    assert announced[-1]["channels"]["gz-hall-1"]["interpreters"] == {"ja": "Akiko Sato"}
    assert announced[-1]["channels"]["gz-hall-2"]["interpreters"] == {}


async def test_the_matrix_says_what_the_floor_speaks_on_each_channel(
    reference_event: Event,
) -> None:
    """A venue whose language is the floor's hears the floor, not "no interpreter"."""
    service, clock, _, _, _ = make(reference_event, MemoryValues())
    channels = service.matrix()["channels"]
    # Before the opening: a hall speaks its venue's language, a return feed its room's.
    assert channels["gz-hall-1"]["floor_language"] == "zh"
    assert channels["us-return"]["floor_language"] == "en"
    # The Tokyo exchange on the Japan return feed is held in Japanese.
    clock.set(datetime(2018, 12, 21, 15, 30, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert service.matrix()["channels"]["jp-return"]["floor_language"] == "ja"
