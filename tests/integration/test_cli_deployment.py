"""``venuebridge token`` and ``doctor`` against a running server (issue 12, item 5).

Each test starts a real ``venuebridge serve``; Redis is a real redis-server, TURN a real
coturn, HTTPS a TLS terminator with certificates made here. The CLI runs in its own
process from another folder, as an operator would run it beside the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from config import IceSettings
from tests.integration.deployment_parts import (
    Cli,
    TestCa,
    run_cli,
    running_coturn,
    stun_responder,
    tls_terminator,
)
from tests.integration.server_process import ServerProcess, serve
from tests.media_peers import free_port, needs_network, non_loopback_ipv4
from tests.redis_server import running_redis
from web.auth import COOKIE

TURN_SECRET = "doctor-coturn-secret"
PUBLIC = "https://live.example.org"
APPEND_ONLY = ("--save", "", "--appendonly", "yes")


def _token_and_link(result: Cli) -> tuple[str, str]:
    assert result.code == 0, result.err
    token, link = result.out.split()
    return token, link


async def _accepted(server: ServerProcess, token: str) -> bool:
    """Whether the running server signs this token's holder in (the invite link works)."""
    async with server.http.get(
        f"{server.url}/join", params={"token": token}, allow_redirects=False
    ) as response:
        return response.status == 303 and f"{COOKIE}=" in response.headers.get("Set-Cookie", "")


async def test_token_from_another_folder_uses_the_servers_key_and_public_url(
    tmp_path: Path,
) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with serve(data) as server:
        # The server was started with --port; the link does not care: it is the public URL.
        minted = await run_cli(
            "token", "--role", "director", "--public-url", PUBLIC,
            env={"VENUEBRIDGE_DATA_DIR": str(data)}, cwd=elsewhere,
        )  # fmt: skip
        token, link = _token_and_link(minted)
        assert link == f"{PUBLIC}/join?token={token}"
        assert await _accepted(server, token)
        assert not await _accepted(server, token[:-4] + "AAAA")

        # From another folder without --data-dir: refused, naming where it looked and how
        # to point it at the server's; nothing is created there.
        lost = await run_cli("token", "--role", "viewer", cwd=elsewhere)
        assert lost.code == 2
        assert lost.out == ""
        assert f"no signing key (signing.key) in {elsewhere.resolve() / 'data'}" in lost.err
        assert "--data-dir" in lost.err
        assert "VENUEBRIDGE_DATA_DIR" in lost.err
        revoked = await run_cli("revoke", "--role", "viewer", cwd=elsewhere)
        assert revoked.code == 2
        assert "no signing key" in revoked.err
        assert list(elsewhere.iterdir()) == []

        # No public URL known at all: the path only, and a warning that says so.
        bare = await run_cli("token", "--role", "viewer", "--data-dir", str(data), cwd=elsewhere)
        token, link = _token_and_link(bare)
        assert link == f"/join?token={token}"
        assert "no public URL is known" in bare.err
        assert "--public-url" in bare.err
        assert await _accepted(server, token)


async def test_token_on_a_shared_redis_reads_the_key_there_and_creates_none(
    tmp_path: Path,
) -> None:
    (tmp_path / "redis").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_redis(tmp_path / "redis") as redis_url:
        shared = {"VENUEBRIDGE_REDIS_URL": redis_url}
        early = await run_cli("token", "--role", "admin", env=shared, cwd=elsewhere)
        assert early.code == 2
        assert "no signing key on the Redis" in early.err
        assert "coet2018" in early.err
        redis = Redis.from_url(redis_url)
        try:
            assert await redis.dbsize() == 0  # neither key nor anything else was written
        finally:
            await redis.aclose()
        assert list(elsewhere.iterdir()) == []

        async with serve(tmp_path / "data", env=shared) as server:
            minted = await run_cli(
                "token", "--role", "admin", "--public-url", PUBLIC, env=shared, cwd=elsewhere
            )
            token, link = _token_and_link(minted)
            assert link.startswith(f"{PUBLIC}/join?token=")
            assert await _accepted(server, token)
            assert list(elsewhere.iterdir()) == []  # the key on Redis was enough


@pytest.mark.requires("coturn")
async def test_doctor_passes_on_a_healthy_deployment(tmp_path: Path) -> None:
    (tmp_path / "redis").mkdir()
    data = tmp_path / "data"
    with running_redis(tmp_path / "redis", APPEND_ONLY) as redis_url:
        env = {
            "VENUEBRIDGE_REDIS_URL": redis_url,
            "VENUEBRIDGE_ICE_TURN_URLS": "",
            "VENUEBRIDGE_ICE_TURN_SECRET": TURN_SECRET,
        }
        async with (
            running_coturn(tmp_path, TURN_SECRET) as turn_url,
            stun_responder() as media_port,
            serve(data, env=env) as server,
        ):
            # The same coturn over UDP and over TCP (the fallback for venues that block UDP).
            tcp_url = turn_url.replace("transport=udp", "transport=tcp")
            env["VENUEBRIDGE_ICE_TURN_URLS"] = f"{turn_url},{tcp_url}"
            result = await run_cli(
                "doctor", "--data-dir", str(data), "--public-url", server.url,
                "--udp-port", str(media_port), "--timeout", "5", env=env, cwd=tmp_path,
            )  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert result.line("OK    public URL:") == (
        f"OK    public URL: {server.url}/healthz answers (event coet2018)."
    )
    assert "plain http on this machine only" in result.line("SKIP  certificate:")
    assert result.line("OK    media UDP:").startswith(
        f"OK    media UDP: 127.0.0.1:{media_port}/udp answers STUN (it sees this machine as "
        "127.0.0.1:"
    )
    assert "allocated a relay address (127.0.0.1:" in result.line(f"OK    TURN {turn_url}:")
    assert "allocated a relay address (127.0.0.1:" in result.line(f"OK    TURN {tcp_url}:")
    assert "keeps an append-only file" in result.line("OK    Redis:")
    assert result.line("OK    signing key:") == (
        "OK    signing key: shared on Redis (venuebridge:coet2018:secret)."
    )
    assert "is writable" in result.line("OK    data dir:")
    # Whether this machine's kernel clock is disciplined is not ours to decide here.
    clock = result.line("OK    clock:") if "OK    clock" in result.out else result.line("WARN")
    assert "clock:" in clock
    assert result.out.splitlines()[-1].startswith("9 checks: ")


@pytest.mark.requires("coturn")
async def test_doctor_says_what_to_fix(tmp_path: Path) -> None:
    empty = tmp_path / "not-the-data-dir"
    empty.mkdir()
    closed_tcp, closed_udp, no_redis = free_port(), free_port(2), free_port()
    async with (
        running_coturn(tmp_path, TURN_SECRET) as turn_url,
        serve(tmp_path / "data") as server,
    ):
        env = {
            "VENUEBRIDGE_REDIS_URL": f"redis://:hunter2@127.0.0.1:{no_redis}/0",
            "VENUEBRIDGE_ICE_TURN_URLS": turn_url,
            "VENUEBRIDGE_ICE_TURN_SECRET": "not-the-coturn-secret",
        }
        broken = await run_cli(
            "doctor", "--data-dir", str(empty), "--public-url", f"http://127.0.0.1:{closed_tcp}",
            "--udp-port", str(closed_udp), "--timeout", "3", env=env, cwd=tmp_path,
        )  # fmt: skip
        # The server's own address, but another (empty) data dir: no signing key there.
        other_dir = await run_cli(
            "doctor", "--data-dir", str(empty), "--public-url", server.url, cwd=tmp_path
        )
    assert broken.code == 1
    assert broken.line("FAIL  public URL:").startswith(
        f"FAIL  public URL: http://127.0.0.1:{closed_tcp}/healthz: connection refused, nothing "
        f"listens on 127.0.0.1:{closed_tcp}. Fix: start the server"
    )
    assert broken.line("FAIL  media UDP:").startswith(
        f"FAIL  media UDP: 127.0.0.1:{closed_udp}/udp: port closed, nothing listens there. "
        "Fix: start the server with ice.udp_mux on"
    )
    assert broken.line(f"FAIL  TURN {turn_url}:") == (
        f"FAIL  TURN {turn_url}: the server refused the credentials (401 Unauthorized). "
        "Fix: make ice.turn_secret (VENUEBRIDGE_ICE_TURN_SECRET) the same as coturn's "
        "static-auth-secret, with use-auth-secret on, and keep both clocks in sync."
    )
    assert broken.line("FAIL  Redis:").startswith(
        f"FAIL  Redis: redis://:***@127.0.0.1:{no_redis}/0 does not answer ("
    )
    assert "hunter2" not in broken.out + broken.err
    assert "Fix: start Redis, or correct redis_url" in broken.line("FAIL  Redis:")

    assert other_dir.code == 1
    assert other_dir.line("OK    public URL:")
    assert other_dir.line("FAIL  signing key:") == (
        f"FAIL  signing key: no signing.key in {empty}: the server has not started with this "
        "data dir, so no invite link from here would work. Fix: start the server once, or "
        "point doctor at the server's with --data-dir or VENUEBRIDGE_DATA_DIR."
    )


@pytest.mark.parametrize(
    ("days", "self_signed", "expected"),
    [
        (60, False, "OK    certificate: 127.0.0.1: trusted, valid until"),
        (10, False, "WARN  certificate: 127.0.0.1: trusted, but expires in 10 days"),
        (-2, False, "FAIL  certificate: 127.0.0.1: expired on"),
        (60, True, "FAIL  certificate: 127.0.0.1: not trusted (self-signed certificate;"),
    ],
)
async def test_doctor_checks_the_certificate(
    tmp_path: Path, days: int, self_signed: bool, expected: str
) -> None:
    ca = TestCa(tmp_path)
    issued = ca.issue("server", days, self_signed=self_signed)
    async with serve(tmp_path / "data") as server:
        port = int(server.url.rsplit(":", 1)[1])
        async with tls_terminator(issued, port) as https:
            result = await run_cli(
                "doctor", "--data-dir", str(tmp_path / "data"), "--public-url", https,
                "--ca-file", str(ca.file), "--timeout", "5", cwd=tmp_path,
            )  # fmt: skip
    line = result.line(expected.split(":", 1)[0] + ":")
    assert line.startswith(expected), result.out
    if expected.startswith("OK"):
        assert result.line("OK    public URL:").startswith(f"OK    public URL: {https}/healthz")
        assert result.code == 0, result.out
    elif expected.startswith("FAIL"):
        assert "the TLS certificate was refused" in result.line("FAIL  public URL:")
        assert result.code == 1


async def test_serve_warns_when_it_listens_everywhere_without_a_public_url(
    tmp_path: Path,
) -> None:
    environment = {"VENUEBRIDGE_LOG_LEVEL": "INFO"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web", "serve", "--host", "0.0.0.0", "--port", str(free_port()),
        "--data-dir", str(tmp_path / "data"), env={**os.environ, **environment},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        async with asyncio.timeout(30):
            while line := (await process.stderr.readline()).decode():
                if "public_url is not set" in line:
                    assert "VENUEBRIDGE_PUBLIC_URL" in line
                    break
            else:
                raise AssertionError("serve exited without the warning")
    finally:
        if process.returncode is None:
            process.terminate()
        with contextlib.suppress(ProcessLookupError):
            await process.wait()


async def test_doctor_refuses_bad_options(tmp_path: Path) -> None:
    result = await run_cli("doctor", "--timeout", "0")
    assert result.code == 2
    assert "not a number of seconds" in result.err
    missing = await run_cli("doctor", "--ca-file", str(tmp_path / "nowhere.pem"))
    assert missing.code == 2
    assert f"--ca-file {tmp_path / 'nowhere.pem'}: cannot use it" in missing.err
    assert missing.out == ""


@pytest.mark.skipif(
    "udp_mux" not in IceSettings.__dataclass_fields__,
    reason="the single-port media mux (issue 12, item 1) is not merged on this branch yet",
)
@needs_network
async def test_doctor_sees_the_servers_own_media_port(tmp_path: Path) -> None:
    # The mux listens on the host's addresses (not loopback): the address browsers are
    # told, as a deployment behind NAT advertises its public one.
    address = non_loopback_ipv4()
    assert address is not None
    media = {
        "VENUEBRIDGE_ICE_UDP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "VENUEBRIDGE_ICE_ADVERTISED_ADDRESSES": address,
    }
    async with serve(tmp_path / "data", env=media) as server:
        # The port from the settings, as the server has it: no --udp-port.
        result = await run_cli(
            "doctor", "--data-dir", str(tmp_path / "data"), "--public-url", server.url,
            env=media, cwd=tmp_path,
        )  # fmt: skip
    port = media["VENUEBRIDGE_ICE_UDP_PORT"]
    assert result.line("OK    media UDP:").startswith(
        f"OK    media UDP: {address}:{port}/udp answers STUN (it sees this machine as"
    )


async def test_doctor_warns_of_a_redis_that_keeps_nothing_and_misses_the_key(
    tmp_path: Path,
) -> None:
    (tmp_path / "redis").mkdir()
    with running_redis(tmp_path / "redis") as redis_url:  # --save '' --appendonly no
        result = await run_cli(
            "doctor", "--data-dir", str(tmp_path), env={"VENUEBRIDGE_REDIS_URL": redis_url},
            cwd=tmp_path,
        )  # fmt: skip
    assert result.code == 1
    assert result.line("WARN  Redis:") == (
        f"WARN  Redis: {redis_url} answers PING, but keeps nothing on disk: a restart loses "
        "the as-run records, the revocations and the shared signing key (every invite stops "
        "working). Fix: set appendonly yes, with a volume for its data."
    )
    assert result.line("FAIL  signing key:").startswith(
        "FAIL  signing key: none on Redis for event 'coet2018': no server of this event has "
        "started on it, or Redis lost it"
    )
