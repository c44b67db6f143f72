"""Who is on the other end of a request, and did they come over TLS.

Behind a reverse proxy every request arrives from the proxy's address. The proxy says who
its client was in ``X-Forwarded-For`` and how it came in ``X-Forwarded-Proto``, but anyone
can send those headers: they are believed only when the peer is one of the
``trusted_proxies``. Rate limits and admission caps key on ``client_address``; the invite
cookie is ``Secure`` when ``request_is_https``.
"""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

from web.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


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
    if not _peer_is_trusted(request):
        return False
    values = ",".join(request.headers.getall("X-Forwarded-Proto", []))
    protos = [proto.strip().lower() for proto in values.split(",") if proto.strip()]
    # The nearest (rightmost) value is the one our own proxy vouches for.
    return bool(protos) and protos[-1] == "https"
