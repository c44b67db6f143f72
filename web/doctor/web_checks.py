"""The public URL from outside the process: does it answer, and is its certificate good."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509

from config import Event, Settings
from web.cli_common import listens_only_on_loopback
from web.doctor.report import Check, fail, ok, skip, warn

NAME = "public URL"
CERT = "certificate"
# Under this many days left, a certificate is worth a warning (Caddy renews at 30).
EXPIRY_WARNING_DAYS = 14
SET_IT = (
    "set VENUEBRIDGE_PUBLIC_URL (or public_url) to the address browsers use, "
    "e.g. https://live.example.org, as the server has it."
)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs, or only ``ca_file`` (a private CA) when given."""
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


def _endpoint(public_url: str) -> tuple[str, int]:
    parts = urlsplit(public_url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "", parts.port or default


async def check_public_url(
    settings: Settings, event: Event, context: ssl.SSLContext, within: float
) -> Check:
    """GET ``{public_url}/healthz`` as a browser would, and check it is this event's server."""
    if not settings.public_url:
        return warn(
            NAME,
            "public_url is not set: pages link to whatever address each browser used, and "
            "`venuebridge token` can print only the path of an invite link.",
            SET_IT,
        )
    url = settings.public_url.rstrip("/") + "/healthz"
    host, port = _endpoint(settings.public_url)
    timeout = aiohttp.ClientTimeout(total=within)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, ssl=context, allow_redirects=False) as response,
        ):
            if response.status != 200:
                return _not_served(url, response.status, response.headers.get("Location"))
            body = await response.json(content_type=None)
    except aiohttp.ClientConnectorCertificateError as error:
        return fail(
            NAME,
            f"{url}: the TLS certificate was refused ({error.certificate_error}).",
            "see the certificate line below.",
        )
    except aiohttp.ClientConnectorDNSError:
        return fail(
            NAME,
            f"{url}: the name {host} does not resolve.",
            f"add a DNS record for {host} pointing at this server's public address.",
        )
    except aiohttp.ClientConnectorError as error:
        if isinstance(error.os_error, ConnectionRefusedError):
            return fail(
                NAME,
                f"{url}: connection refused, nothing listens on {host}:{port}.",
                "start the server (or the proxy in front of it) on that port, or correct "
                "public_url.",
            )
        return fail(NAME, f"{url}: cannot connect ({error.os_error}).", _open_port(port))
    except (TimeoutError, aiohttp.ServerTimeoutError):
        return fail(NAME, f"{url}: no answer within {within:g} s.", _open_port(port))
    except (aiohttp.ClientError, ValueError) as error:
        return fail(NAME, f"{url}: {error or type(error).__name__}.", _open_port(port))
    seen = body.get("event") if isinstance(body, dict) else None
    if seen != event.id:
        return fail(
            NAME,
            f"{url} answers, but for event {seen!r}, not {event.id!r}: another server.",
            "point public_url at this server, or run doctor with this server's --event.",
        )
    return ok(NAME, f"{url} answers (event {event.id}).")


def _open_port(port: int) -> str:
    return (
        f"open {port}/tcp in the firewall (and the cloud provider's security group) and "
        "check that the server or its proxy listens on it."
    )


def _not_served(url: str, status: int, location: str | None) -> Check:
    if 300 <= status < 400:
        return fail(
            NAME,
            f"{url} redirects (HTTP {status}) to {location}.",
            "set public_url to the address it redirects to (usually the https:// one).",
        )
    return fail(
        NAME,
        f"{url} answered HTTP {status}, not the server's health check.",
        "the proxy in front cannot reach the app, or forwards elsewhere: check its "
        "upstream address and that the app runs.",
    )


async def check_certificate(
    settings: Settings, context: ssl.SSLContext, within: float, now: datetime
) -> Check:
    """Verify the public URL's certificate; say how long it has left, or why it is refused."""
    if not settings.public_url:
        return skip(CERT, "no public URL to check.")
    host, port = _endpoint(settings.public_url)
    if urlsplit(settings.public_url).scheme != "https":
        if listens_only_on_loopback(host):
            return skip(CERT, f"{settings.public_url} is plain http on this machine only.")
        return warn(
            CERT,
            f"{settings.public_url} is plain http: browsers grant the camera and microphone "
            "only to https pages, so remote publishing and return feeds cannot work.",
            "serve https (tls_cert/tls_key, or the Caddy in docker/) and set public_url to "
            "the https:// address.",
        )
    try:
        der = await _peer_certificate(host, port, context, within)
        error = None
    except ssl.SSLCertVerificationError as refused:
        error = str(refused.verify_message or refused.reason or refused)
        try:
            der = await _peer_certificate(host, port, _unverified(), within)
        except (OSError, TimeoutError) as again:
            return fail(CERT, f"{host}:{port}: refused ({error}); then {again}.", "see above.")
    except ssl.SSLError as broken:
        return fail(
            CERT,
            f"{host}:{port}: no TLS handshake ({broken.reason or broken}).",
            f"that port does not speak TLS: serve https on {port} or correct public_url.",
        )
    except (OSError, TimeoutError) as unreachable:
        reason = str(unreachable) or f"no answer within {within:g} s"
        return skip(CERT, f"cannot reach {host}:{port} ({reason}): see the public URL line.")
    return certificate_verdict(host, x509.load_der_x509_certificate(der), error, now)


async def _peer_certificate(host: str, port: int, context: ssl.SSLContext, within: float) -> bytes:
    async with asyncio.timeout(within):
        _, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    try:
        tls = writer.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(within):
                await writer.wait_closed()
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return bytes(der)


def _unverified() -> ssl.SSLContext:
    # Only to read a refused certificate's dates and issuer for the message; never trusted.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def certificate_verdict(
    host: str, cert: x509.Certificate, error: str | None, now: datetime
) -> Check:
    """The words for a certificate: trusted and for how long, or refused and why."""
    expires = cert.not_valid_after_utc
    days = (expires - now.astimezone(UTC)).total_seconds() / 86400
    until = f"{expires:%Y-%m-%d}"
    issuer = cert.issuer.rfc4514_string()
    if error is None:
        if days < EXPIRY_WARNING_DAYS:
            return warn(
                CERT,
                f"{host}: trusted, but expires in {days:.0f} days ({until}).",
                "renew it now (Caddy renews by itself 30 days ahead: check its logs "
                "and that ports 80/443 reach it).",
            )
        return ok(CERT, f"{host}: trusted, valid until {until} ({days:.0f} days), issuer {issuer}.")
    lowered = error.lower()
    if "expired" in lowered or days < 0:
        return fail(
            CERT,
            f"{host}: expired on {until} ({-days:.0f} days ago).",
            "renew the certificate (tls_cert, or Caddy's storage) and reload the server "
            "(SIGHUP) or the proxy.",
        )
    if "self-signed" in lowered or "self signed" in lowered:
        return fail(
            CERT,
            f"{host}: not trusted ({error}; issuer {issuer}).",
            "use a certificate from a public CA (Caddy gets one by itself), or pass "
            "--ca-file with your own CA if every browser of the event trusts it.",
        )
    if "hostname" in lowered or "not valid for" in lowered:
        return fail(
            CERT,
            f"{host}: the certificate is for other names ({error}).",
            f"get a certificate that names {host}, or correct public_url.",
        )
    if "issuer" in lowered:
        return fail(
            CERT,
            f"{host}: not trusted ({error}; issuer {issuer}).",
            "serve the full chain (fullchain.pem, not cert.pem), or pass --ca-file if the "
            "issuer is your own CA.",
        )
    return fail(CERT, f"{host}: not trusted ({error}).", "replace the certificate.")
