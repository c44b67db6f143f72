"""Revoked tokens: one token by its id (``jti``), or every token of a role issued before a
moment. The set is pure; ``RevocationLog`` keeps the list in the event store, append-only,
so both backends (SQLite, Redis) hold it and every node reads the same list.
"""

from __future__ import annotations

import math
from typing import Protocol

import msgspec

from signaling.auth.grants import Grant, Role

MAX_APPEND_ATTEMPTS = 50


class Revocation(msgspec.Struct, frozen=True):
    """One entry: ``token_id`` names one token; else ``role`` with ``before`` names many."""

    at: float
    by: str
    token_id: str | None = None
    role: str | None = None
    before: float | None = None

    def describe(self) -> str:
        """The entry in words, for the CLI and the logs."""
        if self.token_id is not None:
            return f"token {self.token_id}"
        return f"every {self.role} token issued before {self.before:.3f}"


def whole_milliseconds(moment: float) -> float:
    """``moment`` rounded down to the millisecond, the resolution of a token's ``iat``.

    Milliseconds: "revoke every token issued before now" must spare one minted just after.
    Down: rounded up, ``iat`` could be in the future, and PyJWT refuses a token issued in
    the future when it is verified at once.
    """
    return math.floor(moment * 1000) / 1000


def revoke_token(token_id: str, by: str, now: float) -> Revocation:
    """An entry revoking the one token whose ``jti`` is ``token_id``."""
    if not token_id or len(token_id) > 200:
        raise ValueError("a token id is a short, non-empty string")
    return Revocation(at=now, by=by, token_id=token_id)


def revoke_role(role: Role, by: str, now: float) -> Revocation:
    """An entry revoking every token of ``role`` issued before ``now``.

    ``before`` is in whole milliseconds, as a token's ``iat`` is (rounded down): a token
    minted in the same millisecond as the revocation, just after it, must survive it.
    """
    return Revocation(at=now, by=by, role=role.value, before=whole_milliseconds(now))


class Revocations:
    """What this node knows is revoked; the verify path asks ``revokes``."""

    def __init__(self) -> None:
        self._tokens: set[str] = set()
        self._roles: dict[str, float] = {}

    def add(self, entry: Revocation) -> None:
        """Fold one entry in (entries only ever widen what is revoked)."""
        if entry.token_id is not None:
            self._tokens.add(entry.token_id)
        elif entry.role is not None and entry.before is not None:
            self._roles[entry.role] = max(entry.before, self._roles.get(entry.role, 0.0))

    def revokes(self, grant: Grant) -> bool:
        """Whether the token ``grant`` came from has been revoked."""
        if grant.token_id is not None and grant.token_id in self._tokens:
            return True
        before = self._roles.get(grant.role.value)
        return before is not None and grant.issued_at is not None and grant.issued_at < before


class AppendLog(Protocol):
    """The part of the event store the revocation list needs."""

    async def append(self, room: str, expected_seq: int, event: str) -> int | None: ...

    async def read(self, room: str, after: int = 0) -> list[tuple[int, str]]: ...

    async def last_seq(self, room: str) -> int: ...


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Revocation)


class RevocationLog:
    """The event's revocation list in the store; ``read_new`` returns what a reader missed."""

    def __init__(self, log: AppendLog, event_id: str) -> None:
        self._log = log
        self._stream = f"revocations:{event_id}"
        self._seen = 0

    async def add(self, entry: Revocation) -> None:
        """Append ``entry``, retrying when another writer appended first."""
        document = _encoder.encode(entry).decode()
        for _ in range(MAX_APPEND_ATTEMPTS):
            seq = await self._log.last_seq(self._stream)
            if await self._log.append(self._stream, seq, document) is not None:
                return
        raise RuntimeError(f"could not append to {self._stream}: too much contention")

    async def read_new(self) -> list[Revocation]:
        """Entries appended since this reader last looked."""
        rows = await self._log.read(self._stream, after=self._seen)
        if rows:
            self._seen = rows[-1][0]
        return [_decoder.decode(document) for _, document in rows]
