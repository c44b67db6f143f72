"""Read-only pictures of the media plane, built only when someone asks for one.

The hub owns its sessions, sources and venue outputs; stats, metrics and the control
plane's routing read these frozen copies instead, so nobody outside the hub can change
(or trip over) its state, and the packet path never pays for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from streaming.ports import SourceRole, SourceState, SwitchEvent

# (feed label, "video" | "audio", counter name) -> value
CounterKey = tuple[str, str, str]


def _kind(video: bool) -> str:
    return "video" if video else "audio"


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """One channel's source: is it live, who publishes it, can a player start at once."""

    id: str
    live: bool
    publisher: str | None  # the session id of the publisher on air
    consumers: int  # writers and venue outputs reading the source
    has_cached_keyframe: bool  # a group of pictures is cached for late joiners
    health: SourceState = "idle"
    since: datetime | None = None  # when it entered ``health`` (None: idle since start)
    source: SourceRole | None = None  # the publisher on air: primary or backup
    backup_ready: bool = False  # a live backup publisher is connected
    backup: str | None = None  # the backup publisher's session id
    lost_total: int = 0  # times the channel was lost


@dataclass(frozen=True, slots=True)
class VenueOutputSnapshot:
    """One venue output: what the director routed, what is on air, who watches."""

    venue: str
    routed_channel: str | None
    on_air_channel: str | None
    consumers: int
    last_switch: SwitchEvent | None
    on_slate: bool = False  # the venue's slate is on air
    language: str | None = None  # the language track the output plays (None: the floor)


@dataclass(frozen=True, slots=True)
class PublisherTrackSnapshot:
    """One track a publisher sends, with its rates over the last sampled second."""

    video: bool
    bitrate_bps: float
    fps: float
    packets: int
    packets_lost: int
    nacks_sent: int
    keyframes: int
    frames: int
    # Long-haul repair (video): NACKs asked again, holes repaired by a retransmission,
    # holes given up, keyframes asked for because of loss, RTT seen from NACK to repair.
    nack_retries: int = 0
    repaired: int = 0
    given_up: int = 0
    keyframes_wanted: int = 0
    repair_rtt_s: float | None = None
    loss_fraction: float = 0.0  # of the last receiver report we sent
    freeze_s: float = 0.0  # time without decodable video (streaming/link_health.py)
    freezes: int = 0

    @property
    def kind(self) -> str:
        """``"video"`` or ``"audio"``."""
        return _kind(self.video)


@dataclass(frozen=True, slots=True)
class PublisherSnapshot:
    """One WHIP session."""

    id: str
    channel: str
    state: str
    live: bool  # this session is the channel's publisher now
    time_to_first_keyframe_s: float | None
    keyframe_requests_sent: int
    tracks: tuple[PublisherTrackSnapshot, ...]


@dataclass(frozen=True, slots=True)
class SubscriberTrackSnapshot:
    """One track a subscriber plays, with its rates over the last sampled second."""

    video: bool
    bitrate_bps: float
    fps: float
    packets_sent: int
    bytes_sent: int
    keyframes_sent: int
    packets_lost: int
    nacks_received: int
    retransmitted: int
    keyframe_requests: int
    queue_drops: int
    queued: int
    rtt_s: float | None
    send_errors: int
    loss_fraction: float = 0.0  # of the subscriber's last receiver report
    nack_history: int = 0  # packets kept for retransmission, sized to the RTT

    @property
    def kind(self) -> str:
        """``"video"`` or ``"audio"``."""
        return _kind(self.video)

    def counters(self) -> dict[str, int]:
        """The cumulative counters that metrics sum per feed, by metric name."""
        return {
            "packets_sent": self.packets_sent,
            "bytes_sent": self.bytes_sent,
            "queue_drops": self.queue_drops,
            "nacks_received": self.nacks_received,
            "retransmitted": self.retransmitted,
            "keyframe_requests": self.keyframe_requests,
        }


@dataclass(frozen=True, slots=True)
class SubscriberSnapshot:
    """One WHEP session; ``feed`` is ``channel:<id>`` or ``venue:<id>``."""

    id: str
    feed: str
    state: str
    time_to_first_frame_s: float | None
    tracks: tuple[SubscriberTrackSnapshot, ...]


@dataclass(frozen=True, slots=True)
class FirstFrames:
    """Offer-to-first-frame times of every subscriber so far (the recent ones kept)."""

    count: int
    total_seconds: float
    recent: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Audience:
    """Players now, per venue output and per channel."""

    per_venue: Mapping[str, int]
    per_channel: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class MediaSnapshot:
    """Everything ``/api/streams`` and ``/metrics`` show, taken at one moment."""

    video_codec: str
    channels: tuple[ChannelSnapshot, ...]
    venues: tuple[VenueOutputSnapshot, ...]
    publishers: tuple[PublisherSnapshot, ...]
    subscribers: tuple[SubscriberSnapshot, ...]
    ended_totals: Mapping[CounterKey, int]  # counters of subscribers that have ended
    first_frames: FirstFrames
    # Admission control: WHEP set-ups refused, by reason; sessions that never connected.
    refused: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    reaped: int = 0
    relays: tuple[RelaySnapshot, ...] = ()  # this node's pulls from upstream nodes


@dataclass(frozen=True, slots=True)
class RelaySnapshot:
    """One relay pull of this node: a channel taken from an upstream node over WHEP."""

    channel: str
    upstream: str | None
    state: str  # connecting | live | retrying | no upstream
    attempts: int  # WHEP sessions opened upstream for this link
    last_error: str | None
    local_viewers_wanted: bool  # False: in its grace period, ending unless one comes
    bitrate_bps: float
    packets: int
    packets_lost: int
    keyframe_requests_sent: int  # PLIs sent upstream
    # The link's health, from its video track (see PublisherTrackSnapshot).
    rtt_s: float | None = None
    loss_fraction: float = 0.0
    nacks_sent: int = 0
    retransmissions: int = 0  # lost packets repaired by the upstream's retransmission
    keyframes_for_loss: int = 0
    freeze_s: float = 0.0
    freezes: int = 0
    # The repair hold of its video (``streaming/relay_hold.py``); zeros when off.
    hold_s: float = 0.0
    held_packets: int = 0  # packets that waited behind a hole
    holes_repaired_in_hold: int = 0  # holes filled before what followed was released
    hold_skipped: int = 0  # sequence numbers given up after the hold
    hold_longest_wait_s: float = 0.0
