"""STUN on the media port without a connection behind it: telling a STUN datagram from
the rest, and answering a plain Binding request (no USERNAME) the way a STUN server would.

The answers let a port check from outside (``venuebridge doctor``,
``web/doctor/stun_probe.py``) see the port open; they are rate limited so the port is
not a reflector. Sans-I/O: bytes in, bytes out, the caller passes the clock and sends.
"""

from __future__ import annotations

from collections.abc import Callable

from aioice import stun

from streaming.rate_limit import TokenBucket

_COOKIE = stun.COOKIE.to_bytes(4, "big")


def parse_stun(data: bytes) -> stun.Message | None:
    """The STUN message in ``data``, or None when it is not one (too short, no magic
    cookie, or it does not parse)."""
    if len(data) < stun.HEADER_LENGTH or data[4:8] != _COOKIE:
        return None
    try:
        return stun.parse_message(data)
    except ValueError:
        return None


def is_binding_request(message: stun.Message) -> bool:
    """A Binding request: an ICE check when it names a USERNAME, a port check when not."""
    return (
        message.message_class == stun.Class.REQUEST
        and message.message_method == stun.Method.BINDING
    )


def binding_response(message: stun.Message, addr: tuple[str, int]) -> bytes:
    """The success answer to ``message``: the address it came from, XOR-mapped."""
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.RESPONSE,
        transaction_id=message.transaction_id,
    )
    response.attributes["XOR-MAPPED-ADDRESS"] = addr
    response.add_fingerprint()
    return bytes(response)


class PlainBindingAnswers:
    """Answers to plain Binding requests, at most ``per_second`` of them a second."""

    def __init__(self, per_second: int, clock: Callable[[], float]) -> None:
        self._bucket = TokenBucket(per_second, per_second)
        self._clock = clock

    def answer(self, message: stun.Message, addr: tuple[str, int]) -> bytes | None:
        """The answer to send to ``addr``, or None when over the rate."""
        if not self._bucket.allow(self._clock()):
            return None
        return binding_response(message, addr)
