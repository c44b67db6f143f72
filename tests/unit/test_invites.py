"""The invite form's checks, an invite's state, and the throttled last-use recorder."""

from __future__ import annotations

import pytest

from config import Event
from signaling.auth import Grant, Role
from signaling.auth.grants import PEOPLE_ROLES
from signaling.auth.revocation import Revocations, revoke_role, revoke_token
from signaling.errors import BadMessage
from signaling.invites import Invite, InviteRequest, LastUse, UseRecorder, parse_request
from tests.helpers import eventually


def _max_hours(role: Role) -> float:
    return {Role.ADMIN: 24.0, Role.DIRECTOR: 168.0}.get(role, 336.0)


def _parse(event: Event, **fields: str | list[str]) -> InviteRequest:
    form = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
    return parse_request(form, event, _max_hours, max_label_chars=20)


def _refusal(event: Event, **fields: str | list[str]) -> str:
    with pytest.raises(BadMessage) as refused:
        _parse(event, **fields)
    return refused.value.message


def test_each_role_takes_only_the_scope_it_needs(reference_event: Event) -> None:
    scopes = {
        "venue": "jp",
        "session": ["overseas-talents-summit"],
        "channel": ["gz-hall-1", "gz-hall-2"],
        "interpret_channel": "gz-hall-1",
        "interpret_lang": "ja",
    }
    made = {
        role.value: _parse(reference_event, role=role.value, label="x", hours="2", **scopes)
        for role in PEOPLE_ROLES
    }
    assert made["operator"].venue == "jp"
    assert made["operator"].channels == ()
    assert made["moderator"].sessions == ("overseas-talents-summit",)
    assert made["producer"].channels == ("gz-hall-1", "gz-hall-2")
    assert (made["interpreter"].channels, made["interpreter"].language) == (("gz-hall-1",), "ja")
    for role in ("viewer", "director", "admin"):
        request = made[role]
        assert (request.venue, request.sessions, request.channels) == (None, (), ())
    assert made["viewer"].ttl == 7200
    # A relay token is a node's credential: nobody is invited as one.
    with pytest.raises(BadMessage, match="choose a role"):
        _parse(reference_event, role="relay", label="x", hours="2")


def test_every_to_all_collapses_to_the_wildcard(reference_event: Event) -> None:
    request = _parse(
        reference_event, role="producer", label="x", hours="1", channel=["*", "gz-expo"]
    )
    assert request.channels == ("*",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "pope", "label": "x", "hours": "1"}, "choose a role: one of viewer, operator"),
        ({"role": "operator", "label": "x", "hours": "1"}, "an operator invite needs a venue"),
        ({"role": "operator", "label": "x", "hours": "1", "venue": "mars"}, "no venue 'mars'"),
        ({"role": "moderator", "label": "x", "hours": "1"}, "needs at least one session"),
        (
            {
                "role": "moderator",
                "label": "x",
                "hours": "1",
                "session": ["overseas-talents-summit", "nope"],
            },
            "no session 'nope'",
        ),
        (
            {"role": "moderator", "label": "x", "hours": "1", "session": "opening"},
            "'opening' has no Q&A to moderate",
        ),
        ({"role": "producer", "label": "x", "hours": "1"}, "needs at least one channel"),
        ({"role": "producer", "label": "x", "hours": "1", "channel": "tv"}, "no channel 'tv'"),
        ({"role": "viewer", "label": "", "hours": "1"}, "give the invite a label"),
        ({"role": "viewer", "label": "x" * 21, "hours": "1"}, "label is 21 characters; at most 20"),
        ({"role": "viewer", "label": "a\nb", "hours": "1"}, "line breaks"),
        ({"role": "viewer", "label": "x", "hours": ""}, "how many hours"),
        ({"role": "viewer", "label": "x", "hours": "soon"}, "'soon' is not a number of hours"),
        ({"role": "viewer", "label": "x", "hours": "0"}, "more than 0 hours"),
        ({"role": "viewer", "label": "x", "hours": "nan"}, "more than 0 hours"),
        ({"role": "admin", "label": "x", "hours": "25"}, "at most 24 hours (setting tokens.admin"),
        ({"role": ["viewer", "admin"], "label": "x", "hours": "1"}, "give one role, not 2"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    reference_event: Event, fields: dict[str, str | list[str]], message: str
) -> None:
    assert message in _refusal(reference_event, **fields)


def test_an_unknown_id_is_cut_short_in_the_message(reference_event: Event) -> None:
    message = _refusal(reference_event, role="operator", label="x", hours="1", venue="v" * 500)
    assert len(message) < 100


def _invite(role: str = "producer", **extra: object) -> Invite:
    fields: dict[str, object] = {
        "id": "abc",
        "role": role,
        "identity": "producer-1",
        "label": "Hall 1",
        "created_by": "admin",
        "created_at": 1000.0,
        "expires_at": 2000.0,
        "token": "t",
        "channels": ("gz-hall-1",),
    }
    fields.update(extra)
    return Invite(**fields)  # type: ignore[arg-type]


def test_an_invite_is_active_then_expired_and_revoked_wins() -> None:
    invite = _invite()
    revocations = Revocations()
    assert invite.state(revocations, 1500) == "active"
    assert invite.state(revocations, 2000) == "expired"
    revocations.add(revoke_token("abc", "admin", 1600))
    assert invite.state(revocations, 1700) == "revoked"
    assert invite.state(revocations, 2500) == "revoked"
    assert invite.scope() == "channels gz-hall-1"


def test_revoking_a_role_revokes_its_older_invites() -> None:
    revocations = Revocations()
    revocations.add(revoke_role(Role.PRODUCER, "admin", 1500))
    assert _invite().state(revocations, 1600) == "revoked"
    assert _invite(created_at=1501.0).state(revocations, 1600) == "active"
    assert _invite(role="viewer", channels=()).state(revocations, 1600) == "active"


class FakeValues:
    """The two value calls of the event store, counting writes."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes = 0

    async def put_value(self, key: str, value: str) -> None:
        self.writes += 1
        self.values[key] = value

    async def get_value(self, key: str) -> str | None:
        return self.values.get(key)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _grant(token_id: str | None = "abc", anonymous: bool = False) -> Grant:
    return Grant("p", Role.PRODUCER, channels=("x",), token_id=token_id, anonymous=anonymous)


async def test_a_busy_token_writes_once_per_flush() -> None:
    values, clock = FakeValues(), Clock()
    uses = UseRecorder(values, "e", interval=60, max_pending=10, clock=clock)
    for second in range(1000):
        clock.now = 100.0 + second / 10
        uses.note(_grant())
    assert await uses.flush() == 1
    assert values.writes == 1
    assert (await uses.last_uses(["abc"]))["abc"] == LastUse(joined=None, seen=199.9)
    assert await uses.flush() == 0  # nothing new: nothing written
    uses.note(_grant(), "joined")
    await uses.flush()
    assert (await uses.last_uses(["abc", "other"])) == {
        "abc": LastUse(joined=199.9, seen=199.9),
        "other": LastUse(),
    }


async def test_anonymous_visitors_and_the_ingest_key_are_not_noted() -> None:
    values = FakeValues()
    uses = UseRecorder(values, "e", interval=60, max_pending=10)
    uses.note(_grant(anonymous=True))
    uses.note(_grant(token_id=None))
    assert await uses.flush() == 0


async def test_pending_uses_are_capped_by_the_setting(caplog: pytest.LogCaptureFixture) -> None:
    values = FakeValues()
    uses = UseRecorder(values, "e", interval=60, max_pending=3)
    for n in range(10):
        uses.note(_grant(token_id=f"t{n}"))
    uses.note(_grant(token_id="t0"))  # one already pending is still refreshed
    assert (uses.dropped, await uses.flush()) == (7, 3)
    assert "7 invite uses not recorded" in caplog.text
    await uses.flush()
    assert caplog.text.count("not recorded") == 1  # said once, not every round


async def test_the_flusher_writes_on_its_own() -> None:
    values = FakeValues()
    uses = UseRecorder(values, "e", interval=0.01, max_pending=3)
    uses.start()
    uses.note(_grant(token_id="early"))
    await eventually(lambda: values.writes == 1, "the flusher to write the use", within=5)
    await uses.stop()


async def test_stopping_writes_what_is_pending() -> None:
    values = FakeValues()
    uses = UseRecorder(values, "e", interval=3600, max_pending=3)
    uses.start()
    uses.note(_grant(token_id="late"))
    await uses.stop()
    assert list(values.values) == ["invite-use:e:late:seen"]
