"""``GET /api/nodes``: the nodes that are up and the channels each holds, for directors.

Node URLs and the topology are operational detail, like the as-run record, so the list
takes a director's (or admin's) token; ``/healthz`` shows only this node's id and region.
"""

from __future__ import annotations

from datetime import UTC

from aiohttp import web

from signaling.nodes import DirectoryUnavailable, NodeEntry
from web.auth import require_director
from web.errors import http_error
from web.keys import DIRECTORY, NODE


def node_json(entry: NodeEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "region": entry.region,
        "url": entry.url,
        "heartbeat": entry.heartbeat.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "age_seconds": entry.age,
        "channels": list(entry.channels),
    }


async def get_nodes(request: web.Request) -> web.Response:
    require_director(request, "The node list", bearer_api=True)
    try:
        nodes = await request.app[DIRECTORY].nodes()
    except DirectoryUnavailable as error:
        refusal = http_error(web.HTTPServiceUnavailable, str(error))
        refusal.headers["Retry-After"] = "2"
        raise refusal from None
    return web.json_response(
        {"node": request.app[NODE].id, "nodes": [node_json(entry) for entry in nodes]}
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/nodes", get_nodes)
