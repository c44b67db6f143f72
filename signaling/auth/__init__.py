"""Roles, signed tokens, the signing secret and the media plane's access hook."""

from signaling.auth.grants import ALL, Grant, Role
from signaling.auth.media import TokenMediaAccess
from signaling.auth.secret import load_or_create_secret
from signaling.auth.tokens import TokenAuthority, new_identity

__all__ = [
    "ALL",
    "Grant",
    "Role",
    "TokenAuthority",
    "TokenMediaAccess",
    "load_or_create_secret",
    "new_identity",
]
