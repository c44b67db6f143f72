"""The control plane's limits: abuse limits of the websocket and the Q&A (``[limits]``),
token lifetimes per role (``[tokens]``) and the invite page's bounds (``[invites]``).

Every one of them is a whole number with a range; each section has its check here.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.setting_checks import section_check


@dataclass(frozen=True, slots=True)
class ControlLimits:
    """Abuse limits of the control plane (``[limits]``): the websocket, identities, votes."""

    # Every /ws frame takes one token from its connection's bucket; a join takes more.
    ws_message_burst: int = 60
    ws_messages_per_second: int = 20
    ws_join_cost: int = 10
    # Frames refused in a row (over the rate) before the socket is closed.
    ws_refused_before_close: int = 50
    # A slow consumer: a socket whose unsent backlog passes ws_outbox_kib, or stays
    # non-empty for ws_send_timeout_seconds, is closed (code 4408) instead of waited for.
    ws_outbox_kib: int = 1024
    ws_send_timeout_seconds: int = 5
    # Anonymous identities minted per client address: room for a venue NAT full of phones.
    anonymous_burst_per_address: int = 500
    anonymous_per_address_per_minute: int = 300
    vote_burst_per_identity: int = 20
    votes_per_identity_per_minute: int = 60
    vote_burst_per_address: int = 600
    votes_per_address_per_minute: int = 600
    # Votes on one question from one address within the window that flag it to moderators.
    suspect_votes_per_address: int = 50
    suspect_window_seconds: int = 60
    # Output-language changes (``set_output_language``): a few clicks at once, never a
    # stream of them (each one re-bases a venue output and is written to the records).
    language_burst_per_identity: int = 10
    language_changes_per_identity_per_minute: int = 30
    language_burst_per_address: int = 30
    language_changes_per_address_per_minute: int = 120


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """Token lifetimes per role (``[tokens]``, in hours) and how revocations spread."""

    viewer_max_hours: int = 720
    operator_max_hours: int = 336
    moderator_max_hours: int = 336
    producer_max_hours: int = 336
    director_max_hours: int = 168
    admin_max_hours: int = 24
    # A node's relay token (``venuebridge token --role relay``, for ``relay.token``).
    relay_max_hours: int = 168
    captioner_max_hours: int = 336
    # An interpreter's token (``venuebridge token --role interpreter --channel C --lang L``).
    interpreter_max_hours: int = 336
    # Every node re-reads the revocation list this often (the CLI writes it to the store).
    revocation_refresh_seconds: int = 5

    def max_hours(self, role: str) -> int:
        """The longest lifetime a token of ``role`` may have, in hours."""
        hours: int = getattr(self, f"{role}_max_hours")
        return hours


@dataclass(frozen=True, slots=True)
class InviteSettings:
    """The invite page (``[invites]``): how many, how long a label, how often a use is saved."""

    # Invites not yet expired (revoked ones included, until they expire) per event.
    max_per_event: int = 500
    max_label_chars: int = 80
    # A token's last use is written at most once per this many seconds per node.
    last_use_seconds: int = 60


def validate_limits(limits: ControlLimits) -> None:
    """Every ``[limits]`` value is 1 to 1000000."""
    check = section_check("limits.")

    for name in ControlLimits.__dataclass_fields__:
        value = getattr(limits, name)
        check(name, 1 <= value <= 1_000_000, "must be between 1 and 1000000")


def validate_tokens(tokens: TokenSettings) -> None:
    """Every ``[tokens]`` value is 1 to 87600 (for a lifetime, ten years in hours)."""
    check = section_check("tokens.")

    for name in TokenSettings.__dataclass_fields__:
        value = getattr(tokens, name)
        check(name, 1 <= value <= 87_600, "must be between 1 and 87600")


def validate_invites(invites: InviteSettings) -> None:
    """The ``[invites]`` bounds, each in its own range."""
    check = section_check("invites.")

    check("max_per_event", 1 <= invites.max_per_event <= 100_000, "must be 1 to 100000")
    check("max_label_chars", 1 <= invites.max_label_chars <= 200, "must be 1 to 200")
    check("last_use_seconds", 1 <= invites.last_use_seconds <= 3600, "must be 1 to 3600")
