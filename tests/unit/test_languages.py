"""Language tracks and interpreter tokens, with plain fakes (no peers, no event loop)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import jwt
import pytest

from signaling.auth import Grant, Role, TokenAuthority
from signaling.auth.grants import validate_scope
from signaling.errors import Unauthorized
from streaming.errors import BadRequest
from streaming.languages import LanguageDesk, parse_language
from streaming.packet import MediaPacket
from streaming.ports import LanguageEvent
from streaming.send_batch import SendBatch
from streaming.source import ChannelSource
from streaming.venue_output import VenueOutput

SECRET = b"s" * 32
_sequence = itertools.count()


class Collects:
    """A consumer of audio that keeps what it gets."""

    def __init__(self, kinds: tuple[bool, ...] = (False,)) -> None:
        self.kinds = kinds
        self.got: list[MediaPacket] = []

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self.got.append(packet)

    def start(self, gop: Sequence[MediaPacket]) -> None:
        pass


class Nobody:
    def send_keyframe_request(self) -> None:
        pass


def audio(epoch: int, payload: bytes) -> MediaPacket:
    return MediaPacket(False, payload, next(_sequence) & 0xFFFF, 0, False, epoch)


def keyframe(epoch: int) -> MediaPacket:
    packet = MediaPacket(True, b"k", next(_sequence) & 0xFFFF, 0, True, epoch)
    packet.keyframe = packet.frame_start = True
    return packet


class Heard:
    def __init__(self) -> None:
        self.events: list[LanguageEvent] = []

    def language_changed(self, event: LanguageEvent) -> None:
        self.events.append(event)


def test_a_language_track_is_the_interpreter_on_air_else_the_floor() -> None:
    floor = ChannelSource("hall", lambda: 0.0)
    floor_epoch = floor.attach_publisher(Nobody())
    at = datetime(2026, 12, 7, tzinfo=UTC)
    desk = LanguageDesk(lambda channel: floor, now=lambda: at)
    heard = Heard()
    desk.add_listener(heard)
    listener = Collects()
    desk.track("hall", "ja").add_consumer(listener)

    floor.push(audio(floor_epoch, b"floor-1"))
    akiko, kenji = desk.new_seat("hall", "ja", "Akiko"), desk.new_seat("hall", "ja", "Kenji")
    first = akiko.attach_publisher(Nobody())
    second = kenji.attach_publisher(Nobody())
    floor.push(audio(floor_epoch, b"floor-2"))  # no longer heard: Akiko is on air
    akiko.push(audio(first, b"akiko-1"))
    kenji.push(audio(second, b"kenji-off-air"))
    desk.track("hall", "ja").take(kenji)
    akiko.push(audio(first, b"akiko-off-air"))
    kenji.push(audio(second, b"kenji-1"))
    kenji.detach_publisher(kenji.publisher or Nobody())  # Akiko is back on air
    akiko.push(audio(first, b"akiko-2"))
    akiko.detach_publisher(akiko.publisher or Nobody())  # nobody: the floor again
    floor.push(audio(floor_epoch, b"floor-3"))

    assert [p.payload for p in listener.got] == [
        b"floor-1",
        b"akiko-1",
        b"kenji-1",
        b"akiko-2",
        b"floor-3",
    ]
    assert [(e.language, e.interpreter) for e in heard.events] == [
        ("ja", "Akiko"),
        ("ja", "Kenji"),
        ("ja", "Akiko"),
        ("ja", None),
    ]
    assert all(e.at == at and e.channel == "hall" for e in heard.events)
    # Nobody listens: the floor is no longer tapped for ja.
    desk.track("hall", "ja").remove_consumer(listener)
    assert floor.consumer_count == 0


def test_the_booth_lists_who_is_connected_and_on_air() -> None:
    floor = ChannelSource("hall", lambda: 0.0)
    desk = LanguageDesk(lambda channel: floor)
    for name in ("Akiko", "Kenji"):
        desk.new_seat("hall", "ja", name).attach_publisher(Nobody())
    desk.new_seat("hall", "ru", "Ivan")  # connecting, no media yet: not in the booth
    (booth,) = desk.booths("hall")
    assert (booth.language, booth.connected, booth.on_air) == ("ja", ("Akiko", "Kenji"), "Akiko")
    assert desk.live_languages("hall") == ("ja",)
    seat = desk.seat_of("hall", "ja", "Kenji")
    assert seat is not None
    assert seat.name == "Kenji"
    assert desk.seat_of("hall", "ja", "Ivan") is None


def test_a_venue_output_takes_its_audio_from_the_language_track() -> None:
    floor = ChannelSource("hall", lambda: 0.0)
    floor_epoch = floor.attach_publisher(Nobody())
    desk = LanguageDesk(lambda channel: floor)
    output = VenueOutput("jp", lambda c: floor, lambda e: None, None, languages=desk.track)
    projector = Collects((True, False))
    output.add_consumer(projector)
    output.switch_to("hall")
    floor.push(keyframe(floor_epoch))
    floor.push(audio(floor_epoch, b"floor-1"))
    output.set_language("ja")  # nobody on air in ja: still the floor, once
    floor.push(audio(floor_epoch, b"floor-2"))
    seat = desk.new_seat("hall", "ja", "Akiko")
    seat_epoch = seat.attach_publisher(Nobody())
    seat.push(audio(seat_epoch, b"akiko-1"))
    floor.push(audio(floor_epoch, b"floor-unheard"))
    output.switch_to(None)
    seat.push(audio(seat_epoch, b"akiko-unrouted"))
    assert output.language == "ja"
    assert [p.payload for p in projector.got] == [b"k", b"floor-1", b"floor-2", b"akiko-1"]


def test_language_codes() -> None:
    assert parse_language("ja") == "ja"
    assert parse_language("pt-BR") == "pt-BR"
    for floor in (None, "", "floor"):
        assert parse_language(floor) is None
    for bad in ("JA", "j", "ja_JP", 5, "x" * 40, ["ja"]):
        with pytest.raises(BadRequest):
            parse_language(bad)


def test_an_interpreter_token_carries_one_channel_and_a_language() -> None:
    authority = TokenAuthority(SECRET, audience="coet2018")
    grant = Grant("Akiko Sato", Role.INTERPRETER, channels=("gz-hall-1",), language="ja")
    back = authority.verify(authority.mint(grant, ttl=3600))
    assert (back.identity, back.role, back.channels, back.language) == (
        "Akiko Sato",
        Role.INTERPRETER,
        ("gz-hall-1",),
        "ja",
    )
    assert back.interprets("gz-hall-1", "ja")
    assert not back.interprets("gz-hall-1", "ru")
    assert not back.interprets("gz-hall-2", "ja")
    assert not back.produces("gz-hall-1")
    assert authority.max_lifetime(Role.INTERPRETER) == 336 * 3600
    with pytest.raises(ValueError, match="at most 14d"):
        authority.mint(grant, ttl=337 * 3600)


@pytest.mark.parametrize(
    ("channels", "language", "message"),
    [
        ((), "ja", "exactly one --channel"),
        (("a", "b"), "ja", "exactly one --channel"),
        (("*",), "ja", "exactly one --channel"),
        (("a",), None, "needs --lang"),
        (("a",), "Japanese", "needs --lang"),
    ],
)
def test_an_interpreter_scope_is_checked(
    channels: tuple[str, ...], language: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        validate_scope(Role.INTERPRETER, None, (), channels, language)


def test_only_interpreters_carry_a_language() -> None:
    with pytest.raises(ValueError, match="only interpreter and captioner tokens carry a language"):
        validate_scope(Role.PRODUCER, None, (), ("a",), "ja")
    authority = TokenAuthority(SECRET, audience="coet2018")
    with pytest.raises(ValueError, match="only interpreter and captioner tokens carry a language"):
        authority.mint(Grant("x", Role.VIEWER, language="ja"), ttl=60)
    # A token claiming a language for another role is not valid.
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "venuebridge",
            "aud": "coet2018",
            "sub": "x",
            "role": "viewer",
            "lang": "ja",
            "iat": now,
            "exp": now + 60,
        },
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        authority.verify(forged)


def test_a_reconnected_interpreter_stays_on_air() -> None:
    floor = ChannelSource("hall", lambda: 0.0)
    desk = LanguageDesk(lambda channel: floor)
    first, other = Nobody(), Nobody()
    akiko = desk.new_seat("hall", "ja", "Akiko")
    akiko.attach_publisher(first)
    desk.new_seat("hall", "ja", "Kenji").attach_publisher(other)
    # Akiko's page reconnects: a new seat while the old one is still ending.
    desk.new_seat("hall", "ja", "Akiko").attach_publisher(Nobody())
    akiko.detach_publisher(first)
    (booth,) = desk.booths("hall")
    assert (booth.connected, booth.on_air) == (("Kenji", "Akiko"), "Akiko")


def test_an_interpreter_invite_lands_on_the_booth_page() -> None:
    from web.qa_pages import landing

    grant = Grant("Akiko", Role.INTERPRETER, channels=("gz-hall-1",), language="ja")
    assert landing(grant) == "/interpret/gz-hall-1"
