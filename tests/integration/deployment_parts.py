"""Pieces of a deployment for the ``token`` and ``doctor`` tests: coturn, a STUN responder
standing in for the media port, a TLS terminator with certificates made here, the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import ssl
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import cast

from aioice import stun
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import eventually
from tests.media_peers import free_port


@dataclass(frozen=True, slots=True)
class Cli:
    code: int
    out: str
    err: str

    def line(self, start: str) -> str:
        """The one output line that starts with ``start`` (fails if none or several)."""
        found = [line for line in self.out.splitlines() if line.startswith(start)]
        assert len(found) == 1, f"no single line starting {start!r} in:\n{self.out}{self.err}"
        return found[0]


async def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Cli:
    """``venuebridge ARGS`` in its own process, as an operator would type it."""
    # The test process's environment, as server_process.serve passes it to the server.
    environment = dict(os.environ)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", *args, env={**environment, **(env or {})}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(90):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Cli(process.returncode, out.decode(), err.decode())


@contextlib.asynccontextmanager
async def running_coturn(directory: Path, secret: str) -> AsyncIterator[str]:
    """coturn on loopback with TURN REST secrets, as TESTING.md runs it; yields its URL."""
    port = free_port()
    low = random.randrange(50000, 60000, 200)
    process = await asyncio.create_subprocess_exec(
        "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
        f"--listening-port={port}", f"--min-port={low}", f"--max-port={low + 150}",
        "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=test",
        "--fingerprint", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
        f"--log-file={directory / 'turn.log'}", "--simple-log",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip

    def listening() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"turnserver exited; see {directory / 'turn.log'}")
        return f"0100007F:{port:04X}" in Path("/proc/net/udp").read_text()

    try:
        await eventually(listening, "turnserver to listen")
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        await process.wait()


class _StunResponder(asyncio.DatagramProtocol):
    """Answers a Binding request without USERNAME as the media port's mux does."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        if request.message_class != stun.Class.REQUEST or "USERNAME" in request.attributes:
            return
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        response.add_fingerprint()
        if self.transport is not None:
            self.transport.sendto(bytes(response), addr)


@contextlib.asynccontextmanager
async def stun_responder() -> AsyncIterator[int]:
    """A UDP port on 127.0.0.1 that answers STUN; yields the port."""
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        _StunResponder, local_addr=("127.0.0.1", 0)
    )
    try:
        yield int(transport.get_extra_info("sockname")[1])
    finally:
        transport.close()


@dataclass(frozen=True, slots=True)
class Issued:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


class TestCa:
    """A private CA in ``directory`` that issues certificates for 127.0.0.1."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("venuebridge test CA"))
            .issuer_name(_name("venuebridge test CA"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.file = directory / "ca.pem"
        self.file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, days: float, *, self_signed: bool = False) -> Issued:
        """A server certificate for 127.0.0.1 valid ``days`` from now (negative: expired)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_after = now + timedelta(days=days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(_name("127.0.0.1") if self_signed else self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now, not_after) - timedelta(days=30))
            .not_valid_after(not_after)
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                critical=False,
            )
        )
        cert = builder.sign(key if self_signed else self.key, hashes.SHA256())
        issued = Issued(self.directory / f"{name}.pem", self.directory / f"{name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued


@contextlib.asynccontextmanager
async def tls_terminator(issued: Issued, upstream_port: int) -> AsyncIterator[str]:
    """HTTPS on a free port in front of the server (as a proxy would be); yields its URL."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued.cert, issued.key)
    pipes: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        for task in (
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            pipes.add(task)
            task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        await server.wait_closed()
