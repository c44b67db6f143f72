"""Roles, their scopes, and what each may do. Pure: no tokens or I/O here."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from config.languages import language_problem

ALL = "*"
# A language code as event files spell them (zh, en, ja, ko, ru, pt-br).
LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    MODERATOR = "moderator"
    PRODUCER = "producer"
    DIRECTOR = "director"
    ADMIN = "admin"
    # Another node of the deployment pulling channels (relay links): plays, nothing else.
    RELAY = "relay"
    # Types caption lines for some sessions (``/caption/{session}``), one language or all.
    CAPTIONER = "captioner"
    # Interprets one channel into one language: publishes that language track (WHIP ?lang=).
    INTERPRETER = "interpreter"


# Roles a person may be invited to on the invite page; a relay token belongs to a node,
# never to a person. Interpreters are minted with ``venuebridge token`` (their scope is
# a channel and a language, which the invite page does not ask for yet).
PEOPLE_ROLES = tuple(role for role in Role if role not in (Role.RELAY, Role.INTERPRETER))


@dataclass(frozen=True, slots=True)
class Grant:
    """Who someone is and the scope of their role, as their token says."""

    identity: str
    role: Role
    venue: str | None = None  # operator: their venue
    sessions: tuple[str, ...] = ()  # moderator, captioner: their sessions, or ("*",)
    channels: tuple[str, ...] = ()  # producer: their channels, or ("*",); interpreter: one
    anonymous: bool = False
    # captioner: the one language they caption (None: any); interpreter: theirs (required)
    language: str | None = None
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

    def captions(self, session_id: str, language: str) -> bool:
        """May send caption lines of ``session_id`` in ``language`` (directors: any)."""
        if self.directs:
            return True
        if self.role is not Role.CAPTIONER:
            return False
        in_scope = ALL in self.sessions or session_id in self.sessions
        return in_scope and self.language in (None, language)

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
    if role is Role.CAPTIONER and not sessions:
        raise ValueError("a captioner token needs --session (a session id or '*')")
    if role not in (Role.MODERATOR, Role.CAPTIONER) and sessions:
        raise ValueError("only moderator and captioner tokens carry sessions")
    if language is not None and role is Role.CAPTIONER and not LANGUAGE.fullmatch(language):
        raise ValueError(f"'{language[:20]}' is not a language code like zh, en, ja")
    if role is Role.PRODUCER and not channels:
        raise ValueError("a producer token needs --channel")
    if role is Role.INTERPRETER:
        if len(channels) != 1 or ALL in channels:
            raise ValueError("an interpreter token needs exactly one --channel")
        problem = language_problem(language) if language else "none given"
        if problem is not None:
            raise ValueError(f"an interpreter token needs --lang, a language code ({problem})")
    elif language is not None and role is not Role.CAPTIONER:
        raise ValueError("only interpreter and captioner tokens carry a language")
    if role not in (Role.PRODUCER, Role.INTERPRETER) and channels:
        raise ValueError("only producer and interpreter tokens carry channels")
