"""The UDP mux on a real loopback socket, with real aioice connections and raw STUN.

No WebRTC here (tests/integration/test_single_port.py does that): these send the exact
datagrams an attacker, a port check or a peer would, and read the mux's counters.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from aioice import stun
from aioice.ice import Connection

from config import IceSettings, SettingsError
from streaming.ice_ports import open_ice_ports
from streaming.udp_mux import MAX_ADDRESSES_PER_CONNECTION, UdpMux
from tests.helpers import eventually
from web.doctor.stun_probe import Outcome, probe

LOOPBACK = "127.0.0.1"
SECOND = "127.0.0.2"  # all of 127/8 is local on Linux: a second "interface"


class Peer(asyncio.DatagramProtocol):
    """A client socket that keeps what it receives."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.received.put_nowait((data, (addr[0], addr[1])))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return (host, port)

    def send(self, data: bytes, mux: UdpMux, to: str = LOOPBACK) -> None:
        assert self.transport is not None
        self.transport.sendto(data, (to, mux.port))

    async def next_message(self) -> stun.Message:
        return (await self.next_from())[0]

    async def next_from(self) -> tuple[stun.Message, tuple[str, int]]:
        data, sender = await asyncio.wait_for(self.received.get(), 5)
        return stun.parse_message(data), sender


OpenPeer = Callable[[], Awaitable[Peer]]


@pytest.fixture
async def open_peer() -> AsyncIterator[OpenPeer]:
    """Opens client sockets; closes them after the test."""
    peers: list[Peer] = []

    async def open_one() -> Peer:
        _, peer = await asyncio.get_running_loop().create_datagram_endpoint(
            Peer, local_addr=(LOOPBACK, 0)
        )
        peers.append(peer)
        return peer

    yield open_one
    for peer in peers:
        assert peer.transport is not None
        peer.transport.close()


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def mux(clock: FrozenClock) -> AsyncIterator[UdpMux]:
    mux = await UdpMux.open([LOOPBACK], 0, stun_answers_per_second=3, clock=clock)
    yield mux
    await mux.aclose()


async def muxed_connection(mux: UdpMux) -> Connection:
    """A server-side aioice connection on the mux, gathered as aiortc would."""
    connection = Connection(ice_controlling=False)
    mux.adopt(connection)
    candidates = await connection.get_component_candidates(component=1, addresses=[])
    # One host candidate per address the mux listens on, on the mux's port.
    assert [(c.host, c.port, c.type) for c in candidates] == [
        (s.address, mux.port, "host") for s in mux.sockets
    ]
    return connection


def check(connection: Connection, password: str, username: str | None = None) -> bytes:
    """A connectivity check as the remote peer sends it (USERNAME ours:theirs)."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = username or f"{connection.local_username}:peer"
    request.attributes["PRIORITY"] = 1853824767
    request.attributes["ICE-CONTROLLING"] = 1
    request.add_message_integrity(password.encode("utf8"))
    return bytes(request)


def plain_binding() -> bytes:
    return bytes(stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST))


RTP = bytes([0x80, 96]) + os.urandom(100)


async def barrier(peer: Peer, mux: UdpMux, clock: FrozenClock) -> None:
    """Wait until the mux has handled everything ``peer`` sent before (one socket, in order)."""
    clock.now += 10  # the plain answer below is never the one rate-limited
    peer.send(plain_binding(), mux)
    message = await peer.next_message()
    assert message.message_class == stun.Class.RESPONSE


async def test_a_check_with_a_known_ufrag_but_the_wrong_password_captures_nothing(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    connection = await muxed_connection(mux)
    attacker = await open_peer()
    attacker.send(check(connection, password="not-the-password-at-all"), mux)
    attacker.send(RTP, mux)  # media it hopes the server now takes from it
    await barrier(attacker, mux, clock)
    stats = mux.stats()
    assert stats.dropped["bad_integrity"] == 1
    assert stats.dropped["unknown_address"] == 1
    assert stats.addresses == 0
    assert connection._queue.empty()  # aioice's inbound queue: nothing reached it

    # The real peer, with the password from our answer, is bound and answered.
    peer = await open_peer()
    peer.send(check(connection, connection.local_password), mux)
    answer = await peer.next_message()
    assert answer.message_class == stun.Class.RESPONSE
    assert answer.attributes["XOR-MAPPED-ADDRESS"] == peer.address
    assert answer.check_message_integrity(connection.local_password.encode("utf8"))
    peer.send(RTP, mux)
    assert await asyncio.wait_for(connection._queue.get(), 5) == (RTP, 1)
    assert mux.stats().addresses == 1
    await connection.close()


async def test_media_is_told_apart_by_ufrag_then_address(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    first, second = await muxed_connection(mux), await muxed_connection(mux)
    assert first.local_username != second.local_username
    one, two = await open_peer(), await open_peer()
    one.send(check(first, first.local_password), mux)
    two.send(check(second, second.local_password), mux)
    for peer in (one, two):
        assert (await peer.next_message()).message_class == stun.Class.RESPONSE
    one.send(b"\x80one", mux)
    two.send(b"\x80two", mux)
    assert await asyncio.wait_for(first._queue.get(), 5) == (b"\x80one", 1)
    assert await asyncio.wait_for(second._queue.get(), 5) == (b"\x80two", 1)

    # An authenticated check for the other connection moves the address (a peer that
    # reuses its socket); a check naming a fragment nobody has moves nothing.
    one.send(check(second, second.local_password), mux)
    assert (await one.next_message()).message_class == stun.Class.RESPONSE
    one.send(check(first, "x" * 22, username="nobody:peer"), mux)
    one.send(b"\x80moved", mux)
    assert await asyncio.wait_for(second._queue.get(), 5) == (b"\x80moved", 1)
    assert first._queue.empty()
    assert mux.stats().dropped["unknown_ufrag"] == 1
    await first.close()
    await second.close()


async def test_closing_a_connection_unroutes_its_addresses(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    connection = await muxed_connection(mux)
    peer = await open_peer()
    peer.send(check(connection, connection.local_password), mux)
    await peer.next_message()
    # Where the connection's own checks go is routed too: their answers carry no USERNAME.
    protocol = connection._protocols[0]
    for port in range(1, MAX_ADDRESSES_PER_CONNECTION + 10):
        protocol.send_stun(
            stun.Message(stun.Method.BINDING, stun.Class.INDICATION), ("127.0.0.2", port)
        )
    # Bounded: at most MAX_ADDRESSES_PER_CONNECTION per connection, however many it checks.
    assert mux.stats().addresses == MAX_ADDRESSES_PER_CONNECTION
    assert mux.stats().connections == 1
    await connection.close()
    assert (mux.stats().connections, mux.stats().addresses) == (0, 0)
    peer.send(RTP, mux)
    await barrier(peer, mux, clock)
    assert mux.stats().dropped["unknown_address"] == 1
    # The shared socket stays open for everyone else.
    assert not any(s.transport.is_closing() for s in mux.sockets)


async def test_junk_is_dropped_and_counted_and_the_port_keeps_working(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    connection = await muxed_connection(mux)
    peer = await open_peer()
    peer.send(check(connection, connection.local_password), mux)
    await peer.next_message()
    stranger = await open_peer()
    cookie = stun.COOKIE.to_bytes(4, "big")
    # A STUN request whose PRIORITY attribute is one byte long (aioice's unpacking raises).
    bad_attribute = (
        b"\x00\x01\x00\x08" + cookie + os.urandom(12) + b"\x00\x24\x00\x01" + b"\x01\x00\x00\x00"
    )
    malformed = [
        b"\x00\x01\x00",
        b"\x00\x01\x00\x00" + cookie[:3],  # shorter than a STUN header
        b"\x00\x01\x00\x10" + cookie + os.urandom(12),  # length says more than there is
        b"\x00\x01\x00\x00" + b"\xde\xad\xbe\xef" + os.urandom(12),  # no magic cookie
        bad_attribute,
    ]
    for data in malformed:
        stranger.send(data, mux)
        peer.send(data, mux)  # from a bound address too: aioice must not see it either
    stranger.send(b"\x80" * 1200, mux)  # media-looking, from nobody we know
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:  # asyncio sends no b""
        raw.sendto(b"", (LOOPBACK, mux.port))
    await barrier(stranger, mux, clock)
    await barrier(peer, mux, clock)
    dropped = mux.stats().dropped
    assert dropped["malformed"] == 2 * len(malformed) + 1
    assert dropped["unknown_address"] == 1
    assert connection._queue.empty()
    # The bound peer still works.
    peer.send(check(connection, connection.local_password), mux)
    assert (await peer.next_message()).message_class == stun.Class.RESPONSE
    await connection.close()


async def test_plain_binding_requests_are_answered_at_a_limited_rate(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    prober = await open_peer()
    for _ in range(10):
        prober.send(plain_binding(), mux)
    await eventually(
        lambda: mux.stats().stun_answers + mux.stats().dropped["stun_rate_limited"] == 10,
        "the mux to handle ten binding requests",
    )
    # ice.stun_answers_per_second is 3 in this fixture: a burst of 3, the rest dropped.
    assert mux.stats().stun_answers == 3
    assert mux.stats().dropped["stun_rate_limited"] == 7
    answers = [await prober.next_message() for _ in range(3)]
    assert all(a.attributes["XOR-MAPPED-ADDRESS"] == prober.address for a in answers)
    assert prober.received.empty()
    clock.now += 1.0  # a second later, three more may be answered
    prober.send(plain_binding(), mux)
    assert (await prober.next_message()).attributes["XOR-MAPPED-ADDRESS"] == prober.address


async def test_the_port_probe_for_doctor(
    mux: UdpMux, clock: FrozenClock, open_peer: OpenPeer
) -> None:
    answer = await probe(LOOPBACK, mux.port, within=5)
    assert answer.outcome is Outcome.ANSWERED
    assert answer.mapped is not None
    assert answer.mapped[0] == LOOPBACK
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind((LOOPBACK, 0))  # bound, nobody reads: like a port a firewall drops
        silent = await probe(LOOPBACK, closed.getsockname()[1], within=0.3)
        assert silent.outcome is Outcome.SILENT


async def test_each_address_answers_from_itself(clock: FrozenClock, open_peer: OpenPeer) -> None:
    # A reply from another address than the one the peer checked fails its check (and a
    # TURN server's permission): one socket per address, the same port on each.
    mux = await UdpMux.open([LOOPBACK, SECOND], 0, stun_answers_per_second=3, clock=clock)
    try:
        connection = await muxed_connection(mux)
        assert {s.address for s in mux.sockets} == {LOOPBACK, SECOND}
        peer = await open_peer()
        for address in (LOOPBACK, SECOND):
            peer.send(check(connection, connection.local_password), mux, to=address)
            answer, sender = await peer.next_from()
            assert answer.message_class == stun.Class.RESPONSE
            assert sender == (address, mux.port)
        # One peer address checked both: it is routed on each socket, to the same connection.
        assert mux.stats().addresses == 2
        peer.send(RTP, mux, to=SECOND)
        assert await asyncio.wait_for(connection._queue.get(), 5) == (RTP, 1)
        await connection.close()
        assert (mux.stats().connections, mux.stats().addresses) == (0, 0)
    finally:
        await mux.aclose()


def test_ufrags_are_unique_and_valid() -> None:
    mux = UdpMux(stun_answers_per_second=1)
    ufrags = [mux.new_ufrag() for _ in range(20000)]
    assert len(set(ufrags)) == len(ufrags)
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{4,256}", u) for u in ufrags)


async def test_a_busy_port_stops_start_up_naming_the_setting() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        with pytest.raises(SettingsError, match=rf"'ice\.udp_port': cannot open UDP port {port}"):
            async with open_ice_ports(IceSettings(udp_port=port)):
                pass
