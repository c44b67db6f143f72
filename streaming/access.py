"""The interim authorisation: one producer secret publishes; playing is open.

The control plane's role tokens replace this through the ``MediaAccess`` port, wired in
``web/app.py``; nothing else in the media plane knows where the decision comes from.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_FILE = "producer_secret"


class ProducerSecretAccess:
    """Publishing and routing need the producer secret as Bearer token; viewing does not."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def is_producer(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self._secret)

    def may_publish(self, token: str | None, channel: str) -> bool:
        return self.is_producer(token)

    def may_play(self, token: str | None, channel: str) -> bool:
        return True

    def may_play_venue(self, token: str | None, venue: str) -> bool:
        return True

    def may_route(self, token: str | None, venue: str) -> bool:
        return self.is_producer(token)


def load_or_create_secret(configured: str | None, data_dir: Path) -> str:
    """The configured secret, or the one in ``data_dir`` (created on first start, mode 0600)."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if len(secret) >= 16:
        return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    logger.warning("generated a producer secret in %s (publishers use it as Bearer token)", path)
    return secret
