"""Is a media UDP port open? Ask it a plain STUN Binding request, as a STUN client would.

The UDP mux (``streaming/udp_mux.py``) answers Binding requests that carry no ICE username
with the address it saw them come from (XOR-MAPPED-ADDRESS), at a limited rate
(``ice.stun_answers_per_second``). ``venuebridge doctor`` uses ``probe_udp_port`` to tell a
firewall that drops the port from a server that is not listening (both time out) and from
one that answers: ``None`` means no answer ``within`` the given seconds.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from aioice import stun


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """What the port said: our address as it saw it, and how long the answer took."""

    mapped_address: tuple[str, int]
    round_trip_seconds: float


class _Probe(asyncio.DatagramProtocol):
    def __init__(self, request: stun.Message) -> None:
        self.request = request
        self.answer: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = stun.parse_message(data)
        except ValueError:
            return
        if (
            message.transaction_id == self.request.transaction_id
            and message.message_class == stun.Class.RESPONSE
            and "XOR-MAPPED-ADDRESS" in message.attributes
            and not self.answer.done()
        ):
            mapped = message.attributes["XOR-MAPPED-ADDRESS"]
            self.answer.set_result((str(mapped[0]), int(mapped[1])))


async def probe_udp_port(
    host: str, port: int, within: float = 3.0, attempts: int = 3
) -> ProbeAnswer | None:
    """Send a STUN Binding request to ``host:port`` (resent ``attempts`` times in all)."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    transport, probe = await loop.create_datagram_endpoint(lambda: _Probe(request), family=family)
    try:
        started = loop.time()
        for _ in range(attempts):
            transport.sendto(bytes(request), (host, port))
            done, _ = await asyncio.wait([probe.answer], timeout=within / attempts)
            if done:
                return ProbeAnswer(probe.answer.result(), loop.time() - started)
        return None
    finally:
        transport.close()
