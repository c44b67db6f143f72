"""A long, lossy link in process: seeded loss and a fixed delay on one aiortc connection.

The kernel here has no netem, so the link is bent where aiortc's own tests bend it: at
the datagram transport. Incoming RTP is dropped by a seeded RNG (or in a burst of a set
number of packets); every datagram, both ways, waits ``delay`` seconds on the event
loop. STUN, DTLS and RTCP are delayed but never dropped, so the connection itself stays
up and only the media path is hurt.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any


def is_rtp(data: bytes) -> bool:
    """RTP, not RTCP (RFC 5761: payload types 192-223 are RTCP) nor STUN/DTLS."""
    return len(data) >= 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223


class LossyLink:
    """Installed on the receiving side of a connection; bends what it receives and sends."""

    def __init__(self, seed: int, loss: float = 0.0, delay: float = 0.0) -> None:
        self.loss = loss
        self.delay = delay
        self.burst = 0  # the next this-many RTP packets are dropped
        self.dropped = 0
        self.passed = 0
        self._rng = random.Random(seed)
        self._wrapped: set[int] = set()

    def install(self, pc: Any) -> None:
        """Bend every socket of ``pc``'s ICE connections (after its local description)."""
        for transceiver in pc.getTransceivers():
            connection = transceiver.receiver.transport.transport._connection
            for protocol in connection._protocols:
                if id(protocol) not in self._wrapped:
                    self._wrapped.add(id(protocol))
                    self._wrap(protocol)

    def _drop(self) -> bool:
        if self.burst > 0:
            self.burst -= 1
            return True
        return self._rng.random() < self.loss

    def _wrap(self, protocol: Any) -> None:
        loop = asyncio.get_running_loop()
        receive = protocol.datagram_received
        transport = protocol.transport
        send = transport.sendto

        def deliver(data: bytes, addr: Any) -> None:
            if not transport.is_closing():
                receive(data, addr)

        def lossy_receive(data: bytes, addr: Any) -> None:
            if is_rtp(data):
                if self._drop():
                    self.dropped += 1
                    return
                self.passed += 1
            loop.call_later(self.delay, deliver, data, addr)

        def delayed_send(data: Any, addr: Any = None) -> None:
            # Copied now: a caller may reuse its buffer before the delay is over.
            loop.call_later(self.delay, send_later, bytes(data), addr)

        def send_later(data: bytes, addr: Any) -> None:
            if not transport.is_closing():
                send(data, addr)

        protocol.datagram_received = lossy_receive
        transport.sendto = delayed_send
