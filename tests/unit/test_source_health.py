"""Source health, failover between a primary and a backup, and the watch that reports it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streaming.health import SlotFacts, channel_state, failover_choice
from streaming.packet import MediaPacket
from streaming.ports import SourceEvent, SourceRole
from streaming.source import ChannelSource
from streaming.watchdog import SourceWatch, WatchSettings
from tests.unit.test_writer_and_feeds import Clock, FakePublisher, FakeSink, Stream, make_writer

LIVE = SlotFacts(True, 99.5, False)
SILENT = SlotFacts(True, 97.0, False)  # connected, nothing for 3 s
GONE = SlotFacts(False, 97.0, False)  # dropped
ENDED = SlotFacts(False, 97.0, True)  # said goodbye
NEVER = SlotFacts(False, None, True)


@pytest.mark.parametrize(
    ("primary", "backup", "state"),
    [
        (LIVE, NEVER, "live"),
        (SILENT, NEVER, "lost"),
        (GONE, NEVER, "lost"),
        (ENDED, NEVER, "idle"),
        (NEVER, NEVER, "idle"),
    ],
)
def test_channel_state_judges_the_publisher_on_air(
    primary: SlotFacts, backup: SlotFacts, state: str
) -> None:
    assert channel_state("primary", {"primary": primary, "backup": backup}, 100.0, 1.0) == state


@pytest.mark.parametrize(
    ("on_air", "primary", "backup", "preferred", "hold", "choice"),
    [
        ("primary", LIVE, LIVE, "primary", False, None),  # all well
        ("primary", SlotFacts(True, 98.5, False), LIVE, "primary", False, None),  # lost < 2 s
        ("primary", SILENT, LIVE, "primary", False, "backup"),  # lost 3 s: fail over
        ("primary", GONE, LIVE, "primary", False, "backup"),  # dropped: at once
        ("primary", SILENT, SILENT, "primary", False, None),  # no live backup to go to
        ("backup", LIVE, LIVE, "primary", False, "primary"),  # auto: back when it returns
        ("backup", LIVE, LIVE, "primary", True, None),  # confirm: the director decides
        ("backup", LIVE, GONE, "primary", True, "primary"),  # ...unless the backup is gone
        ("primary", LIVE, LIVE, "backup", False, "backup"),  # the director chose the backup
    ],
)
def test_failover_choice(
    on_air: SourceRole,
    primary: SlotFacts,
    backup: SlotFacts,
    preferred: SourceRole,
    hold: bool,
    choice: SourceRole | None,
) -> None:
    slots = {"primary": primary, "backup": backup}
    assert failover_choice(on_air, slots, preferred, hold, 100.0, 1.0, 2.0) == choice


class Channel:
    """A channel source with a primary and a backup stream, a writer and a watch."""

    def __init__(self, mode: str = "auto") -> None:
        self.clock = Clock()
        self.source = ChannelSource("hall", self.clock)
        self.events: list[SourceEvent] = []
        self.watch = SourceWatch(
            {"hall": self.source},
            self.events.append,
            WatchSettings(1.0, 2.0, mode),
            clock=self.clock,
            wall_clock=lambda: datetime(2026, 12, 6, tzinfo=UTC),
        )
        self.sink = FakeSink()
        writer, _ = make_writer(self.sink, capacity=64)
        self.source.add_consumer(writer)
        self.publishers = {"primary": FakePublisher(), "backup": FakePublisher()}
        self.streams: dict[str, Stream] = {}

    def connect(self, role: SourceRole) -> None:
        epoch = self.source.attach_publisher(self.publishers[role], role)
        self.streams[role] = Stream(epoch=epoch)

    def send(self, role: SourceRole, key: bool, tag: str) -> None:
        for packet in self.streams[role].frame(key, tag):
            packet.arrival = self.clock.now
            self.source.push(packet)

    def advance(self, seconds: float, *sending: SourceRole) -> None:
        """Let ``seconds`` pass in 0.25 s checks, the ``sending`` roles sending P-frames."""
        for _ in range(round(seconds / 0.25)):
            self.clock.now += 0.25
            for role in sending:
                self.send(role, False, role[0])
            self.watch.check()

    def states(self) -> list[tuple[str, str | None, bool]]:
        return [(e.state, e.source, e.backup_ready) for e in self.events]

    def payloads(self) -> list[bytes]:
        return self.sink.payloads()


def test_each_transition_is_reported_once() -> None:
    channel = Channel()
    channel.watch.check()
    assert channel.events == []  # idle from the start: nothing to say
    channel.connect("primary")
    channel.send("primary", True, "K")
    channel.advance(1.0, "primary")
    channel.advance(1.5)  # the publisher goes quiet
    channel.advance(0.5, "primary")
    channel.source.detach_publisher(channel.publishers["primary"], cleanly=True)
    channel.advance(0.5)
    assert channel.states() == [
        ("live", "primary", False),
        ("lost", "primary", False),
        ("live", "primary", False),
        ("idle", None, False),
    ]
    assert channel.watch.health("hall").lost_total == 1


def test_a_dropped_publisher_leaves_the_channel_lost() -> None:
    channel = Channel()
    channel.connect("primary")
    channel.advance(0.5, "primary")
    channel.source.detach_publisher(channel.publishers["primary"])  # no DELETE
    channel.advance(0.25)
    assert channel.states()[-1] == ("lost", None, False)


def test_backup_takes_over_at_its_keyframe_and_hands_back_in_auto_mode() -> None:
    channel = Channel()
    channel.connect("primary")
    channel.connect("backup")
    channel.send("primary", True, "P")
    channel.advance(0.5, "primary", "backup")
    assert channel.states()[-1] == ("live", "primary", True)
    channel.advance(2.0, "backup")  # the primary is silent for 2 s
    assert channel.source.armed == "backup"
    assert channel.publishers["backup"].requests >= 1  # asked for a keyframe
    channel.send("backup", False, "x")  # not a keyframe: nothing yet
    channel.send("backup", True, "B")  # the cut
    channel.advance(0.25, "backup")
    assert channel.source.on_air == "backup"
    assert channel.payloads()[:2] == [b"P0", b"P1"]
    assert b"x0" not in channel.payloads()
    assert channel.payloads()[-4:] == [b"B0", b"B1", b"b0", b"b1"]
    assert ("lost", "primary", True) in channel.states()
    assert channel.states()[-1] == ("live", "backup", True)
    channel.advance(0.25, "primary", "backup")  # the primary is back
    assert channel.source.armed == "primary"
    channel.send("primary", True, "R")
    assert channel.source.on_air == "primary"
    assert channel.payloads()[-2:] == [b"R0", b"R1"]


def test_confirm_mode_keeps_the_backup_until_the_director_chooses() -> None:
    channel = Channel("confirm")
    channel.connect("primary")
    channel.connect("backup")
    channel.advance(0.5, "primary", "backup")
    channel.advance(2.0, "backup")
    channel.send("backup", True, "B")
    channel.advance(1.0, "primary", "backup")  # the primary is back: still the backup
    assert (channel.source.on_air, channel.source.armed) == ("backup", None)
    channel.watch.use_source("hall", "primary")
    assert channel.source.armed == "primary"
    channel.send("primary", True, "R")
    channel.advance(0.5, "primary", "backup")
    assert channel.source.on_air == "primary"
    assert channel.states()[-1] == ("live", "primary", True)


def test_a_new_primary_replaces_the_old_one_at_once() -> None:
    channel = Channel()
    channel.connect("primary")
    channel.send("primary", True, "O")
    old = channel.streams["primary"]
    channel.publishers["primary"] = FakePublisher()
    channel.connect("primary")
    for packet in old.frame(True, "stale"):
        channel.source.push(packet)
    channel.send("primary", True, "N")
    assert channel.payloads() == [b"O0", b"O1", b"N0", b"N1"]


def test_off_air_packets_only_stamp_their_slot() -> None:
    channel = Channel()
    channel.connect("primary")
    channel.connect("backup")
    channel.clock.now = 123.0
    channel.send("backup", True, "B")  # a keyframe, but no switch is armed
    assert channel.payloads() == []
    assert channel.source.slots["backup"].last_packet_at == 123.0
    late = MediaPacket(True, b"z", 1, 1, True, 999, 124.0)
    channel.source.push(late)  # from no slot at all
    assert channel.source.slots["backup"].last_packet_at == 123.0


def test_is_live_is_judged_now_not_at_the_last_check() -> None:
    channel = Channel()
    assert not channel.watch.is_live("hall")
    channel.connect("primary")  # no check has run since
    assert channel.watch.is_live("hall")
    channel.clock.now += 1.0
    assert not channel.watch.is_live("hall")
    assert not channel.watch.is_live("no-such-channel")
