"""Which UDP ports the server's ICE connections use: the one mux port (the default), a
configured range, or any free port (aioice's own behaviour).

The range mode replaces ``Connection.get_component_candidates`` on each server connection,
per instance, like ``streaming/udp_mux.py`` does (see there for the aioice internals this
relies on): ours binds one socket per host address as aioice does, but on a port from
``ice.udp_port_min..max`` instead of port 0, and appends its ``StunProtocol`` to
``Connection._protocols`` so ``Connection.close`` closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any, Protocol

from aioice.ice import StunProtocol, get_host_addresses

from config import IceSettings, SettingsError
from streaming.errors import OverCapacity
from streaming.ice_candidates import host_candidate
from streaming.tcp_mux import TcpMux
from streaming.udp_mux import WILDCARD, UdpMux

logger = logging.getLogger(__name__)

# Free UDP ports tried, with ``ice.udp_port`` 0, for one whose TCP twin is free too.
TCP_TWIN_ATTEMPTS = 20
# What aioice asks for on its own sockets (``turn.UDP_SOCKET_BUFFER_SIZE``).
RECEIVE_BUFFER_BYTES = 262144


class IcePorts(Protocol):
    """Puts a server connection's candidates on the ports the settings ask for."""

    def adopt(self, connection: Any) -> None:
        """Called with each aioice ``Connection`` after the offer, before the answer."""


class AnyFreePort:
    """aioice unchanged: every connection binds free ports the kernel picks."""

    def adopt(self, connection: Any) -> None:
        """Nothing to change."""


class PortsExhausted(OverCapacity):
    """Every port of ``ice.udp_port_min..max`` is taken (HTTP 503)."""


class PortRange:
    """Per-connection sockets, each bound to a port of ``low..high``."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        # Where the next search starts: ports just freed are not reused at once.
        self._cursor = low

    def _bind(self, address: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        size = self.high - self.low + 1
        for step in range(size):
            port = self.low + (self._cursor - self.low + step) % size
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((address, port))
            except OSError as error:
                sock.close()
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            self._cursor = port + 1 if port < self.high else self.low
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            return sock
        logger.error(
            "no free UDP port left in ice.udp_port_min..max (%d-%d): new WebRTC sessions are "
            "refused; widen the range",
            self.low,
            self.high,
        )
        raise PortsExhausted("the server has no free media port; try again later", retry_after=10)

    def adopt(self, connection: Any) -> None:
        """Bind ``connection``'s host candidates inside the range."""

        async def get_component_candidates(component: int, addresses: list[str]) -> list[Any]:
            loop = asyncio.get_running_loop()
            candidates = []
            for address in addresses:
                try:
                    sock = self._bind(address)
                except PortsExhausted:
                    raise
                except OSError as error:  # an address that went away, as aioice does
                    logger.info("could not bind %s: %s", address, error)
                    continue
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: StunProtocol(connection), sock=sock
                )
                host, port = sock.getsockname()[:2]
                protocol.local_candidate = host_candidate(component, host, port)
                connection._protocols.append(protocol)
                candidates.append(protocol.local_candidate)
            return candidates

        connection.get_component_candidates = get_component_candidates


@contextlib.asynccontextmanager
async def open_ice_ports(ice: IceSettings) -> AsyncIterator[IcePorts]:
    """The ports the settings ask for; the mux's sockets are open while the context is."""
    if not ice.udp_mux:
        if ice.udp_port_min is not None and ice.udp_port_max is not None:
            yield PortRange(ice.udp_port_min, ice.udp_port_max)
        else:
            yield AnyFreePort()
        return
    addresses = get_host_addresses(use_ipv4=True, use_ipv6=False)
    if not addresses:
        logger.warning(
            "no IPv4 address but loopback: WebRTC peers get no candidate to reach us "
            "(the media port still answers port checks on all addresses)"
        )
    mux, tcp = await _open_muxes(ice, addresses or [WILDCARD])
    logger.info(
        "media on UDP port %d%s of %s (all WebRTC sessions)",
        mux.port,
        " and TCP (ICE-TCP)" if tcp is not None else "",
        ", ".join(addresses),
    )
    try:
        yield mux
    finally:
        if tcp is not None:
            await tcp.aclose()
        await mux.aclose()


async def _open_muxes(ice: IceSettings, addresses: list[str]) -> tuple[UdpMux, TcpMux | None]:
    """The UDP mux and, with ICE-TCP, its TCP listeners on the same port number."""
    # With port 0 the kernel picks a free UDP port; its TCP twin may be taken (try again).
    attempts = TCP_TWIN_ATTEMPTS if ice.udp_port == 0 else 1
    for attempt in range(attempts):
        try:
            mux = await UdpMux.open(addresses, ice.udp_port, ice.stun_answers_per_second)
        except OSError as error:
            raise SettingsError(
                f"setting 'ice.udp_port': cannot open UDP port {ice.udp_port} for media "
                f"({error.strerror or error}); is another server running? Choose another port "
                "or stop the other process"
            ) from None
        if ice.tcp_mux is False:
            return mux, None
        try:
            return mux, await TcpMux.open(mux, ice.tcp_pending_max)
        except OSError as error:
            await mux.aclose()
            if attempt == attempts - 1:
                raise SettingsError(
                    f"setting 'ice.tcp_mux': cannot listen on TCP port {mux.port} for ICE-TCP "
                    f"({error.strerror or error}); free the port or set ice.tcp_mux = false"
                ) from None
    raise AssertionError("unreachable")
