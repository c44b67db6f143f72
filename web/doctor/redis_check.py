"""The shared Redis: reachable, keeping what it holds across a restart, holding the key."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from config import Event, Settings
from web.backends import secret_key, without_password
from web.doctor.report import Check, fail, ok, skip, warn

NAME = "Redis"
KEY = "signing key"


async def check_redis(settings: Settings, event: Event, within: float) -> list[Check]:
    """PING, the persistence settings, and the event's shared signing key."""
    if not settings.redis_url:
        return [skip(NAME, "not used (redis_url unset): one node, SQLite in the data dir.")]
    where = without_password(settings.redis_url)
    redis = Redis.from_url(settings.redis_url, socket_timeout=within, socket_connect_timeout=within)
    try:
        try:
            await redis.ping()
        except (RedisError, OSError) as error:
            return [
                fail(
                    NAME,
                    f"{where} does not answer ({error}).",
                    "start Redis, or correct redis_url (VENUEBRIDGE_REDIS_URL), its password "
                    "and the firewall between this machine and it.",
                ),
                skip(KEY, "kept on Redis, which does not answer."),
            ]
        persistence = await _persistence(redis, where)
        found = await redis.exists(secret_key(event))
    except (RedisError, OSError) as error:
        return [fail(NAME, f"{where}: {error}.", "check Redis's log.")]
    finally:
        await redis.aclose()
    if found:
        key = ok(KEY, f"shared on Redis ({secret_key(event)}).")
    else:
        key = fail(
            KEY,
            f"none on Redis for event '{event.id}': no server of this event has started on "
            "it, or Redis lost it (tokens signed with it no longer verify).",
            "start the server (it puts the key there); check redis_url and --event.",
        )
    return [persistence, key]


async def _persistence(redis: Redis, where: str) -> Check:
    try:
        appendonly = await redis.config_get("appendonly")
        save = await redis.config_get("save")
    except ResponseError as error:
        return warn(
            NAME,
            f"{where} answers PING, but its persistence settings cannot be read ({error}).",
            "make sure this Redis keeps its data across restarts (appendonly yes).",
        )
    if str(appendonly.get("appendonly", "")).lower() == "yes":
        return ok(NAME, f"{where} answers PING and keeps an append-only file.")
    snapshots = str(save.get("save", "")).strip()
    if snapshots:
        return warn(
            NAME,
            f"{where} answers PING, but keeps only snapshots (save {snapshots}): a crash "
            "loses what was written since the last one.",
            "set appendonly yes (the compose file's Redis does).",
        )
    return warn(
        NAME,
        f"{where} answers PING, but keeps nothing on disk: a restart loses the as-run "
        "records, the revocations and the shared signing key (every invite stops working).",
        "set appendonly yes, with a volume for its data.",
    )
