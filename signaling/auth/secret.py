"""The signing secret: created once in ``data_dir`` and reused by the server and the CLI."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from redis.asyncio import Redis

from signaling.files import PRIVATE_FILE, private_dir

SECRET_FILE = "signing.key"


def load_or_create_secret(data_dir: Path) -> bytes:
    """Read ``data_dir/signing.key``, creating it (mode 0600) on first use."""
    private_dir(data_dir)
    path = data_dir / SECRET_FILE
    try:
        # O_EXCL: two processes starting at once cannot both write a different secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return _read(path)
    os.fchmod(fd, PRIVATE_FILE)  # the umask may have widened nothing, but may have been 0
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read(path)


def read_secret(data_dir: Path) -> bytes | None:
    """The secret a server left in ``data_dir``, or None; creates nothing (for the CLI)."""
    path = data_dir / SECRET_FILE
    if not path.is_file():
        return None
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text().strip()
    if len(text) < 64:
        # A writer that created the file may still be writing; its content is short.
        raise RuntimeError(f"{path}: the signing secret is missing or too short")
    return bytes.fromhex(text)


async def shared_secret(redis: Redis, key: str, local: bytes) -> bytes:
    """The secret all nodes on one Redis share: the first node's wins (SET NX)."""
    await redis.set(key, local.hex(), nx=True)
    secret = await read_shared_secret(redis, key)
    if secret is None:
        raise RuntimeError("the shared signing secret vanished from Redis")
    return secret


async def read_shared_secret(redis: Redis, key: str) -> bytes | None:
    """The secret the nodes on this Redis share, or None while no node has started."""
    value = await redis.get(key)
    if value is None:
        return None
    return bytes.fromhex(value.decode() if isinstance(value, bytes) else str(value))
