"""Wires the media plane into the app: the hub, its endpoints, pages and metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from streaming.hub import MediaHub
from streaming.metrics import MediaCollector
from streaming.ports import MediaAccess
from web import media_api, media_pages, whep, whip
from web.adapters import AppMediaAccess
from web.keys import EVENT, MEDIA, METRICS, SETTINGS

logger = logging.getLogger(__name__)


async def _hub_lifetime(app: web.Application) -> AsyncIterator[None]:
    app[MEDIA].start()
    yield
    await app[MEDIA].aclose()


def setup(app: web.Application, access: MediaAccess | None = None) -> None:
    """Create the hub and add the routes; ``access`` defaults to the control plane's grants."""
    settings = app[SETTINGS]
    if settings.ice.udp_port_min is not None:
        logger.warning(
            "ice.udp_port_min/max are not honoured: aioice 0.13 binds every candidate to an "
            "ephemeral port and has no port-range option (see README)"
        )
    hub = MediaHub(
        app[EVENT],
        settings.video_codec,
        access if access is not None else AppMediaAccess(app),
        settings.ice.advertised_addresses,
    )
    app[MEDIA] = hub
    app[METRICS].register(MediaCollector(hub))
    app.cleanup_ctx.append(_hub_lifetime)
    whip.setup(app)
    whep.setup(app)
    media_api.setup(app)
    media_pages.setup(app)
