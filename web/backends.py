"""The one place that chooses the backends: SQLite and an in-process bus, or Redis.

The app (``web/app.py``) and the CLI (``report``, ``token``) both open them here, so
a token minted beside a server is signed with the secret that server uses, and ``report``
reads the store that server writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from config import Event, Settings
from signaling.auth import Role, TokenAuthority, load_or_create_secret
from signaling.auth.secret import shared_secret
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


@asynccontextmanager
async def open_backends(settings: Settings, event: Event) -> AsyncIterator[Backends]:
    """Store, bus and token authority from the settings; all closed again on exit."""
    secret = load_or_create_secret(settings.data_dir)
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
        if redis is not None:
            # Every node on one Redis signs with the secret the first node put there.
            secret = await shared_secret(redis, f"{redis_prefix(event)}:secret", secret)
        lifetimes = {role: settings.tokens.max_hours(role.value) * 3600.0 for role in Role}
        authority = TokenAuthority(secret, audience=event.id, max_lifetimes=lifetimes)
        yield Backends(store, bus, authority, redis)
    finally:
        await bus.aclose()  # the hub closes it too when it stops; closing twice is fine
        await store.aclose()
        if redis is not None:
            await redis.aclose()
