"""The media port's connectionless STUN and ICE names, bytes in and out, no sockets."""

from __future__ import annotations

from aioice import stun

from streaming.ice_candidates import host_candidate, tcp_candidate, unique_ufrag
from streaming.stun_answers import (
    PlainBindingAnswers,
    binding_response,
    is_binding_request,
    parse_stun,
)

PEER = ("192.0.2.7", 50123)


def binding_request() -> stun.Message:
    return stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)


def test_parse_stun_refuses_what_is_not_stun() -> None:
    request = bytes(binding_request())
    assert parse_stun(b"") is None
    assert parse_stun(request[:19]) is None  # shorter than a header
    assert parse_stun(request[:4] + b"\0\0\0\0" + request[8:]) is None  # no magic cookie
    assert parse_stun(request[:20] + b"\x00\x06\x00\x10") is None  # attribute cut short
    message = binding_request()
    parsed = parse_stun(bytes(message))
    assert parsed is not None
    assert is_binding_request(parsed)
    assert parsed.transaction_id == message.transaction_id


def test_the_answer_carries_the_address_the_request_came_from() -> None:
    request = binding_request()
    answer = parse_stun(binding_response(request, PEER))
    assert answer is not None
    assert not is_binding_request(answer)
    assert answer.message_class == stun.Class.RESPONSE
    assert answer.transaction_id == request.transaction_id
    assert answer.attributes["XOR-MAPPED-ADDRESS"] == PEER


def test_plain_answers_are_limited_per_second() -> None:
    now = [100.0]
    answers = PlainBindingAnswers(3, lambda: now[0])
    given = [answers.answer(binding_request(), PEER) for _ in range(5)]
    assert [a is not None for a in given] == [True, True, True, False, False]
    now[0] += 1.0  # a second later the bucket holds three again
    assert answers.answer(binding_request(), PEER) is not None


def test_candidates_rank_tcp_below_udp_and_fragments_do_not_repeat() -> None:
    udp, tcp = host_candidate(1, "10.0.0.5", 8189), tcp_candidate(1, "10.0.0.5", 8189)
    assert (udp.transport, tcp.transport, tcp.tcptype) == ("udp", "tcp", "passive")
    assert tcp.priority < udp.priority
    assert udp.foundation != tcp.foundation
    fragments = {unique_ufrag(serial) for serial in range(1, 5000)}
    assert len(fragments) == 4999
    assert all(len(fragment) >= 5 for fragment in fragments)
