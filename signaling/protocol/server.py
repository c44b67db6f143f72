"""Server -> client frames: frozen structs in one tagged union, and the one encoder.

Every frame is ``{"type": ..., ...}``. A field with a default is left out of the JSON
while it holds that default (``ref`` only when the client sent one, ``queue`` only for
moderators); a field without a default is always written, ``null`` included, because
pages read those keys. Question views stay plain mappings: their shape depends on the
audience (see ``signaling.qa.fanout``), and only the Q&A core builds them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from signaling.protocol.wsframe import text_frame

QuestionView = dict[str, Any]


class Frame:
    """One server frame as JSON text, turned into UTF-8 and into a websocket frame once
    however many clients it goes to."""

    __slots__ = ("_data", "_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._data: bytes | None = None
        self._wire: bytes | None = None

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.text.encode()
        return self._data

    @property
    def wire(self) -> bytes:
        """The whole websocket text frame (header and payload), as every socket gets it."""
        if self._wire is None:
            self._wire = text_frame(self.data)
        return self._wire


class ServerFrame(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="type"):
    """The envelope every server frame shares: its ``type`` tag."""


class RehearsalTime(msgspec.Struct, frozen=True, kw_only=True):
    """The server's rehearsal clock: event time = ``virtual + (now - real) * speed``."""

    real: str
    virtual: str
    speed: float


class Welcome(ServerFrame, frozen=True, kw_only=True, tag="welcome"):
    """The first frame on every socket: who the server thinks this page is."""

    v: int
    identity: str
    role: str
    venue: str | None
    sessions: list[str]
    channels: list[str]
    node: str
    # Only for an anonymous viewer: kept by the page so its votes survive a reconnect.
    token: str | None = None
    # Only in a rehearsal: every time the server sends is on this clock, pages run it too.
    rehearsal: RehearsalTime | None = None


class Ack(ServerFrame, frozen=True, kw_only=True, tag="ack"):
    """A message was carried out; ``of`` names it, ``ref`` echoes the client's id."""

    of: str = ""
    ref: str | None = None


class JoinAck(Ack, frozen=True, kw_only=True, tag="ack"):
    room: str
    event_id: int
    moderator: bool


class QuestionAck(Ack, frozen=True, kw_only=True, tag="ack"):
    """An ask or a moderation: the event number and the question it was about."""

    event_id: int
    question: str | None


class VoteAck(Ack, frozen=True, kw_only=True, tag="ack"):
    event_id: int


class RouteAck(Ack, frozen=True, kw_only=True, tag="ack"):
    venue: str
    channel: str | None
    session: str | None


class AutomationAck(Ack, frozen=True, kw_only=True, tag="ack"):
    venue: str
    automation: str


class SourceAck(Ack, frozen=True, kw_only=True, tag="ack"):
    """A director's failover choice was handed to the media plane."""

    channel: str
    source: str


class LanguageAck(Ack, frozen=True, kw_only=True, tag="ack"):
    """A venue output's language was set (``changed`` false: it already played it)."""

    venue: str
    language: str | None
    changed: bool


class TalkbackAck(Ack, frozen=True, kw_only=True, tag="ack"):
    venue: str


class Error(ServerFrame, frozen=True, kw_only=True, tag="error"):
    """The one shape of every error."""

    code: str
    message: str
    ref: str | None = None


class Timer(msgspec.Struct, frozen=True, kw_only=True):
    seconds: int
    started_at: float | None


class RoomState(msgspec.Struct, frozen=True, kw_only=True):
    """Room-level state every page may see."""

    mode: str
    stage: str | None
    timer: Timer


class Snapshot(ServerFrame, frozen=True, kw_only=True, tag="snapshot"):
    """A room as one client may see it: all of it, or what changed since a replay point."""

    room: str
    event_id: int
    full: bool
    state: RoomState
    questions: list[QuestionView]
    removed: list[str]
    my_votes: list[str]
    queue: list[str] | None = None  # moderators only
    replayed: int | None = None  # replays only


class RoomFrame(ServerFrame, frozen=True, kw_only=True, tag="room"):
    """Room-level state after it changed."""

    room: str
    event_id: int
    mode: str
    stage: str | None
    timer: Timer


class QuestionFrame(ServerFrame, frozen=True, kw_only=True, tag="question"):
    room: str
    event_id: int
    question: QuestionView


class QuestionRemoved(ServerFrame, frozen=True, kw_only=True, tag="question_removed"):
    """A question this audience could see is hidden from it now."""

    room: str
    event_id: int
    id: str


class Notice(ServerFrame, frozen=True, kw_only=True, tag="notice"):
    """Told to the asker alone, e.g. why their question was dismissed."""

    room: str
    event_id: int
    kind: str
    question: str
    reason: str


class Presence(ServerFrame, frozen=True, kw_only=True, tag="presence"):
    viewers_by_channel: dict[str, int]
    viewers_by_venue: dict[str, int]
    operators_by_venue: dict[str, int]
    moderators_by_room: dict[str, int]
    connections: int


class RouteView(msgspec.Struct, frozen=True, kw_only=True):
    channel: str | None
    session: str | None
    by: str
    requested_at: str


class VenueRouting(msgspec.Struct, frozen=True, kw_only=True):
    venue: str
    automation: str
    held_by_director: bool
    requested: RouteView | None
    on_air: RouteView | None
    on_air_since: str | None
    # The output shows the slate: nothing routed, black, or its source lost.
    slate: bool
    off_air_since: str | None
    # The node serving the venue's output (None: the routing node) and whether it is up
    # (None: not known, or served by the routing node itself).
    home: str | None = None
    home_up: bool | None = None
    # The language track the output plays (None: the floor); always written.
    language: str | None


class ChannelHealth(msgspec.Struct, frozen=True, kw_only=True):
    """A channel's source health, as the media plane last reported it."""

    state: str  # "live" | "lost" | "idle"
    since: str | None
    source: str | None  # "primary" | "backup"
    backup_ready: bool
    # Language -> the interpreter on air in that booth now (no key: nobody, the floor).
    interpreters: dict[str, str] = msgspec.field(default_factory=dict)
    # The language the floor speaks now (the session's first); None: not known.
    floor_language: str | None = None


class Routing(ServerFrame, frozen=True, kw_only=True, tag="routing"):
    """The routing matrix: what each venue output was asked for and what is on air,
    and the health of every channel."""

    venues: list[VenueRouting]
    channels: dict[str, ChannelHealth]


class Talkback(ServerFrame, frozen=True, kw_only=True, tag="talkback"):
    """A line between a venue's operators and the directors."""

    venue: str
    from_: str = msgspec.field(name="from")
    identity: str
    name: str  # the sender's display name
    text: str
    at: float


class TalkbackHistory(ServerFrame, frozen=True, kw_only=True, tag="talkback_history"):
    """On connect: the last talkback lines this page may hear, oldest first."""

    lines: list[Talkback]


class CaptionFrame(ServerFrame, frozen=True, kw_only=True, tag="caption"):
    """One caption line of a session in one language, as every watching page gets it."""

    session: str
    language: str
    seq: int
    text: str
    at: float
    by: str


class CaptionHistory(ServerFrame, frozen=True, kw_only=True, tag="caption_history"):
    """On ``watch_captions``: the last lines said before, oldest first."""

    session: str
    language: str
    lines: list[CaptionFrame]


class CaptionAck(Ack, frozen=True, kw_only=True, tag="ack"):
    """A captioner's lines were kept and sent: their numbers."""

    session: str
    language: str
    seqs: list[int]


AnyFrame = (
    Welcome
    | Ack
    | Error
    | Snapshot
    | RoomFrame
    | QuestionFrame
    | QuestionRemoved
    | Notice
    | Presence
    | Routing
    | Talkback
    | TalkbackHistory
    | CaptionFrame
    | CaptionHistory
)

_encoder = msgspec.json.Encoder()


def encode_frame(frame: ServerFrame) -> Frame:
    """A server frame as JSON text (non-ASCII kept as is, no HTML meaning anywhere)."""
    return Frame(_encoder.encode(frame).decode())


def as_json(frame: ServerFrame) -> dict[str, Any]:
    """The frame as plain JSON values, for an HTTP body that serves the same shape."""
    data: dict[str, Any] = msgspec.to_builtins(frame)
    return data
