"""The ICE names the media port hands out: host candidates ranked the way aioice ranks
its own (UDP, and passive ICE-TCP below it), and username fragments unique in the process.

Pure helpers, apart from the sockets that ``streaming/udp_mux.py``, ``streaming/tcp_mux.py``
and ``streaming/ice_ports.py`` bind: they all offer candidates built here, so a browser sees
the same foundations and priorities whichever of them made the candidate.
"""

from __future__ import annotations

from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aioice.utils import random_string

_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def host_candidate(component: int, address: str, port: int) -> Candidate:
    """A host candidate as aioice builds them (same foundation and priority rules)."""
    return Candidate(
        foundation=candidate_foundation("host", "udp", address),
        component=component,
        transport="udp",
        priority=candidate_priority(component, "host"),
        host=address,
        port=port,
        type="host",
    )


def tcp_candidate(component: int, address: str, port: int) -> Candidate:
    """A passive ICE-TCP host candidate (RFC 6544), ranked below the UDP one."""
    return Candidate(
        foundation=candidate_foundation("host", "tcp", address),
        component=component,
        transport="tcp",
        # RFC 6544 4.2: local preference from the direction (passive: 4 of 7) and 8191.
        priority=candidate_priority(component, "host", local_pref=(4 << 13) | 8191),
        host=address,
        port=port,
        type="host",
        tcptype="passive",
    )


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 62)
        digits = _BASE62[digit] + digits
        if not number:
            return digits


def unique_ufrag(serial: int) -> str:
    """A username fragment that no other ``serial`` of this process gives.

    aioice's own four random characters would collide now and then among a thousand
    peers on one port; the serial number after them cannot.
    """
    return random_string(4) + _base62(serial)
