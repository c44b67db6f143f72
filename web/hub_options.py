"""The control plane's limits as the settings give them (``create_app`` uses this)."""

from __future__ import annotations

from config import Settings
from signaling.captions.lines import CaptionLimits
from signaling.hub import HubOptions
from signaling.protocol.budget import MessageRate
from signaling.qa.limits import Limits, Rate


def hub_options_for(settings: Settings) -> HubOptions:
    """The control plane's limits as the settings (``[limits]``, ``[tokens]``) give them."""
    limits = settings.limits
    return HubOptions(
        limits=Limits(
            vote_per_identity=Rate(
                limits.vote_burst_per_identity, limits.votes_per_identity_per_minute
            ),
            vote_per_address=Rate(
                limits.vote_burst_per_address, limits.votes_per_address_per_minute
            ),
            anonymous_per_address=Rate(
                limits.anonymous_burst_per_address, limits.anonymous_per_address_per_minute
            ),
            language_per_identity=Rate(
                limits.language_burst_per_identity,
                limits.language_changes_per_identity_per_minute,
            ),
            language_per_address=Rate(
                limits.language_burst_per_address,
                limits.language_changes_per_address_per_minute,
            ),
            suspect_votes=limits.suspect_votes_per_address,
            suspect_window=float(limits.suspect_window_seconds),
        ),
        messages=MessageRate(
            burst=limits.ws_message_burst,
            per_second=float(limits.ws_messages_per_second),
            join_cost=limits.ws_join_cost,
            refused_before_close=limits.ws_refused_before_close,
        ),
        revocation_refresh=float(settings.tokens.revocation_refresh_seconds),
        max_backlog=limits.ws_outbox_kib * 1024,
        send_timeout=float(limits.ws_send_timeout_seconds),
        captions=CaptionLimits(
            max_line_chars=settings.captions.max_line_chars,
            lines_per_second=settings.captions.lines_per_second,
            burst_lines=settings.captions.burst_lines,
            history_lines=settings.captions.history_lines,
            max_cue_seconds=settings.captions.max_cue_seconds,
        ),
    )
