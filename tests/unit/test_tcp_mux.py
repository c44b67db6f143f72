"""ICE-TCP on loopback: RFC 4571 frames in, the first check authenticates the connection,
strangers and idlers are closed, and the limits hold."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aioice import stun
from aioice.ice import Connection

from config import IceSettings, SettingsError
from streaming.ice_ports import open_ice_ports
from streaming.tcp_mux import TcpMux
from streaming.udp_mux import UdpMux
from tests.unit.test_udp_mux import LOOPBACK, RTP, check

PENDING_MAX = 2


@pytest.fixture
async def muxes() -> AsyncIterator[tuple[UdpMux, TcpMux]]:
    # The kernel picks a free UDP port; its TCP twin can be some other socket's ephemeral
    # port (a client connection of another test): try another UDP port then.
    for _ in range(20):
        udp = await UdpMux.open([LOOPBACK], 0, stun_answers_per_second=3)
        try:
            tcp = await TcpMux.open(udp, pending_max=PENDING_MAX, pending_seconds=0.5)
            break
        except OSError:
            await udp.aclose()
    else:
        pytest.fail("no UDP port with a free TCP twin in 20 tries")
    yield udp, tcp
    await tcp.aclose()
    await udp.aclose()


async def tcp_connection(udp: UdpMux) -> Connection:
    connection = Connection(ice_controlling=False)
    udp.adopt(connection)
    candidates = await connection.get_component_candidates(component=1, addresses=[])
    assert [(c.transport, c.port, c.tcptype) for c in candidates] == [
        ("udp", udp.port, None),
        ("tcp", udp.port, "passive"),
    ]
    assert candidates[0].priority > candidates[1].priority  # UDP first when it works
    return connection


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), 5), "big")
    return await asyncio.wait_for(reader.readexactly(size), 5)


async def test_a_checked_tcp_connection_carries_the_session(
    muxes: tuple[UdpMux, TcpMux],
) -> None:
    udp, _ = muxes
    connection = await tcp_connection(udp)
    reader, writer = await asyncio.open_connection(LOOPBACK, udp.port)
    try:
        # Two frames in one write, the second split across writes: framing, not segments.
        first = frame(check(connection, connection.local_password))
        media = frame(RTP)
        writer.write(first + media[:5])
        await writer.drain()
        answer = stun.parse_message(await read_frame(reader))
        assert answer.message_class == stun.Class.RESPONSE
        assert answer.check_message_integrity(connection.local_password.encode("utf8"))
        writer.write(media[5:])
        assert await asyncio.wait_for(connection._queue.get(), 5) == (RTP, 1)
        # A frame that is neither media nor STUN is counted; the connection carries on.
        writer.write(frame(b"\x00\x01junk") + frame(RTP))
        assert await asyncio.wait_for(connection._queue.get(), 5) == (RTP, 1)
        assert udp.stats().dropped["tcp_malformed"] == 1
    finally:
        writer.close()
        await connection.close()


async def test_a_first_check_with_the_wrong_password_closes_the_connection(
    muxes: tuple[UdpMux, TcpMux],
) -> None:
    udp, _ = muxes
    connection = await tcp_connection(udp)
    reader, writer = await asyncio.open_connection(LOOPBACK, udp.port)
    writer.write(frame(check(connection, "not-the-password-at-all")) + frame(RTP))
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing answered
    writer.close()
    assert udp.stats().dropped["bad_integrity"] == 1
    assert udp.stats().dropped["tcp_refused"] == 1
    assert connection._queue.empty()
    await connection.close()


async def test_unauthenticated_connections_are_capped_and_timed_out(
    muxes: tuple[UdpMux, TcpMux],
) -> None:
    udp, tcp = muxes
    idle = [await asyncio.open_connection(LOOPBACK, udp.port) for _ in range(PENDING_MAX)]
    # ice.tcp_pending_max (2 here) wait for their first check; the next is closed at once.
    extra_reader, extra_writer = await asyncio.open_connection(LOOPBACK, udp.port)
    assert await asyncio.wait_for(extra_reader.read(), 5) == b""
    extra_writer.close()
    assert udp.stats().dropped["tcp_refused"] == 1
    # The idle ones are closed after the pending time (0.5 s here, 10 s by default).
    for reader, writer in idle:
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    assert tcp.pending == 0


def tcp_listener_on_a_free_udp_port() -> socket.socket:
    """A TCP listener on a port whose UDP twin is free (checked, then let go)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("0.0.0.0", 0))
            port = udp.getsockname()[1]
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.bind(("0.0.0.0", port))
            except OSError:
                listener.close()
                continue
        listener.listen()
        return listener


async def test_a_taken_tcp_port_stops_start_up_naming_the_setting() -> None:
    with tcp_listener_on_a_free_udp_port() as taken:
        port = taken.getsockname()[1]
        message = rf"'ice\.tcp_mux': cannot listen on TCP port {port}"
        with pytest.raises(SettingsError, match=message):
            async with open_ice_ports(IceSettings(udp_port=port)):
                pass
        # Without ICE-TCP the UDP port alone is enough.
        async with open_ice_ports(IceSettings(udp_port=port, tcp_mux=False)) as ports:
            assert isinstance(ports, UdpMux)
            assert ports.port == port
