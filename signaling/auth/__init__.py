"""Roles, signed tokens, the ingest key, the signing secret and the media plane's hook."""

from signaling.auth.credentials import Credentials, ingest_key_grant
from signaling.auth.grants import ALL, Grant, Role
from signaling.auth.media import TokenMediaAccess
from signaling.auth.secret import load_or_create_secret
from signaling.auth.tokens import TokenAuthority, new_identity

__all__ = [
    "ALL",
    "Credentials",
    "Grant",
    "Role",
    "TokenAuthority",
    "TokenMediaAccess",
    "ingest_key_grant",
    "load_or_create_secret",
    "new_identity",
]
