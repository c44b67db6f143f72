"""Every server ICE connection's media on one UDP port (one firewall rule, like MediaMTX
and LiveKit), told apart by the ICE username fragment and then by the remote address.

aioice (0.13) has no port-sharing option: ``Connection.get_component_candidates`` binds a
socket per host address on port 0. We change each *server* connection, per instance (the
aiortc peers of the tests, in the same process, keep stock aioice), through these aioice
internals, verified against its source:

* ``Connection._local_username``: replaced before aiortc's ``createAnswer`` reads it (via
  ``RTCIceGatherer.getLocalParameters``), with a fragment unique in the process (aioice's
  own four random characters would collide now and then among a thousand peers).
* ``Connection.get_component_candidates``: replaced on the instance; called once per
  component by ``gather_candidates`` (from ``setLocalDescription``). Ours creates no socket:
  it returns one host candidate per address the mux listens on, all on the mux's port, each
  backed by a ``_MuxedProtocol`` that it appends to ``Connection._protocols`` (as aioice
  does), so ``Connection.close`` closes them.
* ``StunProtocol``: ``_MuxedProtocol`` subclasses it. Its ``transport`` *is* the shared
  datagram transport, so every send path (aioice's, aiortc's DTLS, our ``SrtpSink`` which
  writes to ``transport._sock``) is unchanged and costs nothing extra. ``close`` forgets
  the protocol here instead of closing the socket, and calls ``connection_lost`` so the
  future aioice waits on resolves. Incoming packets are handed on the way
  ``StunProtocol.datagram_received`` does: ``Connection.data_received`` for media,
  ``Connection.request_received`` for requests, ``stun.Transaction.response_received``
  for answers to our own checks.

The mux binds the port once per IPv4 host address (aioice's ``get_host_addresses``), not
once on 0.0.0.0: a reply must leave from the address the peer sent to, or the peer's ICE
check fails (source mismatch) and a TURN server drops it (its permission names our
candidate's address). A server with one interface, a container, holds one socket.

Demultiplexing (``_MuxSocket.datagram_received``): non-STUN packets (first byte above 3, RFC 7983)
from a known remote address go straight to their connection: a dict lookup, less work
than stock aioice, which tries to parse every packet as STUN. A Binding request with a
USERNAME ``ours:theirs`` is routed by our fragment, and its MESSAGE-INTEGRITY is checked
with that connection's password *before* its source address is bound to the connection:
knowing a fragment (it travels in clear) is not enough to steer media. Addresses we send
checks to are bound too (their answers carry no USERNAME), unless another connection
holds them. Anything else is dropped and counted. A Binding request with no USERNAME is
answered like a STUN server would (XOR-MAPPED-ADDRESS), at a limited rate, so a port
check from outside (``venuebridge doctor``, ``web/doctor/stun_probe.py``) can see it open.
Those answers are ``streaming/stun_answers.py``; the candidates and fragments the mux
hands out, ``streaming/ice_candidates.py``.

IPv4 only: IPv6 host addresses get no muxed candidate.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from aioice import stun
from aioice.ice import StunProtocol

from streaming.ice_candidates import host_candidate, tcp_candidate, unique_ufrag
from streaming.stun_answers import PlainBindingAnswers, is_binding_request, parse_stun

# The candidate helpers moved to streaming/ice_candidates.py; importers of this module
# keep finding them here.
__all__ = [
    "DROP_REASONS",
    "MAX_ADDRESSES_PER_CONNECTION",
    "SOCKET_BUFFER_BYTES",
    "WILDCARD",
    "Address",
    "UdpMux",
    "UdpMuxStats",
    "host_candidate",
    "tcp_candidate",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int]

# A connection's remote addresses (its peer's candidates that checked or were checked);
# a browser has a handful. Bounds the address map with the number of connections.
MAX_ADDRESSES_PER_CONNECTION = 16
# Kernel buffers of the one socket every peer shares (capped by net.core.[rw]mem_max).
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024
WILDCARD = "0.0.0.0"

DROP_REASONS = (
    "unknown_address",  # media or a STUN answer from an address no connection has
    "unknown_ufrag",  # a check naming a fragment no live connection has
    "bad_integrity",  # a check whose MESSAGE-INTEGRITY does not match the fragment's password
    "malformed",  # looked like STUN but did not parse, or an empty datagram
    "stun_rate_limited",  # a plain Binding request over ice.stun_answers_per_second
    "tcp_refused",  # an ICE-TCP connection over ice.tcp_pending_max, or whose first check failed
    "tcp_malformed",  # an ICE-TCP frame that did not parse or could not be handled
)


class _MuxSocket(asyncio.DatagramProtocol):
    """The port on one local address, and the remote addresses routed on it."""

    def __init__(self, mux: UdpMux, index: int) -> None:
        self.mux = mux
        self.index = index
        self.address = ""
        self.transport: asyncio.DatagramTransport = cast(asyncio.DatagramTransport, None)
        self.routes: dict[Address, _MuxedProtocol] = {}
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.address = str(transport.get_extra_info("sockname")[0])

    def connection_lost(self, exc: Exception | None) -> None:
        self.mux.socket_closed(self, exc)
        self.routes.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (a peer gone away) surface here on Linux; consent checks notice.
        logger.debug("media socket %s: %s", self.address, exc)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            protocol = self.routes.get((addr[0], addr[1]))
            if data and data[0] > 3:  # RTP, RTCP, DTLS: not STUN (RFC 7983)
                if protocol is None:
                    self.mux.dropped["unknown_address"] += 1
                else:
                    protocol.receiver.data_received(data, 1)
                return
            self.mux.stun_received(self, data, (addr[0], addr[1]), protocol)
        except Exception:
            # Never let one packet's trouble reach the event loop; aioice raises a few
            # kinds on odd STUN attributes.
            self.mux.dropped["malformed"] += 1
            logger.debug("media socket: packet from %s not handled", addr, exc_info=True)


class _MuxedProtocol(StunProtocol):
    """One connection's share of one mux socket: aioice's protocol on the shared transport."""

    def __init__(self, connection: Any, mux: UdpMux, ufrag: str, sock: _MuxSocket) -> None:
        super().__init__(connection)
        self.mux = mux
        self.ufrag = ufrag
        self.socket = sock
        # Insertion-ordered: the least recently confirmed address is evicted first.
        self.addresses: dict[Address, None] = {}
        self.connection_made(sock.transport)

    def send_stun(self, message: stun.Message, addr: tuple[str, int]) -> None:
        # Our checks' answers come back without USERNAME: route them by address.
        self.mux.learn(self, (addr[0], addr[1]))
        super().send_stun(message, addr)

    async def close(self) -> None:
        self.mux.forget(self)
        self.connection_lost(None)


@dataclass(frozen=True, slots=True)
class UdpMuxStats:
    """Counters for /metrics."""

    port: int
    sockets: int
    connections: int
    addresses: int
    stun_answers: int
    dropped: MappingProxyType[str, int]


class UdpMux:
    """The media port (one socket per local address) and the demultiplexer behind it."""

    def __init__(
        self, stun_answers_per_second: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sockets: list[_MuxSocket] = []
        # Each connection's protocols, one per socket, in socket order.
        self._by_ufrag: dict[str, list[_MuxedProtocol]] = {}
        self._serial = itertools.count(1)
        self._plain_stun = PlainBindingAnswers(stun_answers_per_second, clock)
        self.dropped: Counter[str] = Counter()
        self.stun_answers = 0
        self.port = 0
        # Set while an ICE-TCP listener shares the port number (streaming/tcp_mux.py).
        self.tcp_port: int | None = None

    @classmethod
    async def open(
        cls,
        addresses: list[str],
        port: int,
        stun_answers_per_second: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> UdpMux:
        """Bind ``port`` (0: a free one) on each address; ``OSError`` if one cannot be."""
        mux = cls(stun_answers_per_second, clock)
        try:
            for address in addresses:
                await mux._bind(address, port or mux.port)
        except OSError:
            await mux.aclose()
            raise
        return mux

    async def _bind(self, address: str, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((address, port))
            for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
        except OSError:
            sock.close()
            raise
        index = len(self.sockets)
        _, bound = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _MuxSocket(self, index), sock=sock
        )
        self.sockets.append(bound)
        self.port = int(sock.getsockname()[1])

    # -- what a socket hands over ------------------------------------------------------

    def stun_received(
        self, sock: _MuxSocket, data: bytes, addr: Address, protocol: _MuxedProtocol | None
    ) -> None:
        """A datagram that may be STUN, on ``sock`` from ``addr`` (routed to ``protocol``)."""
        message = parse_stun(data)
        if message is None:
            self.dropped["malformed"] += 1
            return
        if is_binding_request(message):
            username = message.attributes.get("USERNAME")
            if username is None:
                self._answer_plain_binding(sock, message, addr)
            else:
                self._check_received(sock, message, addr, str(username))
        elif protocol is None:
            self.dropped["unknown_address"] += 1
        elif message.message_class == stun.Class.REQUEST:
            protocol.receiver.request_received(message, addr, protocol)
        elif message.message_class in (stun.Class.RESPONSE, stun.Class.ERROR):
            transaction = protocol.transactions.get(message.transaction_id)
            if transaction is not None:
                transaction.response_received(message, addr)

    def authenticate(self, message: stun.Message) -> Any | None:
        """The aioice connection a check (a Binding request with USERNAME) is for, if it
        names one of ours and its MESSAGE-INTEGRITY is made with that one's password."""
        username = message.attributes.get("USERNAME")
        protocols = self._by_ufrag.get(str(username).partition(":")[0]) if username else None
        if protocols is None:
            self.dropped["unknown_ufrag"] += 1
            return None
        connection = protocols[0].receiver
        if not message.check_message_integrity(connection.local_password.encode("utf8")):
            self.dropped["bad_integrity"] += 1
            return None
        return connection

    def _check_received(
        self, sock: _MuxSocket, message: stun.Message, addr: Address, username: str
    ) -> None:
        """An ICE connectivity check: authenticate it, then bind its source address."""
        protocols = self._by_ufrag.get(username.partition(":")[0])
        if protocols is None:
            self.dropped["unknown_ufrag"] += 1
            return
        protocol = protocols[sock.index]
        password = protocol.receiver.local_password.encode("utf8")
        if not message.check_message_integrity(password):
            self.dropped["bad_integrity"] += 1
            return
        self._bind_route(protocol, addr)
        protocol.receiver.request_received(message, addr, protocol)

    def _answer_plain_binding(self, sock: _MuxSocket, message: stun.Message, addr: Address) -> None:
        response = self._plain_stun.answer(message, addr)
        if response is None:
            self.dropped["stun_rate_limited"] += 1
            return
        sock.transport.sendto(response, addr)
        self.stun_answers += 1

    def socket_closed(self, sock: _MuxSocket, exc: Exception | None) -> None:
        """A socket went away (shutdown): its connections' protocols are lost."""
        for protocols in list(self._by_ufrag.values()):
            protocols[sock.index].connection_lost(exc)

    # -- the routes --------------------------------------------------------------------

    def _bind_route(self, protocol: _MuxedProtocol, addr: Address) -> None:
        """Route ``addr`` to ``protocol`` (an authenticated check came from it)."""
        routes = protocol.socket.routes
        owner = routes.get(addr)
        if owner is not None and owner is not protocol:
            del owner.addresses[addr]
        protocol.addresses.pop(addr, None)
        protocol.addresses[addr] = None  # now the most recently confirmed
        routes[addr] = protocol
        if len(protocol.addresses) > MAX_ADDRESSES_PER_CONNECTION:
            oldest = next(iter(protocol.addresses))
            del protocol.addresses[oldest]
            del routes[oldest]

    def learn(self, protocol: _MuxedProtocol, addr: Address) -> None:
        """``protocol`` sends to ``addr``: route answers from there, if nobody has it."""
        routes = protocol.socket.routes
        if (
            protocol.ufrag in self._by_ufrag
            and addr not in routes
            and len(protocol.addresses) < MAX_ADDRESSES_PER_CONNECTION
        ):
            protocol.addresses[addr] = None
            routes[addr] = protocol

    def forget(self, protocol: _MuxedProtocol) -> None:
        """Unroute every address of ``protocol`` and its connection's fragment (it closed)."""
        routes = protocol.socket.routes
        for addr in protocol.addresses:
            if routes.get(addr) is protocol:
                del routes[addr]
        protocol.addresses.clear()
        protocols = self._by_ufrag.get(protocol.ufrag)
        if protocols is not None and protocol in protocols:
            del self._by_ufrag[protocol.ufrag]

    # -- connections -------------------------------------------------------------------

    def new_ufrag(self) -> str:
        """A username fragment no other connection of this process has or had."""
        return unique_ufrag(next(self._serial))

    def adopt(self, connection: Any) -> None:
        """Put a server aioice ``Connection`` on this port (before its answer is made)."""
        ufrag = self.new_ufrag()
        connection._local_username = ufrag

        async def get_component_candidates(component: int, addresses: list[str]) -> list[Any]:
            # aioice's addresses are the host's now; ours are those bound at start-up.
            if any(s.transport.is_closing() for s in self.sockets):
                return []  # shutting down
            # A wildcard socket (a host with no address but loopback) has no candidate.
            sockets = [s for s in self.sockets if s.address != WILDCARD]
            if not sockets:
                return []
            protocols = []
            for sock in self.sockets:
                protocol = _MuxedProtocol(connection, self, ufrag, sock)
                protocol.local_candidate = host_candidate(component, sock.address, self.port)
                protocols.append(protocol)
            self._by_ufrag[ufrag] = protocols
            connection._protocols.extend(protocols)
            candidates = [p.local_candidate for p in protocols if p.socket in sockets]
            if self.tcp_port is not None:  # ICE-TCP on the same port (streaming/tcp_mux.py)
                candidates += [tcp_candidate(component, s.address, self.tcp_port) for s in sockets]
            return candidates

        connection.get_component_candidates = get_component_candidates

    def stats(self) -> UdpMuxStats:
        """Counters and sizes now, for /metrics and the tests."""
        return UdpMuxStats(
            port=self.port,
            sockets=len(self.sockets),
            connections=len(self._by_ufrag),
            addresses=sum(len(s.routes) for s in self.sockets),
            stun_answers=self.stun_answers,
            dropped=MappingProxyType({reason: self.dropped[reason] for reason in DROP_REASONS}),
        )

    async def aclose(self) -> None:
        """Close the sockets; connections still on them see their protocols lost."""
        for sock in self.sockets:
            sock.transport.close()
        # The port is free again only once the transports have closed their sockets.
        await asyncio.gather(*(sock.closed for sock in self.sockets))
