"""Media JSON endpoints: live streams with stats."""

from __future__ import annotations

from aiohttp import web

from signaling.errors import Forbidden, Unauthorized
from streaming.stats import streams_json
from web.auth import require_director
from web.keys import MEDIA
from web.worker_streams import node_view, wants_node_view


def _is_director(request: web.Request) -> bool:
    try:
        require_director(request, "session ids")
    except (Unauthorized, Forbidden):
        return False
    return True


async def get_streams(request: web.Request) -> web.Response:
    """Live publishers and subscribers; everyone sees the stats, only directors the ids.

    A status dashboard needs no token for the aggregate view, so a missing or bad token
    is not refused here: it just gets the view without session ids.
    """
    snapshot = request.app[MEDIA].snapshot()
    view = streams_json(snapshot, session_ids=_is_director(request))
    if wants_node_view(request):
        view = await node_view(request, view)  # several workers: the node's, merged
    return web.json_response(view)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/streams", get_streams)
