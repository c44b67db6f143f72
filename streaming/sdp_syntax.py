"""Sans-I/O syntax checks for the SDP a stranger sends us (offers and trickled fragments).

aiortc and aioice trust what they are given: a candidate port of 99999999 reaches
``socket.sendto`` and fails there with ``OverflowError``; a garbage DTLS fingerprint is
only noticed, if at all, after a session has been set up. These checks refuse such input
at the edge with a ``BadRequest`` that says what is wrong.
"""

from __future__ import annotations

import ipaddress
import re

from streaming.errors import BadRequest, PayloadTooLarge

# Larger than any offer a browser or OBS sends (a few KiB), small enough to parse at once.
MAX_SDP_BYTES = 64 * 1024
MAX_SDP_LINES = 1000
MAX_FRAGMENT_BYTES = 16 * 1024
MAX_FRAGMENT_CANDIDATES = 64

# Bytes of the digest per hash function named in a=fingerprint (RFC 8122).
FINGERPRINT_BYTES = {"sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64}
CANDIDATE_TYPES = ("host", "srflx", "prflx", "relay")
TRANSPORTS = ("udp", "tcp")

_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]{1,32}")
# mDNS names browsers use to hide host addresses; other names would send aioice to DNS.
_MDNS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}\.local")
# Anything below a space except tab, CR and LF (NUL bytes included), and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(text: str, what: str, max_bytes: int, max_lines: int) -> list[str]:
    """The non-empty lines of an SDP body after the size, line-count and character checks."""
    if len(text.encode("utf-8")) > max_bytes:
        raise PayloadTooLarge(f"the {what} is too large (at most {max_bytes} bytes)")
    if _CONTROL.search(text):
        raise BadRequest(f"the {what} contains control characters (NUL bytes or the like)")
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if len(lines) > max_lines:
        raise BadRequest(f"the {what} has too many lines (at most {max_lines})")
    return lines


def _whole_number(text: str, low: int, high: int) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if low <= value <= high else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return _MDNS_NAME.fullmatch(text) is not None
    return True


def check_candidate(value: str) -> None:
    """Raise ``BadRequest`` unless ``value`` (after ``a=candidate:``) is a sane candidate.

    RFC 8839 section 5.1: foundation, component, transport, priority, address, port,
    ``typ`` and a known type; extensions after that are left to aiortc.
    """
    parts = value.split()
    shown = value[:80]
    if len(parts) < 8 or parts[6] != "typ":
        raise BadRequest(f"malformed candidate: '{shown}'")
    foundation, component, transport, priority, address, port, _, kind = parts[:8]
    if not _ICE_CHARS.fullmatch(foundation):
        raise BadRequest(f"candidate foundation is not 1-32 ice-chars: '{shown}'")
    if _whole_number(component, 1, 256) is None:
        raise BadRequest(f"candidate component must be 1..256: '{shown}'")
    if transport.lower() not in TRANSPORTS:
        raise BadRequest(f"candidate transport must be UDP or TCP: '{shown}'")
    if _whole_number(priority, 1, 2**32 - 1) is None:
        raise BadRequest(f"candidate priority must be 1..4294967295: '{shown}'")
    if not _is_address(address):
        raise BadRequest(f"candidate address is not an IP address or .local name: '{shown}'")
    if _whole_number(port, 1, 65535) is None:
        raise BadRequest(f"candidate port must be 1..65535: '{shown}'")
    if kind not in CANDIDATE_TYPES:
        raise BadRequest(f"candidate type must be one of {', '.join(CANDIDATE_TYPES)}: '{shown}'")


def check_fingerprint(value: str) -> None:
    """Raise ``BadRequest`` unless ``value`` (after ``a=fingerprint:``) is a known digest."""
    algorithm, _, digest = value.strip().partition(" ")
    size = FINGERPRINT_BYTES.get(algorithm.lower())
    if size is None:
        known = ", ".join(FINGERPRINT_BYTES)
        raise BadRequest(f"a=fingerprint hash must be one of {known}, not '{algorithm[:20]}'")
    octets = digest.strip().split(":")
    if len(octets) != size or not all(re.fullmatch(r"[0-9A-Fa-f]{2}", o) for o in octets):
        raise BadRequest(
            f"a=fingerprint {algorithm.lower()} must be {size} hex octets separated by colons"
        )
