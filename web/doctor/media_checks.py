"""Media reachability: the single UDP media port answers STUN, and TURN allocates.

Both send what a browser would: a Binding request to the media port, and an Allocate with
the REST credentials the server hands out, so a FAIL here is what the audience would hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from aioice import stun
from aioice.turn import create_turn_endpoint

from config import Settings
from streaming.ice_servers import turn_credentials
from web.doctor.report import Check, fail, ok, skip, warn
from web.doctor.stun_probe import Outcome, probe

MEDIA = "media UDP"
TURN = "TURN"
# The REST username's user part: shows up in coturn's log as this check.
DOCTOR_USER = "venuebridge-doctor"


def media_port(settings: Settings, override: int | None) -> int | None:
    """The single media port: ``--udp-port``, else ``ice.udp_port`` when the mux is on."""
    if override is not None:
        return override
    ice = settings.ice
    if ice.udp_mux:
        # 0: the server picked a free port at start-up, which only it knows.
        return ice.udp_port or None
    return None


def media_hosts(settings: Settings) -> tuple[str, ...]:
    """Where browsers send media: the advertised addresses, else the public URL's host."""
    if settings.ice.advertised_addresses:
        return settings.ice.advertised_addresses
    host = urlsplit(settings.public_url or "").hostname
    return (host,) if host else ()


def is_local_address(host: str) -> bool:
    """Whether ``host`` is one of this machine's own addresses (bindable here)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError:
        return False
    for family, kind, _, _, address in infos:
        with socket.socket(family, kind) as probe_socket:
            try:
                probe_socket.bind((address[0], 0))
            except OSError:
                continue
            return True
    return False


async def check_media_port(settings: Settings, override: int | None, within: float) -> list[Check]:
    """One line per address browsers are told to send media to."""
    port = media_port(settings, override)
    if port is None:
        return [
            skip(
                MEDIA,
                "no single media port to probe (ice.udp_mux off, or ice.udp_port 0 and "
                "so chosen at start-up: pass --udp-port); with random ports media gets "
                "through only where nothing filters UDP, or through TURN.",
            )
        ]
    hosts = media_hosts(settings)
    if not hosts:
        return [
            warn(
                MEDIA,
                f"no address to check port {port} on: neither ice.advertised_addresses nor "
                "public_url is set.",
                "set public_url, and ice.advertised_addresses when the server is behind NAT.",
            )
        ]
    return list(await asyncio.gather(*(_media_host(host, port, within) for host in hosts)))


async def _media_host(host: str, port: int, within: float) -> Check:
    where = f"{host}:{port}/udp"
    try:
        result = await probe(host, port, within)
    except OSError as error:
        return fail(MEDIA, f"{where}: cannot send there ({error}).", "correct the address.")
    if result.outcome is Outcome.ANSWERED:
        assert result.mapped is not None
        seen = f"{result.mapped[0]}:{result.mapped[1]}"
        return ok(MEDIA, f"{where} answers STUN (it sees this machine as {seen}).")
    if result.outcome is Outcome.ERROR:
        return ok(MEDIA, f"{where} is open and answers STUN ({result.error}).")
    start_it = (
        "start the server with ice.udp_mux on and ice.udp_port set to this port "
        "(VENUEBRIDGE_ICE_UDP_PORT)."
    )
    if result.outcome is Outcome.REFUSED:
        return fail(MEDIA, f"{where}: port closed, nothing listens there.", start_it)
    if is_local_address(host):
        return fail(
            MEDIA,
            f"{where}: no answer within {within:g} s although it is this machine's address.",
            f"a local firewall drops it (allow {port}/udp), or {start_it}",
        )
    return warn(
        MEDIA,
        f"{where}: no answer within {within:g} s from inside.",
        f"open {port}/udp in the firewall and forward it to this machine; a router may "
        "not loop its public address back inside (hairpin NAT), so check from outside too.",
    )


@dataclass(frozen=True, slots=True)
class TurnUrl:
    """A ``turn:``/``turns:`` URL (RFC 7065) as the client connects to it."""

    url: str
    secure: bool
    host: str
    port: int
    transport: str


def parse_turn_url(url: str) -> TurnUrl:
    """``turn:host[:port][?transport=udp|tcp]``; ``turns:`` is TLS over TCP."""
    scheme, _, rest = url.partition(":")
    secure = scheme == "turns"
    if scheme not in ("turn", "turns") or not rest:
        raise ValueError(f"'{url}' is not a turn: or turns: URL")
    address, _, query = rest.partition("?")
    transport = parse_qs(query).get("transport", ["tcp" if secure else "udp"])[0].lower()
    if transport not in ("udp", "tcp") or (secure and transport == "udp"):
        raise ValueError(f"'{url}': transport must be udp or tcp (tcp for turns:)")
    parts = urlsplit(f"//{address}")
    if not parts.hostname:
        raise ValueError(f"'{url}' names no host")
    return TurnUrl(url, secure, parts.hostname, parts.port or (5349 if secure else 3478), transport)


class _Relay(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def check_turn(settings: Settings, context: ssl.SSLContext, within: float) -> list[Check]:
    """A real Allocate on each TURN server with the credentials clients would get."""
    ice = settings.ice
    if not ice.turn_urls or not ice.turn_secret:
        return [
            skip(
                TURN,
                "no TURN server configured (ice.turn_urls): viewers whose networks block "
                "UDP cannot connect.",
            )
        ]
    username, password = turn_credentials(
        ice.turn_secret, DOCTOR_USER, int(time.time()) + ice.turn_credential_ttl
    )
    checks = (_allocate(url, username, password, context, within) for url in ice.turn_urls)
    return list(await asyncio.gather(*checks))


async def _allocate(
    url: str, username: str, password: str, context: ssl.SSLContext, within: float
) -> Check:
    name = f"{TURN} {url}"
    try:
        turn = parse_turn_url(url)
    except ValueError as error:
        return fail(name, str(error), "correct ice.turn_urls.")
    where = f"{turn.host}:{turn.port}/{turn.transport}"
    try:
        async with asyncio.timeout(within):
            transport, relay = await create_turn_endpoint(
                _Relay,
                server_addr=(turn.host, turn.port),
                username=username,
                password=password,
                ssl=context if turn.secure else None,
                transport=turn.transport,
            )
    except stun.TransactionFailed as refused:
        return _refused(name, refused.response.error_code, str(refused))
    except TimeoutError:
        return fail(
            name,
            f"no answer from {where} within {within:g} s.",
            f"check that coturn runs and listens there, and open {turn.port}/{turn.transport} "
            "in the firewall.",
        )
    except ConnectionRefusedError:
        return fail(name, f"{where}: connection refused, nothing listens there.", "start coturn.")
    except ssl.SSLError as error:
        return fail(name, f"{where}: TLS failed ({error}).", "check coturn's cert and pkey.")
    except (OSError, ConnectionError, stun.TransactionError) as error:
        return fail(name, f"{where}: {error}.", "check the address and that coturn runs.")
    relayed = transport.get_extra_info("sockname")
    transport.close()  # deletes the allocation (a REFRESH with lifetime 0)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            await relay.closed
    return ok(name, f"allocated a relay address ({relayed[0]}:{relayed[1]}) with REST credentials.")


def _refused(name: str, code: int | None, text: str) -> Check:
    if code == 401:
        return fail(
            name,
            "the server refused the credentials (401 Unauthorized).",
            "make ice.turn_secret (VENUEBRIDGE_ICE_TURN_SECRET) the same as coturn's "
            "static-auth-secret, with use-auth-secret on, and keep both clocks in sync.",
        )
    if code == 403:
        return fail(
            name,
            "the server forbids the allocation (403 Forbidden).",
            "check coturn's allowed/denied peer rules and user quotas.",
        )
    if code in (486, 508):
        return fail(
            name,
            f"the server cannot allocate ({text}).",
            "raise coturn's quotas (user-quota, total-quota) or widen min-port..max-port.",
        )
    return fail(name, f"the allocation failed ({text}).", "see coturn's log.")
