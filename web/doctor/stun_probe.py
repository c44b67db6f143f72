"""A plain STUN Binding request to the media port, as a browser's first packet would be.

The single-port media mux answers a Binding request without USERNAME with the address it
saw us at (XOR-MAPPED-ADDRESS), so an answer proves the port is open and served. Building
and reading the messages is pure (tested bytes in, bytes out); ``probe`` does the I/O.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from aioice import stun

# Retransmit like RFC 8489's client (doubling from 250 ms) until the caller's deadline.
FIRST_RETRANSMIT = 0.25


def binding_request() -> stun.Message:
    """A Binding request with a fresh transaction id, no USERNAME, and a FINGERPRINT."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.add_fingerprint()
    return request


class Outcome(enum.Enum):
    ANSWERED = "answered"  # a success response with XOR-MAPPED-ADDRESS
    ERROR = "error"  # a STUN error response: something STUN-aware holds the port
    REFUSED = "refused"  # ICMP port unreachable: nothing listens there
    SILENT = "silent"  # no answer before the deadline: dropped on the way, or not served


@dataclass(frozen=True, slots=True)
class ProbeResult:
    outcome: Outcome
    mapped: tuple[str, int] | None = None
    error: str | None = None


def read_response(data: bytes, transaction_id: bytes) -> ProbeResult | None:
    """The answer to our request in ``data``; None for anything else (noise, other ids)."""
    try:
        message = stun.parse_message(data)
    except ValueError:
        return None
    if message.transaction_id != transaction_id or message.message_method != stun.Method.BINDING:
        return None
    if message.message_class == stun.Class.RESPONSE:
        mapped = message.attributes.get("XOR-MAPPED-ADDRESS")
        if mapped is None:
            return ProbeResult(Outcome.ERROR, error="a success response without XOR-MAPPED-ADDRESS")
        return ProbeResult(Outcome.ANSWERED, mapped=(str(mapped[0]), int(mapped[1])))
    if message.message_class == stun.Class.ERROR:
        code, reason = message.attributes.get("ERROR-CODE", (0, "no ERROR-CODE"))
        return ProbeResult(Outcome.ERROR, error=f"error {code} {reason}")
    return None


class _Prober(asyncio.DatagramProtocol):
    def __init__(self, transaction_id: bytes) -> None:
        self.transaction_id = transaction_id
        self.done: asyncio.Future[ProbeResult] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        result = read_response(data, self.transaction_id)
        if result is not None and not self.done.done():
            self.done.set_result(result)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError) and not self.done.done():
            self.done.set_result(ProbeResult(Outcome.REFUSED))


async def probe(host: str, port: int, within: float) -> ProbeResult:
    """Send Binding requests to ``host:port``/udp until an answer or ``within`` seconds."""
    loop = asyncio.get_running_loop()
    request = binding_request()
    transport, prober = await loop.create_datagram_endpoint(
        lambda: _Prober(request.transaction_id), remote_addr=(host, port)
    )
    try:
        data = bytes(request)
        deadline = loop.time() + within
        wait = FIRST_RETRANSMIT
        while not prober.done.done():
            transport.sendto(data)
            left = deadline - loop.time()
            if left <= 0:
                return ProbeResult(Outcome.SILENT)
            await asyncio.wait({prober.done}, timeout=min(wait, left))
            wait *= 2
        return prober.done.result()
    finally:
        transport.close()
