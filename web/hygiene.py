"""Per-request hygiene: a deadline for the request body, and security headers on answers.

The body deadline is a middleware that reads the body before the handler does: a client
that announces a body and trickles it is answered 408 after ``http_body_timeout_seconds``
instead of holding the handler. Bodies are small here (``client_max_size`` is 1 MiB), so
reading them up front costs nothing; handlers then get the buffered copy.

The headers go on every response, including error pages and static files:
scripts only from our own origin (the pages load ES modules; their inline
``<script type="application/json">`` blocks are data and are never executed), no framing
by anyone (the stage display is opened as its own full-screen window or browser source,
never inside another page), no MIME sniffing, and the referrer kept on our own site.
Camera and microphone stay allowed for our own pages (the publisher and the operator
console call ``getUserMedia``), so there is no ``Permissions-Policy`` restricting them.

A response to a request that came over TLS (our own, or a trusted proxy's, see
web/client.py) also carries ``Strict-Transport-Security``: the browser then refuses a
plain-HTTP visit to this host for a year, so a hostile network cannot strip TLS from the
invite cookie or the camera pages. Not on plain HTTP (browsers ignore it there, and a
set-up still on HTTP must be able to move), and not ``includeSubDomains``: other hosts
under the same domain are not ours to pin.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from web.client import request_is_https
from web.errors import Handler, http_error
from web.keys import PEERS, SETTINGS
from web.server import SERVER_NAME


def content_security_policy(peers: tuple[str, ...] = ()) -> str:
    """The pages' policy; ``peers``: other nodes' origins a steered page talks to."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            " ".join(("connect-src 'self'", *peers)),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Server": SERVER_NAME,
}
HSTS = "max-age=31536000"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the security headers, unless a handler set its own."""
    for name, value in SECURITY_HEADERS.items():
        if name == "Server":
            response.headers[name] = value
        else:
            response.headers.setdefault(name, value)
    # A page steered to another node (307) talks to that node: allow the directory's nodes.
    peers = request.app.get(PEERS)
    policy = response.headers.get("Content-Security-Policy")
    if peers is not None and peers.origins and policy == CONTENT_SECURITY_POLICY:
        response.headers["Content-Security-Policy"] = content_security_policy(peers.origins)
    if request_is_https(request):
        response.headers.setdefault("Strict-Transport-Security", HSTS)


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reads a request body within ``http_body_timeout_seconds``, else answers 408."""
    if request.body_exists:
        seconds = request.app[SETTINGS].http_body_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                await request.read()
        except TimeoutError:
            raise http_error(
                web.HTTPRequestTimeout, f"The request body did not arrive within {seconds} s."
            ) from None
    return await handler(request)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
