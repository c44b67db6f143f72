"""The one place that chooses the backends: SQLite and an in-process bus, or Redis.

The app (``web/app.py``) and the CLI (``report``, ``token``) both open them here, so
a token minted beside a server is signed with the secret that server uses, and ``report``
reads the store that server writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis

from config import Event, Settings
from signaling.auth import Role, TokenAuthority, load_or_create_secret
from signaling.auth.secret import SECRET_FILE, read_secret, read_shared_secret, shared_secret
from signaling.bus import Bus
from signaling.bus.local import LocalBus
from signaling.bus.redis import RedisBus
from signaling.store import EventStore
from signaling.store.redis import RedisEventStore
from signaling.store.sqlite import SqliteEventStore

STORE_FILE = "venuebridge.sqlite3"


def redis_prefix(event: Event) -> str:
    """Every key of one event on a shared Redis starts with this."""
    return f"venuebridge:{event.id}"


def without_password(url: str) -> str:
    """``redis://:secret@host`` as ``redis://:***@host``: doctor output gets pasted around."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def secret_key(event: Event) -> str:
    """The Redis key of the signing secret the nodes of one event share."""
    return f"{redis_prefix(event)}:secret"


class NoServerHere(Exception):
    """The CLI found no signing key (or store) where it looked: not a server's data.

    ``token`` and ``revoke`` only use what a server made; creating a new key here would
    mint tokens that server refuses.
    """


def _missing_locally(settings: Settings, what: str) -> NoServerHere:
    where = settings.data_dir.resolve()
    return NoServerHere(
        f"no {what} in {where}: that is not the data directory of a server that has run. "
        "Point this command at the server's with --data-dir DIR or VENUEBRIDGE_DATA_DIR=DIR "
        "(or --settings with the server's settings file)"
    )


async def _existing_secret(settings: Settings, event: Event, redis: Redis | None) -> bytes:
    """The key a server already made: in data_dir, or on the shared Redis; never a new one."""
    if redis is None:
        secret = read_secret(settings.data_dir)
        if secret is None:
            raise _missing_locally(settings, f"signing key ({SECRET_FILE})")
        return secret
    secret = await read_shared_secret(redis, secret_key(event))
    if secret is None:
        raise NoServerHere(
            f"no signing key on the Redis at {without_password(settings.redis_url or '')} "
            f"(key {secret_key(event)}): "
            f"no server of event '{event.id}' has started on it. Check redis_url "
            "(VENUEBRIDGE_REDIS_URL) and the event file against the server's, or start the server"
        )
    return secret


@dataclass(frozen=True, slots=True)
class Backends:
    """What the control plane runs on; ``redis`` is None on the embedded default."""

    store: EventStore
    bus: Bus
    authority: TokenAuthority
    redis: Redis | None


def store_exists(settings: Settings) -> bool:
    """False only when the embedded store was never written (nothing to read yet)."""
    return bool(settings.redis_url) or (settings.data_dir / STORE_FILE).exists()


def _authority(settings: Settings, event: Event, secret: bytes) -> TokenAuthority:
    lifetimes = {role: settings.tokens.max_hours(role.value) * 3600.0 for role in Role}
    return TokenAuthority(secret, audience=event.id, max_lifetimes=lifetimes)


@asynccontextmanager
async def open_backends(
    settings: Settings, event: Event, *, existing_only: bool = False
) -> AsyncIterator[Backends]:
    """Store, bus and token authority from the settings; all closed again on exit.

    The server creates what is missing (the key, the store). The CLI passes
    ``existing_only``: then a missing key or store raises ``NoServerHere`` and nothing is
    created, on disk or on Redis.
    """
    if not existing_only:
        secret = load_or_create_secret(settings.data_dir)
    elif not settings.redis_url:
        secret = await _existing_secret(settings, event, None)
        if not store_exists(settings):
            raise _missing_locally(settings, f"store ({STORE_FILE})")
    redis: Redis | None = None
    store: EventStore
    bus: Bus
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        store = RedisEventStore(redis, redis_prefix(event))
        bus = RedisBus(redis, f"{redis_prefix(event)}:bus")
    else:
        store = await SqliteEventStore.open(settings.data_dir / STORE_FILE)
        bus = LocalBus()
    try:
        if existing_only and redis is not None:
            secret = await _existing_secret(settings, event, redis)
        elif redis is not None:
            # Every node on one Redis signs with the secret the first node put there.
            secret = await shared_secret(redis, secret_key(event), secret)
        yield Backends(store, bus, _authority(settings, event, secret), redis)
    finally:
        await bus.aclose()  # the hub closes it too when it stops; closing twice is fine
        await store.aclose()
        if redis is not None:
            await redis.aclose()


@asynccontextmanager
async def open_existing_store(settings: Settings, event: Event) -> AsyncIterator[EventStore]:
    """The store a server wrote, for reading; None of it is created (``NoServerHere``)."""
    if not settings.redis_url:
        if not store_exists(settings):
            raise _missing_locally(settings, f"store ({STORE_FILE})")
        store: EventStore = await SqliteEventStore.open(settings.data_dir / STORE_FILE)
        try:
            yield store
        finally:
            await store.aclose()
        return
    redis = Redis.from_url(settings.redis_url)
    try:
        yield RedisEventStore(redis, redis_prefix(event))
    finally:
        await redis.aclose()
