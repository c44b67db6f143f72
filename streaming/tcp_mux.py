"""ICE over TCP (RFC 6544) on the media port's number, for venues whose networks drop UDP.

Every server connection also offers a passive TCP host candidate on ``ice.udp_port``
(``UdpMux.tcp_port``). A browser that cannot reach us over UDP connects there and frames
its STUN checks, then DTLS and SRTP, with a two-byte length each (RFC 4571). The first
frame of a TCP connection must be a check that ``UdpMux.authenticate`` accepts (our
username fragment, MESSAGE-INTEGRITY with that session's password); only then is the TCP
connection tied to the session. Until then it is one of at most ``ice.tcp_pending_max``
unauthenticated connections and is closed after ``PENDING_SECONDS``.

aioice (0.13) speaks ICE-TCP to TURN servers only, not to peers, so each authenticated TCP
connection gets a ``_TcpProtocol`` (a ``StunProtocol`` subclass, like the UDP mux's) that
is appended to the aioice ``Connection._protocols`` and fed the way
``StunProtocol.datagram_received`` feeds it (``Connection.data_received``,
``Connection.request_received``, ``stun.Transaction.response_received``). Its ``transport``
frames what aioice and aiortc send. Its ``transport._sock`` is what ``SrtpSink`` writes
media to: it raises ``BlockingIOError`` when the TCP buffer is full, so a subscriber behind
a slow TCP path is a slow subscriber (its writer drops to the next keyframe), never an
unbounded buffer. aioice learns the peer as a peer-reflexive candidate and pairs it with
our TCP candidate; the browser nominates the pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aioice import stun
from aioice.ice import StunProtocol

from streaming.ice_candidates import tcp_candidate
from streaming.udp_mux import UdpMux

logger = logging.getLogger(__name__)

Address = tuple[str, int]

# An unauthenticated TCP connection must send its first check within this many seconds.
PENDING_SECONDS = 10.0
# Bytes a TCP connection may have queued to send before media counts as blocked.
SEND_BUFFER_LIMIT = 512 * 1024
_MAX_FRAME = 0xFFFF


class _FramedWriter:
    """What ``SrtpSink`` sends media with: refuses (``BlockingIOError``) when full."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
            raise BlockingIOError("the TCP connection's send buffer is full")
        self._transport.write(len(data).to_bytes(2, "big") + bytes(data))


class _FramedTransport:
    """What aioice and aiortc send with: one RFC 4571 frame per datagram; drops when full."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._sock = _FramedWriter(transport)

    def sendto(self, data: Any, addr: Any = None) -> None:
        # A full buffer loses the datagram, as UDP would; ICE and DTLS retransmit.
        with contextlib.suppress(BlockingIOError):
            self._sock.sendto(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._transport.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class _TcpProtocol(StunProtocol):
    """One TCP connection, tied to one aioice connection after its first check."""

    def __init__(self, connection: Any, transport: asyncio.Transport) -> None:
        super().__init__(connection)
        self.connection_made(_FramedTransport(transport))  # type: ignore[arg-type]

    async def close(self) -> None:
        self.transport.close()
        self.connection_lost(None)


class _TcpLink(asyncio.Protocol):
    """Reads RFC 4571 frames from one accepted TCP connection."""

    def __init__(self, mux: TcpMux) -> None:
        self._mux = mux
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._peer: Address = ("", 0)
        self._local = ""
        self._protocol: _TcpProtocol | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = (str(peer[0]), int(peer[1]))
        self._local = str(transport.get_extra_info("sockname")[0])
        if not self._mux.admit(self):
            transport.abort()
            return
        self._timer = asyncio.get_running_loop().call_later(
            self._mux.pending_seconds, transport.abort
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._mux.release(self)
        if self._timer is not None:
            self._timer.cancel()
        if self._protocol is not None:
            self._protocol.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + size:
                return
            frame = bytes(self._buffer[2 : 2 + size])
            del self._buffer[: 2 + size]
            try:
                self._frame_received(frame)
            except Exception:
                self._mux.udp.dropped["tcp_malformed"] += 1
                logger.debug("ICE-TCP frame from %s not handled", self._peer, exc_info=True)
            if self._transport is None or self._transport.is_closing():
                return

    def _frame_received(self, frame: bytes) -> None:
        protocol = self._protocol
        if protocol is not None and frame and frame[0] > 3:  # DTLS, RTP, RTCP
            protocol.receiver.data_received(frame, 1)
            return
        try:
            message = stun.parse_message(frame)
        except ValueError:
            self._mux.udp.dropped["tcp_malformed"] += 1
            return
        if protocol is None:
            protocol = self._authenticate(message)
            if protocol is None:
                return
        if message.message_class == stun.Class.REQUEST:
            protocol.receiver.request_received(message, self._peer, protocol)
        elif message.message_class in (stun.Class.RESPONSE, stun.Class.ERROR):
            transaction = protocol.transactions.get(message.transaction_id)
            if transaction is not None:
                transaction.response_received(message, self._peer)

    def _authenticate(self, message: stun.Message) -> _TcpProtocol | None:
        """Tie this TCP connection to the session its first check names, or close it."""
        assert self._transport is not None
        connection = None
        if (
            message.message_class == stun.Class.REQUEST
            and message.message_method == stun.Method.BINDING
        ):
            connection = self._mux.udp.authenticate(message)
        if connection is None or self._mux.udp.tcp_port is None:
            self._mux.udp.dropped["tcp_refused"] += 1
            self._transport.abort()
            return None
        protocol = _TcpProtocol(connection, self._transport)
        protocol.local_candidate = tcp_candidate(1, self._local, self._mux.udp.tcp_port)
        connection._protocols.append(protocol)
        self._protocol = protocol
        self._mux.release(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return protocol


class TcpMux:
    """The ICE-TCP listeners (one per address of the UDP mux, the same port number)."""

    def __init__(
        self, udp: UdpMux, pending_max: int, pending_seconds: float = PENDING_SECONDS
    ) -> None:
        self.udp = udp
        self._pending_max = pending_max
        self._pending: set[_TcpLink] = set()
        self._servers: list[asyncio.Server] = []
        self.pending_seconds = pending_seconds

    @classmethod
    async def open(
        cls, udp: UdpMux, pending_max: int, pending_seconds: float = PENDING_SECONDS
    ) -> TcpMux:
        """Listen on the UDP mux's addresses and port number; ``OSError`` if one is taken."""
        mux = cls(udp, pending_max, pending_seconds)
        loop = asyncio.get_running_loop()
        try:
            for sock in udp.sockets:
                server = await loop.create_server(
                    lambda: _TcpLink(mux), host=sock.address, port=udp.port, reuse_address=True
                )
                mux._servers.append(server)
        except OSError:
            await mux.aclose()
            raise
        udp.tcp_port = udp.port
        return mux

    def admit(self, link: _TcpLink) -> bool:
        """Room for another unauthenticated connection?"""
        if len(self._pending) >= self._pending_max:
            self.udp.dropped["tcp_refused"] += 1
            return False
        self._pending.add(link)
        return True

    def release(self, link: _TcpLink) -> None:
        self._pending.discard(link)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def aclose(self) -> None:
        """Stop listening; tied connections close with their sessions."""
        self.udp.tcp_port = None
        for server in self._servers:
            server.close()
        for link in list(self._pending):
            if link._transport is not None:
                link._transport.abort()
        for server in self._servers:
            await server.wait_closed()
