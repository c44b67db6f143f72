"""The pure parts of ``venuebridge doctor``: lines, STUN bytes, TURN URLs, verdicts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from aioice import stun
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config import IceSettings, Settings
from web.backends import without_password
from web.cli_common import listens_only_on_loopback, public_url_warning
from web.doctor.host_checks import STA_UNSYNC, TIME_ERROR, ClockState, clock_verdict
from web.doctor.media_checks import TurnUrl, media_hosts, media_port, parse_turn_url
from web.doctor.report import (
    Status,
    exit_code,
    fail,
    ok,
    skip,
    summary,
    warn,
)
from web.doctor.stun_probe import Outcome, binding_request, read_response
from web.doctor.web_checks import certificate_verdict

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_check_is_one_line_with_its_fix() -> None:
    line = fail("TURN turn:x", "refused\n(401).", "make the\tsecrets match.").line()
    assert line == "FAIL  TURN turn:x: refused (401). Fix: make the secrets match."
    assert ok("Redis", "answers.").line() == "OK    Redis: answers."
    # An OK line never carries a fix, even if one was given.
    assert "Fix" not in dataclasses.replace(ok("a", "b"), fix="c").line()


def test_any_fail_makes_the_exit_code_one_and_warnings_do_not() -> None:
    assert exit_code([ok("a", "b"), warn("c", "d", "e"), skip("f", "g")]) == 0
    assert exit_code([ok("a", "b"), fail("c", "d", "e")]) == 1
    checks = [ok("a", "b"), warn("c", "d", "e"), warn("f", "g", "h"), fail("i", "j", "k")]
    assert summary(checks) == "4 checks: 1 OK, 2 WARN, 1 FAIL"
    assert {status.value for status in Status} == {"OK", "WARN", "FAIL", "SKIP"}


def test_passwords_never_reach_the_output() -> None:
    assert without_password("redis://:s3cret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert without_password("rediss://app:s3cret@[::1]/1") == "rediss://app:***@[::1]/1"
    assert without_password("redis://redis:6379/0") == "redis://redis:6379/0"


def _response(request: stun.Message, message_class: stun.Class, **attributes: object) -> bytes:
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=message_class,
        transaction_id=request.transaction_id,
    )
    for name, value in attributes.items():
        response.attributes[name.replace("_", "-")] = value
    return bytes(response)


def test_the_binding_request_has_no_username_and_a_fingerprint() -> None:
    request = stun.parse_message(bytes(binding_request()))
    assert request.message_method == stun.Method.BINDING
    assert request.message_class == stun.Class.REQUEST
    assert "USERNAME" not in request.attributes
    assert "FINGERPRINT" in request.attributes
    assert binding_request().transaction_id != binding_request().transaction_id


def test_reading_the_answer_to_a_binding_request() -> None:
    request = binding_request()
    answer = _response(request, stun.Class.RESPONSE, XOR_MAPPED_ADDRESS=("203.0.113.5", 40000))
    result = read_response(answer, request.transaction_id)
    assert result is not None
    assert result.outcome is Outcome.ANSWERED
    assert result.mapped == ("203.0.113.5", 40000)
    error = _response(request, stun.Class.ERROR, ERROR_CODE=(400, "Bad Request"))
    refused = read_response(error, request.transaction_id)
    assert refused is not None
    assert refused.outcome is Outcome.ERROR
    assert refused.error == "error 400 Bad Request"
    # Someone else's transaction, noise and a truncated packet are ignored.
    assert read_response(answer, binding_request().transaction_id) is None
    assert read_response(b"\x17\x03\x03 not stun at all", request.transaction_id) is None
    assert read_response(answer[:10], request.transaction_id) is None


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("turn:turn.example.org", TurnUrl("", False, "turn.example.org", 3478, "udp")),
        ("turn:10.0.0.2:3479?transport=tcp", TurnUrl("", False, "10.0.0.2", 3479, "tcp")),
        ("turns:turn.example.org", TurnUrl("", True, "turn.example.org", 5349, "tcp")),
        ("turn:[2001:db8::2]:3478?transport=udp", TurnUrl("", False, "2001:db8::2", 3478, "udp")),
    ],
)
def test_turn_urls(url: str, parsed: TurnUrl) -> None:
    assert parse_turn_url(url) == dataclasses.replace(parsed, url=url)


@pytest.mark.parametrize(
    "url", ["stun:x", "turn:", "turn:x?transport=sctp", "turns:x?transport=udp", "turn::3478"]
)
def test_bad_turn_urls_say_so(url: str) -> None:
    with pytest.raises(ValueError, match="turn"):
        parse_turn_url(url)


def test_the_media_port_and_where_to_probe_it() -> None:
    settings = Settings(public_url="https://live.example.org")
    assert media_port(settings, 8189) == 8189
    assert media_hosts(settings) == ("live.example.org",)
    natted = dataclasses.replace(settings, ice=IceSettings(advertised_addresses=("198.51.100.4",)))
    assert media_hosts(natted) == ("198.51.100.4",)
    assert media_hosts(Settings()) == ()


def test_clock_verdicts() -> None:
    synced = clock_verdict(ClockState(0, 0, max_error_us=20_000, est_error_us=1_500))
    assert synced.status is Status.OK
    assert "1.5 ms" in synced.detail
    unsynced = clock_verdict(ClockState(TIME_ERROR, STA_UNSYNC, 16_000_000, 16_000_000))
    assert unsynced.status is Status.WARN
    assert "not synchronised" in unsynced.detail
    assert "NTP" in unsynced.fix
    # The bit alone counts too (a leap second pending returns another state).
    assert clock_verdict(ClockState(1, STA_UNSYNC, 0, 0)).status is Status.WARN
    drifting = clock_verdict(ClockState(0, 0, max_error_us=3_000_000, est_error_us=0))
    assert drifting.status is Status.WARN
    assert "3.0 s" in drifting.detail


def _certificate(not_after: datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "live.example.org")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_after - timedelta(days=90))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


def test_certificate_verdicts() -> None:
    host = "live.example.org"
    good = certificate_verdict(host, _certificate(NOW + timedelta(days=60)), None, NOW)
    assert good.status is Status.OK
    assert "60 days" in good.detail
    soon = certificate_verdict(host, _certificate(NOW + timedelta(days=10)), None, NOW)
    assert soon.status is Status.WARN
    assert "expires in 10 days" in soon.detail
    old = _certificate(NOW - timedelta(days=3))
    expired = certificate_verdict(host, old, "certificate has expired", NOW)
    assert expired.status is Status.FAIL
    assert "expired on 2026-11-28 (3 days ago)" in expired.detail
    selfsigned = certificate_verdict(
        host, _certificate(NOW + timedelta(days=60)), "self-signed certificate", NOW
    )
    assert selfsigned.status is Status.FAIL
    assert "--ca-file" in selfsigned.fix
    other = certificate_verdict(
        host, _certificate(NOW + timedelta(days=60)), "Hostname mismatch, not valid for", NOW
    )
    assert other.status is Status.FAIL
    assert host in other.fix


def test_serve_warns_without_a_public_url_only_beyond_loopback() -> None:
    assert [listens_only_on_loopback(h) for h in ("127.0.0.1", "::1", "localhost")] == [True] * 3
    assert [listens_only_on_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.4")] == [False] * 3
    warning = public_url_warning(Settings(host="0.0.0.0"))
    assert warning is not None
    assert "VENUEBRIDGE_PUBLIC_URL" in warning
    assert public_url_warning(Settings(host="127.0.0.1")) is None
    assert public_url_warning(Settings(host="0.0.0.0", public_url="https://x.org")) is None
