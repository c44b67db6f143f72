"""Thousands of random and malformed messages: only error (or ack) frames, nothing breaks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.errors import BadMessage
from signaling.protocol import decode
from signaling.protocol import messages as m
from tests.control.support import Node
from tests.helpers import eventually

TYPES = [kind.__struct_config__.tag for kind in m.ClientMessage.__args__]  # type: ignore[attr-defined]
ROOM = "overseas-talents-summit"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from([ROOM, "opening", "q1", "q2", "zh", "en", "open", "sub_venue", "", "<b>"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["room", "text", "question", "into", "on", "reason", "language", "origin", "mode",
     "seconds", "last_event_id", "v", "ref", "name", "channel", "venue", "zzz"]
)  # fmt: skip
plausible = st.builds(
    lambda kind, fields: json.dumps({"type": kind, **fields}),
    st.sampled_from([*TYPES, "nope", ""]),
    st.dictionaries(field_names, json_values, max_size=5),
)
garbage = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    json_values.map(json.dumps),
)
frames = st.one_of(plausible, plausible, garbage)


@settings(max_examples=3000, deadline=None)
@given(frames)
def test_decode_only_ever_returns_a_message_or_raises_bad_message(raw: str) -> None:
    outcome: m.Message | BadMessage
    try:
        outcome = decode(raw)
    except BadMessage as error:
        outcome = error
    if isinstance(outcome, BadMessage):
        assert outcome.code in {"bad_message", "unsupported_version"}
        assert len(outcome.message) < 200
    else:
        assert isinstance(outcome, m.Message)


async def test_thousands_of_random_frames_over_one_socket(node: Node) -> None:
    moderator = await node.joined(ROOM, node.token("admin", "fuzzer"))
    viewer = await node.joined(ROOM)
    sent: list[str] = []

    @settings(
        max_examples=2000,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(frames)
    def collect(raw: str) -> None:
        sent.append(raw)

    collect()
    # Sent in bursts, each answered before the next: a client that never reads would
    # rightly be dropped as too slow (its outbox fills), which is not what this tests.
    for client, share in ((moderator, sent[::2]), (viewer, sent[1::2])):
        for start in range(0, len(share), 100):
            burst = share[start : start + 100]
            expected = len(_replies(client)) + len(burst)
            for raw in burst:
                await client.ws.send_str(raw)
            await eventually(
                lambda c=client, n=expected: len(_replies(c)) >= n, "a reply to every frame"
            )
    for client in (moderator, viewer):
        for frame in _replies(client):
            assert frame["type"] in {"ack", "error"}
            if frame["type"] == "error":
                assert set(frame) <= {"type", "code", "message", "ref"}
                assert frame["code"] != "internal", frame
        assert not client.ws.closed
    final = await viewer.request({"type": "join", "room": ROOM})
    assert final["type"] == "ack"
    health = await node.http.get("/healthz")
    assert health.status == 200


def _replies(client: Any) -> list[dict[str, Any]]:
    # Replies to unref'd frames carry no ref; count every ack/error after the join ack.
    return [f for f in client.frames if f["type"] in {"ack", "error"}][1:]
