"""The event's invites in the store: one entry per issued token, appended, never rewritten.

The list follows the revocation list (``signaling.auth.revocation``): an append-only log
in the event store, so SQLite and Redis both hold it and every node reads the same list.
An entry keeps the token itself so the page can show its link and QR code again; the
store already holds the signing secret's equal on Redis, so this widens nothing.
Whether an invite is revoked is not written here: the revocation list says so.
"""

from __future__ import annotations

import msgspec

from signaling.auth.grants import Grant, Role
from signaling.auth.revocation import AppendLog, Revocations

MAX_APPEND_ATTEMPTS = 50


class Invite(msgspec.Struct, frozen=True):
    """One issued token: who it is for, its scope, its label, who made it and when."""

    id: str  # the token's ``jti``: what revocation names
    role: str
    identity: str
    label: str
    created_by: str
    created_at: float  # the token's ``iat``
    expires_at: float  # the token's ``exp``
    token: str
    venue: str | None = None
    sessions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    language: str | None = None  # interpreter tokens

    def grant(self) -> Grant:
        """The grant the token carries, as the revocation set needs it."""
        return Grant(
            identity=self.identity,
            role=Role(self.role),
            venue=self.venue,
            sessions=self.sessions,
            channels=self.channels,
            language=self.language,
            token_id=self.id,
            issued_at=self.created_at,
        )

    def state(self, revocations: Revocations, now: float) -> str:
        """``revoked``, ``expired`` or ``active``; revoked wins so the page says why it stopped."""
        if revocations.revokes(self.grant()):
            return "revoked"
        return "expired" if now >= self.expires_at else "active"

    def scope(self) -> str:
        """The scope in words for the list (``venue us``, ``channels a, b``)."""
        if self.venue:
            return f"venue {self.venue}"
        if self.sessions:
            return "sessions " + ", ".join(self.sessions)
        if self.channels and self.language:
            return f"channel {self.channels[0]}, language {self.language}"
        if self.channels:
            return "channels " + ", ".join(self.channels)
        return "whole event"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Invite)


class InviteLog:
    """The list of one event's invites; ``all`` reads only what this reader has not seen."""

    def __init__(self, log: AppendLog, event_id: str) -> None:
        self._log = log
        self._stream = f"invites:{event_id}"
        self._seen = 0
        self._invites: dict[str, Invite] = {}

    async def add(self, invite: Invite) -> None:
        """Append ``invite``, retrying when another writer appended first."""
        document = _encoder.encode(invite).decode()
        for _ in range(MAX_APPEND_ATTEMPTS):
            seq = await self._log.last_seq(self._stream)
            if await self._log.append(self._stream, seq, document) is not None:
                self._invites.setdefault(invite.id, invite)
                return
        raise RuntimeError(f"could not append to {self._stream}: too much contention")

    async def all(self) -> list[Invite]:
        """Every invite of the event (this node's and the others'), oldest first."""
        rows = await self._log.read(self._stream, after=self._seen)
        if rows:
            self._seen = rows[-1][0]
        for _, document in rows:
            invite = _decoder.decode(document)
            self._invites.setdefault(invite.id, invite)
        return sorted(self._invites.values(), key=lambda invite: invite.created_at)

    async def find(self, invite_id: str) -> Invite | None:
        """The invite whose token id is ``invite_id``."""
        return next((i for i in await self.all() if i.id == invite_id), None)
