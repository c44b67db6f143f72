"""Issuing, listing and revoking invites: what ``/admin/invites`` and the CLI ask for.

Every invite is a signed role token (``TokenAuthority.mint``) plus its entry in the
invite list. Revoking one is an ordinary revocation by token id, so the existing path
(``signaling.revoker``) closes its sockets and spreads it to the other nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from config.settings import InviteSettings
from signaling.auth.grants import Grant
from signaling.auth.revocation import Revocation, revoke_token
from signaling.auth.tokens import TokenAuthority, new_identity
from signaling.errors import BadMessage, NotFound, Refused
from signaling.invites.records import Invite, InviteLog
from signaling.invites.request import InviteRequest, check_label
from signaling.invites.uses import LastUse, UseRecorder

# Expired invites stay on the page this long, then only the store remembers them.
LISTED_AFTER_EXPIRY = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class InviteRow:
    """One line of the page: the invite, its state now and its last use."""

    invite: Invite
    state: str
    last_use: LastUse


class InviteDesk:
    """The event's invites; ``uses`` is None where nothing is served (the CLI)."""

    def __init__(
        self,
        authority: TokenAuthority,
        log: InviteLog,
        limits: InviteSettings,
        uses: UseRecorder | None = None,
    ) -> None:
        self._authority = authority
        self._log = log
        self._limits = limits
        self._uses = uses

    async def issue(
        self, request: InviteRequest, by: str, now: float, identity: str | None = None
    ) -> Invite:
        """Mint the token ``request`` asks for and add it to the list.

        The cap is checked against this node's read of the list: two nodes creating at the
        same moment may each add one past it, never more.
        """
        label = check_label(request.label, self._limits.max_label_chars)
        live = [i for i in await self._log.all() if i.expires_at > now]
        if len(live) >= self._limits.max_per_event:
            raise Refused(
                f"this event already has {len(live)} invites that have not expired, the most "
                f"it may have (setting invites.max_per_event); revoked ones count until they expire"
            )
        grant = Grant(
            identity=identity or new_identity(request.role.value),
            role=request.role,
            venue=request.venue,
            sessions=request.sessions,
            channels=request.channels,
            language=request.language,
        )
        try:
            token = self._authority.mint(grant, request.ttl, now=now)
        except ValueError as error:
            raise BadMessage(str(error)) from None
        # Just minted here: its id and times are read back, not checked (``verify`` would
        # refuse an ``iat`` ahead of the clock, and ``now`` is the caller's).
        claims = jwt.decode(token, options={"verify_signature": False})
        invite = Invite(
            id=str(claims["jti"]),
            role=grant.role.value,
            identity=grant.identity,
            label=label,
            created_by=by,
            created_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
            token=token,
            venue=grant.venue,
            sessions=grant.sessions,
            channels=grant.channels,
            language=grant.language,
        )
        await self._log.add(invite)
        return invite

    async def rows(self, now: float) -> list[InviteRow]:
        """The invites to show, newest first, with their state and last use."""
        if self._uses is not None:
            await self._uses.flush()  # this node's uses show at once
        shown = [i for i in await self._log.all() if now - i.expires_at < LISTED_AFTER_EXPIRY]
        shown.reverse()
        uses = await self._uses.last_uses(i.id for i in shown) if self._uses else {}
        revocations = self._authority.revocations
        return [InviteRow(i, i.state(revocations, now), uses.get(i.id, LastUse())) for i in shown]

    async def find(self, invite_id: str) -> Invite | None:
        """The invite whose token id is ``invite_id``."""
        return await self._log.find(invite_id)

    async def revocation(self, invite_id: str, by: str, now: float) -> Revocation:
        """The revocation entry for an active invite; ``NotFound``/``Refused`` otherwise."""
        invite = await self._log.find(invite_id)
        if invite is None:
            raise NotFound("there is no such invite in this event")
        state = invite.state(self._authority.revocations, now)
        if state != "active":
            raise Refused(f"this invite is already {state}")
        return revoke_token(invite.id, by, now)
