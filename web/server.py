"""How the app is put on a socket: the one server construction for ``serve`` and tests.

``start_server`` builds aiohttp's runner with our keep-alive and header-size limits, and
listens through ``GuardedConnection`` (web/connections.py): the connection cap and the
request-head deadline. The body deadline is a middleware (web/hygiene.py) because only
a handler knows when it reads a body. With ``tls_cert``/``tls_key`` it serves HTTPS
(web/tls.py), and ``serve_until_signalled`` re-reads the certificate on SIGHUP.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import signal
import socket
from dataclasses import dataclass

from aiohttp import web, web_response

from config import Settings
from web.connections import ConnectionBudget, guarded_factory, log_accept_errors_once_per
from web.logs import one_line_bad_requests, redact_passes
from web.tls import ServerCertificate

logger = logging.getLogger(__name__)

ACCEPT_ERROR_LOG_INTERVAL = 10.0
SHUTDOWN_TIMEOUT = 5.0
# aiohttp's defaults (8190 bytes a line or header, 128 headers) stay: they bound memory.
SERVER_NAME = "venuebridge"


def hide_server_banner() -> None:
    """aiohttp names Python's and its own version in ``Server:`` on every response,
    including the 400s it writes for malformed requests before any middleware runs; the
    only hook for those is the module constant it reads."""
    setattr(web_response, "SERVER_SOFTWARE", SERVER_NAME)  # noqa: B010 (not exported)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections pass through ``GuardedConnection`` first."""

    __slots__ = ("_header_timeout", "_host", "_port", "_reuse_port", "budget", "certificate")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        settings: Settings,
        certificate: ServerCertificate | None = None,
        *,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner)
        self._host, self._port, self._reuse_port = host, port, reuse_port
        self.budget = ConnectionBudget(settings.http_max_connections)
        self._header_timeout = float(settings.http_header_timeout_seconds)
        self.certificate = certificate

    @property
    def name(self) -> str:
        scheme = "https" if self.certificate is not None else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        tls = self.certificate.context if self.certificate is not None else None
        self._server = await loop.create_server(
            guarded_factory(server, self.budget, self._header_timeout),
            self._host,
            self._port,
            reuse_address=True,
            # Several workers each listen on the one port; the kernel spreads connections.
            reuse_port=self._reuse_port or None,
            ssl=tls,
            # The head deadline starts after the handshake: bound the handshake the same way.
            ssl_handshake_timeout=self._header_timeout if tls is not None else None,
        )


@dataclass
class RunningServer:
    """The app on its socket: where it listens, its connection budget, how to stop it."""

    runner: web.AppRunner
    site: GuardedSite

    @property
    def port(self) -> int:
        return int(self.runner.addresses[0][1])

    @property
    def budget(self) -> ConnectionBudget:
        return self.site.budget

    @property
    def certificate(self) -> ServerCertificate | None:
        return self.site.certificate

    async def aclose(self) -> None:
        await self.runner.cleanup()


async def start_server(
    app: web.Application,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> RunningServer:
    """Serve ``app`` on ``host:port`` (default: the settings') with the edge limits;
    ``reuse_port`` (SO_REUSEPORT) lets several worker processes share the port."""
    hide_server_banner()
    one_line_bad_requests()
    redact_passes()
    log_accept_errors_once_per(ACCEPT_ERROR_LOG_INTERVAL, asyncio.get_running_loop())
    _warn_about_file_limit(settings.http_max_connections)
    runner = web.AppRunner(
        app,
        keepalive_timeout=float(settings.http_keepalive_seconds),
        access_log=logging.getLogger("aiohttp.access"),
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    certificate = None
    if settings.tls_cert is not None and settings.tls_key is not None:
        # Before the runner: a certificate that does not load stops start-up cleanly.
        certificate = ServerCertificate(settings.tls_cert, settings.tls_key)
    await runner.setup()
    site = GuardedSite(
        runner,
        settings.host if host is None else host,
        settings.port if port is None else port,
        settings,
        certificate,
        reuse_port=reuse_port,
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return RunningServer(runner, site)


async def serve_until_signalled(
    app: web.Application, settings: Settings, private: socket.socket | None = None
) -> None:
    """``venuebridge serve``: run until SIGINT or SIGTERM, then shut down gracefully.

    SIGHUP re-reads the TLS certificate and key (when serving HTTPS) without a restart.
    A worker of several (``private``: its bound loopback socket) shares the public port
    and also serves on its private listener, for its siblings (web/workers.py).
    """
    server = await start_server(app, settings, reuse_port=private is not None)
    if private is not None:
        await web.SockSite(server.runner, private).start()
    # Everything built so far (modules, the event, the app) lives as long as the process:
    # move it out of the collector's sight, so a full collection with thousands of
    # websockets open walks only what can actually become garbage (shorter pauses).
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    certificate = server.certificate
    # Without TLS, SIGHUP is still taken (and logged), so a reload sent to the wrong
    # process does not kill it: SIGHUP's default action ends a process.
    loop.add_signal_handler(signal.SIGHUP, _reload, certificate)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        await server.aclose()


def _reload(certificate: ServerCertificate | None) -> None:
    if certificate is None:
        logger.warning("SIGHUP: no tls_cert/tls_key configured, nothing to reload")
        return
    certificate.reload()


def _warn_about_file_limit(max_connections: int) -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Media sessions, the store and the log need descriptors too: keep a margin.
    if soft != resource.RLIM_INFINITY and max_connections > soft - 64:
        logger.warning(
            "http_max_connections is %d but the file limit is %d: raise the limit "
            "(ulimit -n) or lower the setting, or accept() will fail first",
            max_connections,
            soft,
        )
