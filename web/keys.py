"""Typed keys for what the application holds; no module globals."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from config import Event, Settings
from streaming.hub import MediaHub

SETTINGS = web.AppKey("settings", Settings)
EVENT = web.AppKey("event", Event)
METRICS = web.AppKey("metrics", CollectorRegistry)
STARTED_AT = web.AppKey("started_at", float)
MEDIA = web.AppKey("media", MediaHub)
