"""The sections of the settings (``[ice]``, ``[media]``, ``[node]``...): one frozen
dataclass each, and the checks that belong to a section alone.

``config.settings`` reads and validates them; they live here so that module stays about
reading (defaults, file, environment) rather than about every knob. The control plane's
limits (``[limits]``, ``[tokens]``, ``[invites]``) are ``config/limit_settings.py``; the
error and the check helper every section uses, ``config/setting_checks.py``. Both are
importable from here as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.limit_settings import (
    ControlLimits,
    InviteSettings,
    TokenSettings,
    validate_invites,
    validate_limits,
    validate_tokens,
)
from config.setting_checks import SettingsError, has_host, section_check

__all__ = [
    "MAX_HOME_VENUES",
    "NODE_ID",
    "NODE_ID_RULE",
    "REGION",
    "REGION_RULE",
    "VENUE_ID",
    "ControlLimits",
    "FailoverSettings",
    "HealthSettings",
    "IceSettings",
    "InviteSettings",
    "MediaSettings",
    "NodeSettings",
    "RelaySettings",
    "SettingsError",
    "TokenSettings",
    "has_host",
    "section_check",
    "validate_ice",
    "validate_invites",
    "validate_limits",
    "validate_media",
    "validate_node",
    "validate_relay",
    "validate_tokens",
]

# Node ids go into Redis keys, URLs and logs: a short plain name.
NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
# A venue id as event files spell them (config/event_file.py).
VENUE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
MAX_HOME_VENUES = 64
NODE_ID_RULE = "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
REGION = re.compile(r"[a-z0-9-]{0,32}")
REGION_RULE = "at most 32 lower-case letters, digits or '-' (like cn, us, eu, jp)"


@dataclass(frozen=True, slots=True)
class IceSettings:
    """What the media plane tells aiortc and hands to clients for ICE."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    # coturn's ``static-auth-secret``: clients get time-limited REST-style credentials.
    turn_secret: str | None = None
    turn_credential_ttl: int = 86400
    # Addresses written into our candidates instead of the interface ones (NAT, cloud).
    advertised_addresses: tuple[str, ...] = ()
    # All media of the process on one UDP socket (streaming/udp_mux.py): a firewall
    # needs one rule. 0 picks a free port at start-up (tests).
    udp_mux: bool = True
    udp_port: int = 8189
    # Answers to plain STUN binding requests (no ICE username) on the media port, per
    # second: lets ``venuebridge doctor`` see the port open, without making us a reflector.
    stun_answers_per_second: int = 20
    # ICE over TCP (RFC 6544) on the same port number, for networks that drop UDP; and
    # how many TCP connections may wait unauthenticated for their first check.
    # None: on whenever udp_mux is.
    tcp_mux: bool | None = None
    tcp_pending_max: int = 256
    # Without the mux: each connection's socket on a port in this range (both or neither);
    # neither means any free port.
    udp_port_min: int | None = None
    udp_port_max: int | None = None


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Admission control for WHEP sessions and how long a session may take to connect."""

    # Every WHEP session (channel players and venue outputs together).
    max_sessions: int = 1000
    # Per channel, and per venue output.
    max_sessions_per_channel: int = 500
    # Per client address; a venue behind one NAT may need more.
    max_sessions_per_address: int = 50
    # Session set-ups per client address: a token bucket refilled at this rate.
    setup_rate_per_minute: int = 120
    setup_burst: int = 20
    # A WHIP or WHEP session whose ICE/DTLS has not connected by then is ended.
    connect_timeout_seconds: int = 20
    # Interpreter sessions (WHIP ?lang=) open at once in one booth (a channel and a
    # language) on this process: a real booth has two or three interpreters, and a page
    # that reconnects may leave its old session for a while; a leaked token cannot open
    # peer connections without end.
    max_interpreters_per_booth: int = 8
    # A player's switch message (POST {session}/language): this many at once, then per
    # minute, per WHEP session; each one moves its writer and re-bases its audio.
    language_switch_burst: int = 10
    language_switches_per_minute: int = 60
    # Long links: a subscriber keeps RTT x 4 of packets for NACKs, at most this many
    # (each slot pins a packet; 4096 is about 16 s of a 2.5 Mbit/s stream).
    nack_history_max_packets: int = 4096
    # A lost packet is NACKed again until this old, then left to a keyframe request.
    nack_give_up_ms: int = 1500
    # Raw loss over the last second above this: ask for a keyframe, not only NACKs.
    keyframe_loss_percent: int = 15
    # Send each packet's copies with one native call (SRTP + sendmmsg) when the module
    # was built (scripts/setup.sh); false, or not built: one sendto per packet.
    native_send: bool = True
    # With native_send: a subscriber's packets of one video frame leave together, as one
    # UDP GSO message (all subscribers' in one sendmmsg). They wait for the frame's last
    # packet, at most frame_hold_ms (a frame whose last packet was lost). False: packet by
    # packet, as soon as each arrives.
    frame_send: bool = True
    frame_hold_ms: int = 15


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """When a channel's source counts as lost."""

    # Seconds without media from the publisher on air.
    lost_after: float = 1.0


@dataclass(frozen=True, slots=True)
class FailoverSettings:
    """When outputs move to a channel's backup publisher and back."""

    # Seconds the primary must be lost before the backup goes on air.
    after: float = 2.0
    # "auto": back to the primary as soon as it returns; "confirm": when the director says.
    mode: str = "auto"


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """This node among several (``[node]``): its name, region and address, and its heartbeat.

    With Redis each node writes a directory entry that lives ``ttl_seconds`` unless the
    next heartbeat (every ``heartbeat_seconds``) refreshes it: a dead node drops out alone.
    """

    # None: derived from the host name (config/node.py), the same after a restart.
    id: str | None = None
    # Free text naming where the node is ("cn", "us", "eu", "jp", "kr", "cis").
    region: str = ""
    # This node's public base URL; None means ``public_url``.
    url: str | None = None
    heartbeat_seconds: float = 3.0
    ttl_seconds: float = 10.0
    # On Redis, a WHIP/WHEP POST meant for another node answers 307 to it (web/steering.py).
    steering: bool = True
    # The pass a 307 carries (``access_token=``) for that one request lives this long.
    pass_seconds: float = 60.0
    # The venues this node is home to (their outputs are served here), over the event
    # file's ``home_node``: a deployment moves a venue by changing one node's settings.
    venues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RelaySettings:
    """``[relay]``: pull channels from an upstream node (an edge of an origin).

    ``upstream`` unset: on Redis a channel is pulled from the node the directory names as
    its holder; without Redis nothing is pulled. Each pull carries this node's own relay
    token (signed with the secret the nodes share, lives ``token_ttl_seconds``, renewed at
    half-life); ``token`` overrides it for an upstream with another secret (a ``relay``
    token minted there).
    """

    upstream: str | None = None
    token: str | None = None
    token_ttl_seconds: float = 600.0
    # A pull stays up this long after its last local viewer leaves.
    grace_seconds: float = 30.0
    # A WHEP request for a channel being pulled waits this long before a 409.
    wait_seconds: float = 5.0
    # No media on a pull for this long: it is re-established.
    stall_seconds: float = 5.0
    # The longest pause between two attempts to re-establish a broken pull.
    retry_max_seconds: float = 10.0
    # Repair hold on pulled video: packets after a hole wait for its retransmission,
    # at most this long (the hold itself follows the link's RTT); 0 turns it off.
    repair_hold_ms: int = 1000
    # Packets a pull's video may hold behind holes; a sequence jump this far flushes.
    repair_hold_max_packets: int = 2048


def validate_node(node: NodeSettings) -> None:
    check = section_check("node.")

    if node.id is not None:
        check("id", NODE_ID.fullmatch(node.id) is not None, NODE_ID_RULE)
    check("region", REGION.fullmatch(node.region) is not None, REGION_RULE)
    if node.url is not None:
        check("url", node.url.startswith(("http://", "https://")), "must start with http(s)://")
        check("url", has_host(node.url), "needs a host (and a port <= 65535)")
    check("heartbeat_seconds", 0.1 <= node.heartbeat_seconds <= 60, "must be 0.1 to 60 seconds")
    check("pass_seconds", 5 <= node.pass_seconds <= 300, "must be 5 to 300 seconds")
    check(
        "ttl_seconds",
        2 * node.heartbeat_seconds <= node.ttl_seconds <= 600,
        "must be at least twice node.heartbeat_seconds and at most 600 seconds",
    )
    check("venues", len(node.venues) <= MAX_HOME_VENUES, f"at most {MAX_HOME_VENUES} venues")
    for venue in node.venues:
        check("venues", VENUE_ID.fullmatch(venue) is not None, f"'{venue[:70]}' is not a venue id")
    check("venues", len(set(node.venues)) == len(node.venues), "names a venue twice")


def validate_relay(relay: RelaySettings) -> None:
    check = section_check("relay.")

    if relay.upstream is not None:
        check(
            "upstream",
            relay.upstream.startswith(("http://", "https://")) and has_host(relay.upstream),
            "must be an http:// or https:// URL with a host (the node to pull from)",
        )
    check("grace_seconds", 0 <= relay.grace_seconds <= 86400, "must be between 0 and 86400")
    check("wait_seconds", 0 <= relay.wait_seconds <= 60, "must be between 0 and 60")
    check("stall_seconds", 1 <= relay.stall_seconds <= 600, "must be between 1 and 600")
    check("retry_max_seconds", 1 <= relay.retry_max_seconds <= 600, "must be between 1 and 600")
    check("repair_hold_ms", 0 <= relay.repair_hold_ms <= 5000, "must be between 0 and 5000")
    check(
        "repair_hold_max_packets",
        16 <= relay.repair_hold_max_packets <= 16384,
        "must be between 16 and 16384",
    )
    check("token_ttl_seconds", 30 <= relay.token_ttl_seconds <= 3600, "must be between 30 and 3600")


def validate_ice(ice: IceSettings) -> None:
    check = section_check("")

    for url in ice.stun_urls:
        check("ice.stun_urls", url.startswith(("stun:", "stuns:")), f"'{url}' is not a stun: URL")
    for url in ice.turn_urls:
        check("ice.turn_urls", url.startswith(("turn:", "turns:")), f"'{url}' is not a turn: URL")
    check(
        "ice.turn_secret",
        not ice.turn_urls or ice.turn_secret is not None,
        "is required when ice.turn_urls is set",
    )
    check("ice.turn_credential_ttl", ice.turn_credential_ttl > 0, "must be positive")
    low, high = ice.udp_port_min, ice.udp_port_max
    check(
        "ice.udp_port_min",
        (low is None) == (high is None),
        "ice.udp_port_min and ice.udp_port_max go together",
    )
    if low is not None and high is not None:
        check("ice.udp_port_min", 1024 <= low <= high <= 65535, "need 1024 <= min <= max <= 65535")
    check(
        "ice.udp_port_min",
        low is None or not ice.udp_mux,
        "a port range is for ice.udp_mux = false; the mux uses the one port ice.udp_port",
    )
    check("ice.udp_port", 0 <= ice.udp_port <= 65535, "must be between 0 and 65535")
    check(
        "ice.tcp_mux",
        ice.udp_mux or ice.tcp_mux is not True,
        "ICE-TCP shares the mux's port: it needs ice.udp_mux = true",
    )
    check("ice.tcp_pending_max", 1 <= ice.tcp_pending_max <= 100_000, "must be 1 to 100000")
    check(
        "ice.stun_answers_per_second",
        1 <= ice.stun_answers_per_second <= 10_000,
        "must be between 1 and 10000",
    )


def validate_media(media: MediaSettings) -> None:
    for name in (
        "max_sessions",
        "max_sessions_per_channel",
        "max_sessions_per_address",
        "setup_rate_per_minute",
        "setup_burst",
        "max_interpreters_per_booth",
        "language_switch_burst",
        "language_switches_per_minute",
    ):
        if not 1 <= getattr(media, name) <= 1_000_000:
            raise SettingsError(f"setting 'media.{name}': must be between 1 and 1000000")
    if not 1 <= media.connect_timeout_seconds <= 600:
        raise SettingsError("setting 'media.connect_timeout_seconds': must be between 1 and 600")
    # Below half the 16-bit sequence space, so a slot never holds an ambiguous packet.
    if not 64 <= media.nack_history_max_packets <= 16384:
        raise SettingsError("setting 'media.nack_history_max_packets': must be 64 to 16384")
    if not 100 <= media.nack_give_up_ms <= 10000:
        raise SettingsError("setting 'media.nack_give_up_ms': must be 100 to 10000")
    if not 1 <= media.keyframe_loss_percent <= 100:
        raise SettingsError("setting 'media.keyframe_loss_percent': must be 1 to 100")
    # A frame at 30 fps lasts 33 ms; holding longer only delays a broken one.
    if not 1 <= media.frame_hold_ms <= 100:
        raise SettingsError("setting 'media.frame_hold_ms': must be 1 to 100")
