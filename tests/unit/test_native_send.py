"""The native send path and the plain one put the same bytes on the wire.

Real libsrtp (pylibsrtp, the sessions aiortc would key) and real UDP sockets on loopback;
only the aiortc objects around ``SrtpSink`` (the DTLS transport and its nominated ICE
pair) are stand-ins. The batch's hand-back of packets a full socket would not take is
tested with a native library that reports them unsent.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aioice.ice import StunProtocol
from pylibsrtp import Policy, Session

from config import MediaSettings
from config.settings import SettingsError, load_settings
from streaming.aiortc_glue import SrtpSink
from streaming.native import load as load_native
from streaming.native_batch import SENT, UNSENT, NativeBatch, new_send_batch
from streaming.packet import MediaPacket
from streaming.rtp_rewrite import RtpRewriter, parse_rtp_header
from streaming.send_batch import PlainBatch, SendBatch
from streaming.source import ChannelSource
from streaming.writer import TrackWriter
from tests.unit.test_writer_and_feeds import Clock, FakePublisher, FakeSink

KEY = bytes(range(30))  # SRTP master key and salt, the same for both paths
SUBSCRIBERS = 3

# CI builds the module (scripts/setup.sh): there a missing one fails these tests, not skips.
needs_native = pytest.mark.skipif(
    load_native() is None and os.environ.get("CI") != "true",
    reason="the native send path is not built (bash scripts/setup.sh)",
)


def tx_policy() -> Policy:
    # As aiortc keys a connection's sending side (rtcdtlstransport.py).
    policy = Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_OUTBOUND)
    policy.allow_repeat_tx = True
    policy.window_size = 1024
    return policy


@dataclass
class Subscriber:
    receiver: socket.socket
    sink: SrtpSink
    writer: TrackWriter


@dataclass
class Path:
    """A channel and its subscribers, all sending on one socket as on the media port."""

    source: ChannelSource
    subscribers: list[Subscriber]
    transport: asyncio.DatagramTransport
    publisher: FakePublisher

    def received(self, subscriber: Subscriber) -> list[bytes]:
        datagrams = []
        for _ in range(subscriber.writer.stats.packets_sent):
            datagrams.append(subscriber.receiver.recv(2048))
        return datagrams


async def open_path(batch: SendBatch, video_batch: SendBatch | None = None) -> Path:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: StunProtocol(SimpleNamespace(protocol_lost=lambda protocol: None)),
        local_addr=("127.0.0.1", 0),
    )
    source = ChannelSource("hall", Clock(), batch, video_batch)
    subscribers = []
    for index in range(SUBSCRIBERS):
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(2)
        pair = SimpleNamespace(protocol=protocol, remote_addr=receiver.getsockname())
        connection = SimpleNamespace(_nominated={1: pair})
        dtls = SimpleNamespace(
            _tx_srtp=Session(tx_policy()), transport=SimpleNamespace(_connection=connection)
        )
        sink = SrtpSink(dtls)
        writer = TrackWriter(
            video=True,
            rewriter=RtpRewriter(0x1000 + index, 96, 90000, random.Random(index)),
            sink=sink,
            capacity=64,
            clock=Clock(),
            request_keyframe=lambda: None,
            on_blocked=lambda: None,
        )
        source.add_consumer(writer)
        subscribers.append(Subscriber(receiver, sink, writer))
    return Path(source, subscribers, transport, FakePublisher())


def frames(epoch: int, rng: random.Random, count: int) -> list[MediaPacket]:
    """``count`` frames of one publisher: a keyframe, then deltas, 1 to 4 packets each."""
    packets = []
    sequence, timestamp = rng.randrange(65536), rng.randrange(1 << 32)
    for number in range(count):
        size = rng.randint(1, 4)
        for part in range(size):
            length = rng.choice([0, 1, 200, 1100, 1200])  # 0: a padding-only packet
            packets.append(
                MediaPacket(
                    True,
                    rng.randbytes(length),
                    sequence & 0xFFFF,
                    timestamp,
                    part == size - 1,
                    epoch,
                    number / 30,
                    frame_start=part == 0,
                    keyframe=number == 0,
                )
            )
            sequence += 1
        timestamp = (timestamp + 3000) & 0xFFFFFFFF
    return packets


async def play(path: Path) -> list[list[bytes]]:
    """Two publishers in turn (a reconnect re-bases every subscriber); what each received."""
    rng = random.Random(7)
    for _ in range(2):
        epoch = path.source.attach_publisher(FakePublisher())
        for packet in frames(epoch, rng, 20):
            path.source.push(packet)
    return [path.received(subscriber) for subscriber in path.subscribers]


@pytest.fixture
async def paths() -> AsyncIterator[dict[str, Path]]:
    native = load_native()
    opened = {"plain": await open_path(PlainBatch())}
    if native is not None:
        opened["native"] = await open_path(NativeBatch(native))
    yield opened
    for path in opened.values():
        path.transport.close()
        for subscriber in path.subscribers:
            subscriber.receiver.close()


@needs_native
async def test_native_and_plain_paths_send_identical_rtp(paths: dict[str, Path]) -> None:
    plain, native = await play(paths["plain"]), await play(paths["native"])
    sent = [len(datagrams) for datagrams in plain]
    assert sent == [len(datagrams) for datagrams in native]
    assert min(sent) > 40  # every frame of both publishers, several packets each
    for index, (ours, theirs) in enumerate(zip(native, plain, strict=True)):
        # SRTP is deterministic for a key and a packet index: equal ciphertext means
        # equal RTP; decrypting shows the header each subscriber should get.
        assert ours == theirs
        receiving = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND))
        clear = [receiving.unprotect(datagram) for datagram in ours]
        headers = [parse_rtp_header(packet) for packet in clear]
        assert {header[4] for header in headers} == {0x1000 + index}
        sequences = [header[2] for header in headers]
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(sequences))
    # One native call per pushed packet carried every subscriber's copy, except each
    # publisher's first packet: a writer resuming at a keyframe flushes its queue plainly.
    batch = paths["native"].source.batch
    assert isinstance(batch, NativeBatch)
    assert batch.packets == sum(sent) - 2 * SUBSCRIBERS
    assert batch.calls == sum(sent) // SUBSCRIBERS - 2


@needs_native
async def test_a_closed_socket_counts_send_errors_like_the_plain_path(
    paths: dict[str, Path],
) -> None:
    for path in paths.values():
        path.transport._sock.close()  # type: ignore[attr-defined]  # the socket SrtpSink uses
        epoch = path.source.attach_publisher(FakePublisher())
        for packet in frames(epoch, random.Random(1), 3):
            path.source.push(packet)
    for name in ("plain", "native"):
        errors = [s.sink.send_errors for s in paths[name].subscribers]
        sent = [s.writer.stats.packets_sent for s in paths[name].subscribers]
        assert errors == sent  # dropped and counted, never queued for ever
        assert min(errors) > 0
        assert all(s.writer.queued == 0 for s in paths[name].subscribers)


class BlockingLib:
    """The native library as a full socket leaves it: the first ``taken`` entries went."""

    def __init__(self, taken: int) -> None:
        self.taken = taken

    def vb_fan_out(
        self,
        protect: int,
        entries: Any,
        count: int,
        slots: Any,
        size: int,
        slot_count: int,
        segments: int,
        counts: Any,
    ) -> int:
        for index in range(count):
            entries[index].status = SENT if index < self.taken else UNSENT
        counts[0] = counts[1] = counts[2] = 0
        return max(0, count - self.taken)


class TargetSink(FakeSink):
    """A fake sink the batch may send to natively (the fake library sends nothing)."""

    send_errors = 0

    def batch_target(self) -> tuple[int, int]:
        return 3, 1


@needs_native
def test_entries_a_full_socket_refused_wait_in_their_writers_queues() -> None:
    native = load_native()
    assert native is not None
    batch = NativeBatch(SimpleNamespace(ffi=native.ffi, lib=BlockingLib(taken=1)))
    source = ChannelSource("hall", Clock(), batch)
    sinks = [TargetSink(), TargetSink()]
    blocked: list[int] = []
    writers = []
    for index, sink in enumerate(sinks):
        writer = TrackWriter(
            False,
            RtpRewriter(0x10 + index, 111, 48000, random.Random(0)),
            sink,
            8,
            Clock(),
            lambda: None,
            lambda index=index: blocked.append(index),
        )
        source.add_consumer(writer)
        writers.append(writer)
    sinks[1].open = False  # the queued packet cannot go the plain way either
    epoch = source.attach_publisher(FakePublisher())
    source.push(MediaPacket(False, b"opus", 1, 960, True, epoch))
    # The first went in the native call; the second came back, queued, and is retried.
    assert [w.stats.packets_sent for w in writers] == [1, 0]
    assert [w.queued for w in writers] == [0, 1]
    assert blocked == [1]
    sinks[1].open = True
    writers[1].flush()
    assert writers[1].stats.packets_sent == 1
    assert len(sinks[1].sent) == 1
    assert sinks[0].sent == []  # the native call carried it, not send_rtp


def test_native_send_setting_chooses_the_path() -> None:
    assert isinstance(new_send_batch(False), PlainBatch)
    chosen = new_send_batch(MediaSettings().native_send)
    assert MediaSettings().native_send is True
    assert isinstance(chosen, NativeBatch if load_native() is not None else PlainBatch)


def test_native_send_is_a_setting() -> None:
    assert (
        load_settings(None, {"VENUEBRIDGE_MEDIA_NATIVE_SEND": "false"}).media.native_send is False
    )
    assert load_settings(None, {}).media.native_send is True
    with pytest.raises(SettingsError, match="VENUEBRIDGE_MEDIA_NATIVE_SEND"):
        load_settings(None, {"VENUEBRIDGE_MEDIA_NATIVE_SEND": "maybe"})


def test_without_the_native_module_the_plain_path_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import streaming.native_batch

    monkeypatch.setattr(streaming.native_batch, "load", lambda: None)
    assert isinstance(new_send_batch(True), PlainBatch)
