"""The wire protocol, bytes in and typed messages out: no sockets, no event loop."""

from __future__ import annotations

import json

import pytest

from signaling.errors import BadMessage
from signaling.protocol import decode
from signaling.protocol import messages as m


def test_parses_each_message_into_its_frozen_type() -> None:
    message = decode('{"type": "ask", "v": 1, "ref": "r1", "room": "opening", "text": "Hi"}')
    assert message == m.Ask(ref="r1", room="opening", text="Hi")
    with pytest.raises(AttributeError):
        message.text = "changed"  # type: ignore[misc]
    assert decode(b'{"type":"next","room":"x"}') == m.Next(room="x")
    assert decode('{"type":"vote","room":"x","question":"q1","on":false}') == m.Vote(
        room="x", question="q1", on=False
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "not a JSON object"),
        ("{", "not a JSON object"),
        ("[]", "not a JSON object"),
        ('"join"', "not a JSON object"),
        ("{}", "message needs a 'type'"),
        ('{"type": "launch_missiles"}', "unknown message type"),
        ('{"type": "join", "room": "a", "extra": 1}', "unknown field"),
        ('{"type": "join", "room": "<script>"}', "invalid value at $.room"),
        ('{"type": "set_timer", "room": "a", "seconds": -1}', "invalid value at $.seconds"),
        ('{"type": "ask", "room": "a", "language": "fr"}', "invalid value at $.language"),
        ('{"type": "ask", "room": "a", "text": 5}', "invalid value at $.text"),
    ],
)
def test_malformed_input_is_a_bad_message(raw: str, reason: str) -> None:
    with pytest.raises(BadMessage) as error:
        decode(raw)
    assert error.value.code == "bad_message"
    assert error.value.message == reason


def test_other_protocol_versions_are_refused() -> None:
    with pytest.raises(BadMessage) as error:
        decode('{"type": "join", "v": 2, "room": "a"}')
    assert error.value.code == "unsupported_version"


def test_every_message_type_round_trips() -> None:
    for kind in m.ClientMessage.__args__:  # type: ignore[attr-defined]
        tag = kind.__struct_config__.tag
        assert isinstance(decode(json.dumps({"type": tag})), kind)
