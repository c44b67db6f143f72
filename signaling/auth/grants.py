"""Roles, their scopes, and what each may do. Pure: no tokens or I/O here."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

ALL = "*"
# A language track's code, as in event files (``zh``, ``en``, ``ja``, ``pt-BR``).
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    MODERATOR = "moderator"
    PRODUCER = "producer"
    DIRECTOR = "director"
    ADMIN = "admin"
    # Another node of the deployment pulling channels (relay links): plays, nothing else.
    RELAY = "relay"
    # Interprets one channel into one language: publishes that language track (WHIP ?lang=).
    INTERPRETER = "interpreter"


# Roles a person may be invited to on the invite page; a relay token belongs to a node,
# never to a person. Interpreters are minted with ``venuebridge token`` (their scope has a
# language, which the invite page does not ask for yet).
PEOPLE_ROLES = tuple(role for role in Role if role not in (Role.RELAY, Role.INTERPRETER))


@dataclass(frozen=True, slots=True)
class Grant:
    """Who someone is and the scope of their role, as their token says."""

    identity: str
    role: Role
    venue: str | None = None  # operator: their venue
    sessions: tuple[str, ...] = ()  # moderator: their sessions, or ("*",)
    channels: tuple[str, ...] = ()  # producer: their channels, or ("*",); interpreter: one
    language: str | None = None  # interpreter: the language they interpret into
    anonymous: bool = False
    # Only the ingest key's grant (``credentials.ingest_key_grant``): tokens never carry it.
    also_directs: bool = False
    # The token it came from (``jti``, ``iat``), for revocation; not part of who it is.
    token_id: str | None = field(default=None, compare=False)
    issued_at: float | None = field(default=None, compare=False)

    def moderates(self, session_id: str) -> bool:
        """May run the Q&A of ``session_id``."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.MODERATOR and (ALL in self.sessions or session_id in self.sessions)

    def produces(self, channel_id: str) -> bool:
        """May publish ``channel_id`` as its producer."""
        if self.role is Role.ADMIN:
            return True
        return self.role is Role.PRODUCER and (ALL in self.channels or channel_id in self.channels)

    def interprets(self, channel_id: str, language: str) -> bool:
        """May publish ``channel_id``'s ``language`` track (an interpreter of exactly that)."""
        return (
            self.role is Role.INTERPRETER
            and self.channels == (channel_id,)
            and self.language == language
        )

    def may_relay_for(self) -> str | None:
        """The venue whose room questions this person may relay (sub-venue operators)."""
        return self.venue if self.role is Role.OPERATOR else None

    @property
    def directs(self) -> bool:
        """Directors and admins (and the ingest key): routing, records, the return wall, talkback.

        The one director check: HTTP (``web/auth.require_director``) and the websocket
        commands both ask this.
        """
        return self.also_directs or self.role in (Role.DIRECTOR, Role.ADMIN)

    def watches_presence(self) -> bool:
        return self.role in (Role.MODERATOR, Role.DIRECTOR, Role.ADMIN)

    def may_export(self, session_id: str) -> bool:
        return self.directs or self.moderates(session_id)


def validate_scope(
    role: Role,
    venue: str | None,
    sessions: tuple[str, ...],
    channels: tuple[str, ...],
    language: str | None = None,
) -> None:
    """Raise ``ValueError`` when a role is given a scope it needs but lacks, or cannot have."""
    if role is Role.OPERATOR and not venue:
        raise ValueError("an operator token needs --venue")
    if role is not Role.OPERATOR and venue:
        raise ValueError("only operator tokens carry a venue")
    if role is Role.MODERATOR and not sessions:
        raise ValueError("a moderator token needs --session (a session id or '*')")
    if role is not Role.MODERATOR and sessions:
        raise ValueError("only moderator tokens carry sessions")
    if role is Role.PRODUCER and not channels:
        raise ValueError("a producer token needs --channel")
    if role is Role.INTERPRETER:
        if len(channels) != 1 or ALL in channels:
            raise ValueError("an interpreter token needs exactly one --channel")
        if not language or not LANGUAGE_CODE.fullmatch(language):
            raise ValueError("an interpreter token needs --lang, a language code like ja or ru")
    elif language is not None:
        raise ValueError("only interpreter tokens carry a language")
    if role not in (Role.PRODUCER, Role.INTERPRETER) and channels:
        raise ValueError("only producer and interpreter tokens carry channels")
