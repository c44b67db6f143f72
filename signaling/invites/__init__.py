"""Invites: role tokens an admin issues from ``/admin/invites`` (or the CLI), kept in the store.

``records`` holds the list (append-only, like the revocation list), ``uses`` the last time
each token was used, ``request`` checks what the form asks for, ``desk`` puts them together.
"""

from signaling.invites.desk import InviteDesk, InviteRow
from signaling.invites.records import Invite, InviteLog
from signaling.invites.request import InviteRequest, parse_request
from signaling.invites.uses import LastUse, UseRecorder

__all__ = [
    "Invite",
    "InviteDesk",
    "InviteLog",
    "InviteRequest",
    "InviteRow",
    "LastUse",
    "UseRecorder",
    "parse_request",
]
