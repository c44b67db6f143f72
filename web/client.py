"""Who is on the other end of a request, did they come over TLS, and which address they used.

Behind a reverse proxy every request arrives from the proxy's address. The proxy says who
its client was in ``X-Forwarded-For`` and how it came in ``X-Forwarded-Proto``, but anyone
can send those headers: they are believed only when the peer is one of the
``trusted_proxies``. Rate limits and admission caps key on ``client_address``; the invite
cookie is ``Secure`` when ``request_is_https``. Every link we hand out (invite links, the
stage QR code, calendars, WHIP/WHEP ``Location``) starts with ``public_base``: the
``public_url`` setting, else the scheme and host this browser reached us on, so a stage
display opened on a LAN address shows a QR code for that address, not for localhost.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from aiohttp import web

from web.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"
# A host name or IPv4 address, or an IPv6 address in brackets, and an optional port: what a
# ``Host`` may be. Anything else (spaces, ``@``, ``/``) never reaches a link we hand out.
# Labels are separated by exactly one dot, so the pattern cannot backtrack its way into
# exponential time on a long hostile header.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{{1,5}})?")


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The ``trusted_proxies`` setting as networks (validated when settings load)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def parse_address(text: str) -> IPAddress | None:
    """An IP address from a peer or a forwarded hop (``[v6]`` and ``v4:port`` too)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # an IPv4 address with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    """Whether ``address`` belongs to one of the trusted proxy networks."""
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: list[str], networks: tuple[IPNetwork, ...]) -> str:
    """The client behind a chain of proxies: the rightmost hop that is not trusted.

    ``peer`` is the socket's address; ``forwarded_for`` the ``X-Forwarded-For`` values in
    order. Hops are read right to left (each proxy appends the address it saw), skipping
    trusted proxies; a hop that is not an address stops the walk at the last good one.
    """
    peer_address = parse_address(peer)
    if not is_trusted(peer_address, networks):
        return str(peer_address) if peer_address is not None else peer or UNKNOWN
    nearest = str(peer_address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return nearest
        nearest = str(address)
        if not is_trusted(address, networks):
            return nearest
    return nearest


def _peer_is_trusted(request: web.Request) -> bool:
    networks = trusted_networks(request.app[SETTINGS].trusted_proxies)
    return is_trusted(parse_address(request.remote or ""), networks)


def client_address(request: web.Request) -> str:
    """The address a request came from, seen through trusted proxies only."""
    networks = trusted_networks(request.app[SETTINGS].trusted_proxies)
    forwarded = request.headers.getall("X-Forwarded-For", [])
    return forwarded_client(request.remote or UNKNOWN, forwarded, networks)


def request_is_https(request: web.Request) -> bool:
    """TLS on this socket, or a trusted proxy's ``X-Forwarded-Proto: https``."""
    if request.secure:
        return True
    # The nearest (rightmost) value is the one our own proxy vouches for.
    proto = _nearest_forwarded(request, "X-Forwarded-Proto")
    return proto is not None and proto.lower() == "https"


def _nearest_forwarded(request: web.Request, header: str) -> str | None:
    """The value our own (nearest, rightmost) proxy put in ``header``; None from strangers."""
    if not _peer_is_trusted(request):
        return None
    values = ",".join(request.headers.getall(header, []))
    entries = [entry.strip() for entry in values.split(",") if entry.strip()]
    return entries[-1] if entries else None


def is_valid_host(text: str) -> bool:
    """Whether ``text`` is a bare ``host[:port]`` fit to put in a URL."""
    return len(text) <= 255 and HOST.fullmatch(text) is not None


def request_host(request: web.Request) -> str:
    """The host (and port) the browser asked for: a trusted proxy's ``X-Forwarded-Host``,
    else ``Host``, else the address of the socket it reached."""
    forwarded = _nearest_forwarded(request, "X-Forwarded-Host")
    if forwarded is not None and is_valid_host(forwarded):
        return forwarded
    host = request.headers.get("Host", "").strip()
    if is_valid_host(host):
        return host
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sockname, tuple) and len(sockname) >= 2:
        address = parse_address(str(sockname[0]))
        if address is not None:
            shown = f"[{address}]" if address.version == 6 else str(address)
            return f"{shown}:{sockname[1]}"
    return "localhost"  # no socket (a test request): nothing better is known


def public_base(request: web.Request) -> str:
    """Where links we hand out start: ``public_url``, else this request's scheme and host."""
    configured = request.app[SETTINGS].public_url
    if configured:
        return configured.rstrip("/")
    scheme = "https" if request_is_https(request) else "http"
    return f"{scheme}://{request_host(request)}"
