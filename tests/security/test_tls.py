"""Built-in HTTPS: the settings, serving with a certificate from a test CA, reloading it on
SIGHUP in a real ``venuebridge serve`` process, and HSTS only over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from config import Event, Settings, SettingsError, load_settings
from tests.helpers import eventually
from tests.media_peers import free_port
from tests.tls_certs import TestAuthority, serial_of
from web.app import create_app
from web.server import start_server
from web.tls import ServerCertificate

HSTS = "Strict-Transport-Security"


@pytest.fixture
def authority(tmp_path: Path) -> TestAuthority:
    return TestAuthority(tmp_path / "pki")


def test_tls_cert_and_key_go_together(tmp_path: Path) -> None:
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    settings = load_settings(environ={"VENUEBRIDGE_TLS_CERT": cert, "VENUEBRIDGE_TLS_KEY": key})
    assert (settings.tls_cert, settings.tls_key) == (Path(cert), Path(key))
    assert load_settings(environ={}).tls_cert is None
    for only in ({"VENUEBRIDGE_TLS_CERT": cert}, {"VENUEBRIDGE_TLS_KEY": key}):
        with pytest.raises(SettingsError, match="tls_cert and tls_key go together"):
            load_settings(environ=only)


def test_a_certificate_that_does_not_load_stops_start_up(
    tmp_path: Path, authority: TestAuthority
) -> None:
    leaf = authority.issue("server")
    with pytest.raises(SettingsError, match=r"cannot load .*No such file"):
        ServerCertificate(tmp_path / "missing.pem", leaf.key)
    other = authority.issue("other")
    with pytest.raises(SettingsError, match="cannot load"):
        ServerCertificate(leaf.cert, other.key)


async def test_a_bad_reload_keeps_the_old_pair(tmp_path: Path, authority: TestAuthority) -> None:
    first = authority.issue("server")
    certificate = ServerCertificate(first.cert, first.key)
    # A renewal caught half-way: the new certificate is there, its key is not yet.
    second = authority.issue("renewed")
    first.cert.write_bytes(second.cert.read_bytes())
    assert certificate.reload() is False
    assert certificate.reloads == 0
    assert await _served_serial(certificate.context, authority) == first.serial
    # Then the key arrives: the next reload takes the new pair.
    first.key.write_bytes(second.key.read_bytes())
    assert certificate.reload() is True
    assert await _served_serial(certificate.context, authority) == second.serial


async def _served_serial(context: ssl.SSLContext, authority: TestAuthority) -> int:
    """Serve ``context`` on a free loopback port for one handshake; the serial shown."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        return await _peer_serial(port, authority)
    finally:
        server.close()
        await server.wait_closed()


async def _peer_serial(port: int, authority: TestAuthority) -> int:
    _, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=authority.client_context(), server_hostname="localhost"
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        assert der is not None
        return serial_of(der)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()


@pytest.fixture
async def https_url(
    settings: Settings, reference_event: Event, authority: TestAuthority
) -> AsyncIterator[str]:
    leaf = authority.issue("server", ips=("127.0.0.1",))
    tls_settings = replace(settings, tls_cert=leaf.cert, tls_key=leaf.key)
    server = await start_server(create_app(tls_settings, reference_event), tls_settings)
    try:
        assert server.certificate is not None
        yield f"https://localhost:{server.port}"
    finally:
        await server.aclose()


async def test_pages_over_https_carry_hsts(https_url: str, authority: TestAuthority) -> None:
    connector = aiohttp.TCPConnector(ssl=authority.client_context())
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(f"{https_url}/healthz") as response:
            assert response.status == 200
            assert response.headers[HSTS] == "max-age=31536000"
        async with http.get(f"{https_url}/") as response:
            assert response.status == 200
            assert HSTS in response.headers
    # A client that does not trust our CA is refused by its own verification.
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(f"{https_url}/healthz")


async def test_plain_http_has_no_hsts(settings: Settings, reference_event: Event) -> None:
    plain = replace(settings, trusted_proxies=("127.0.0.1",))
    server = await start_server(create_app(plain, reference_event), plain)
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200
                assert HSTS not in response.headers
            # Behind a trusted TLS proxy the request did come over TLS: HSTS.
            forwarded = {"X-Forwarded-Proto": "https"}
            async with http.get(f"{url}/healthz", headers=forwarded) as response:
                assert response.headers[HSTS] == "max-age=31536000"
    finally:
        await server.aclose()


async def test_a_stranger_cannot_ask_for_hsts(settings: Settings, reference_event: Event) -> None:
    server = await start_server(create_app(settings, reference_event), settings)
    try:
        async with aiohttp.ClientSession() as http:
            forwarded = {"X-Forwarded-Proto": "https"}
            url = f"http://127.0.0.1:{server.port}/healthz"
            async with http.get(url, headers=forwarded) as response:
                assert HSTS not in response.headers
    finally:
        await server.aclose()


async def test_sighup_reloads_the_certificate_of_a_running_server(
    tmp_path: Path, authority: TestAuthority
) -> None:
    first = authority.issue("server")
    cert, key = tmp_path / "live.pem", tmp_path / "live-key.pem"
    cert.write_bytes(first.cert.read_bytes())
    key.write_bytes(first.key.read_bytes())
    port = free_port()
    env = {
        **os.environ,
        "VENUEBRIDGE_TLS_CERT": str(cert),
        "VENUEBRIDGE_TLS_KEY": str(key),
        "VENUEBRIDGE_LOG_LEVEL": "INFO",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(tmp_path / "data"), env=env, stderr=log_file, stdout=log_file,
        )  # fmt: skip
    try:

        async def serial() -> int | None:
            try:
                return await _peer_serial(port, authority)
            except OSError:
                return None

        async def shows(expected: int) -> bool:
            assert process.returncode is None, log.read_text()
            return await serial() == expected

        await eventually(lambda: shows(first.serial), "the first certificate", within=30)
        assert "on https://127.0.0.1:" in log.read_text()

        second = authority.issue("renewed")
        cert.write_bytes(second.cert.read_bytes())
        key.write_bytes(second.key.read_bytes())
        # Not re-read until told: the served certificate is still the first.
        assert await serial() == first.serial
        process.send_signal(signal.SIGHUP)
        await eventually(lambda: shows(second.serial), "the renewed certificate after SIGHUP")

        # A broken key: logged, the process stays up and keeps serving the second pair.
        key.write_text("not a key\n")
        process.send_signal(signal.SIGHUP)
        await eventually(
            lambda: "TLS certificate not reloaded" in log.read_text(), "the reload error"
        )
        assert await shows(second.serial)
    finally:
        process.terminate()
        await process.wait()
    assert process.returncode == 0, log.read_text()


async def test_serve_stops_with_a_clear_message_when_the_pair_does_not_load(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "VENUEBRIDGE_TLS_CERT": str(tmp_path / "missing.pem"),
        "VENUEBRIDGE_TLS_KEY": str(tmp_path / "missing-key.pem"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", "0",
        "--data-dir", str(tmp_path / "data"), env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "cannot load" in err.decode()
    assert "missing.pem" in err.decode()
