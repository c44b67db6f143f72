"""The ``workers`` setting: how many worker processes one machine's node runs.

``1`` is the embedded default: one process, no supervisor. ``N`` (or ``"auto"``: one
per core) starts a supervisor (web/workers.py) with N workers that share the node's
Redis, so more than one worker needs ``redis_url``: SQLite and the in-process bus
cannot be shared between processes. ``"auto"`` without Redis is therefore one worker.
Worker ``i`` takes the media ports ``ice.udp_port + i`` (UDP, and ICE-TCP on the same
number): a fixed set a firewall can list.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from config.setting_sections import IceSettings, SettingsError


class Settings(Protocol):
    """The settings this module reads (``config.settings.Settings`` has them all)."""

    @property
    def workers(self) -> int | str: ...

    @property
    def redis_url(self) -> str | None: ...

    @property
    def ice(self) -> IceSettings: ...


AUTO = "auto"
MAX_WORKERS = 256


def parse_workers(value: object) -> int | str:
    """A whole number of workers, or ``"auto"``."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    if isinstance(value, bool):
        raise ValueError('expected a whole number or "auto"')
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError('expected a whole number or "auto"')


def validate_workers(settings: Settings) -> None:
    """A number in range; more than one only with Redis and the one-port media mux."""
    workers = settings.workers
    if workers == AUTO:
        return
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise SettingsError(f"setting 'workers': must be \"auto\" or 1 to {MAX_WORKERS}")
    if workers > 1 and settings.redis_url is None:
        raise SettingsError(
            "setting 'workers': more than one worker needs redis_url (the embedded "
            "SQLite store and in-process bus cannot be shared between processes); "
            'set redis_url, or workers = 1 (or "auto")'
        )
    if workers > 1 and settings.ice.udp_port_min is not None:
        raise SettingsError(
            "setting 'workers': more than one worker needs ice.udp_mux (worker i uses "
            "the port ice.udp_port + i); a port range would be shared by every worker"
        )
    if workers > 1 and settings.ice.udp_port != 0 and settings.ice.udp_port + workers > 65536:
        raise SettingsError(
            f"setting 'workers': ice.udp_port + {workers - 1} is above 65535 "
            "(worker i uses ice.udp_port + i)"
        )


def worker_count(settings: Settings, cores: Callable[[], int | None] = os.cpu_count) -> int:
    """How many workers to run: the number, or for ``"auto"`` the cores (1 without Redis,
    or when the media ports are a range)."""
    if isinstance(settings.workers, int):
        return settings.workers
    if settings.redis_url is None or settings.ice.udp_port_min is not None:
        return 1
    return max(1, min(MAX_WORKERS, cores() or 1))
