"""307 steering of WHIP/WHEP POSTs (RFC 9725 allows redirects) to the right node.

On Redis, a POST that belongs on another node answers ``307 Temporary Redirect`` with
``Location`` = the same path on that node (``signaling/nodes/steering.py`` decides which):
a venue's output (``/whep/venue/{v}``) and its return feed's WHIP on the venue's home
node; a channel's WHEP with ``?region=`` on a live node of that region. Without Redis,
with ``node.steering = false``, or when the directory cannot be read, the node serves.

Three rules keep it safe:
- refusals come first: an unknown channel is 404 and a caller who may not do the thing
  gets 401/403 here, never a redirect (nor the pass below);
- no loops: the Location carries ``via=<this node>``; a request that has it (or a pass)
  is served where it lands, never redirected again;
- credentials: browsers drop ``Authorization`` on a cross-origin redirect and send no
  cookie there, so the Location carries a pass (``access_token=``) minted with the
  secret the nodes share, valid ``node.pass_seconds`` for exactly this one action on
  this one channel or venue output, never the caller's own token. Our access log runs
  at WARNING (web/logs.py) and redacts it anyway.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from aiohttp import web

from config.setting_sections import REGION, REGION_RULE
from signaling.auth.media import Action, Target, pass_scope
from signaling.errors import Unauthorized
from signaling.nodes import DirectoryUnavailable, LocalDirectory, NodeEntry
from signaling.nodes.steering import home_node_of, in_region, to_home_node, venue_of_return_feed
from streaming import errors
from streaming.http_rules import CORS_HEADERS, bearer_token
from web.auth import COOKIE
from web.client import client_address
from web.keys import CREDENTIALS, DIRECTORY, EVENT, HOMES, MEDIA, NODE, SETTINGS

logger = logging.getLogger(__name__)

VIA = "via"
ACCESS_TOKEN = "access_token"
REGION_QUERY = "region"


def media_token(request: web.Request) -> str | None:
    """A WHIP/WHEP POST's credential: Bearer, then a redirect's pass, then the cookie."""
    return (
        bearer_token(request.headers.get("Authorization"))
        or request.query.get(ACCESS_TOKEN)
        or request.cookies.get(COOKIE)
    )


def _enabled(request: web.Request) -> bool:
    if not request.app[SETTINGS].node.steering:
        return False
    if isinstance(request.app[DIRECTORY], LocalDirectory):
        return False  # no Redis: no other node to send anyone to
    return VIA not in request.query and ACCESS_TOKEN not in request.query


def client_region(request: web.Request) -> str | None:
    """``?region=``, checked; None when absent (no GeoIP guess)."""
    region = request.query.get(REGION_QUERY)
    if region is None or region == "":
        return None
    if REGION.fullmatch(region) is None:
        raise errors.BadRequest(f"?region= must be {REGION_RULE}")
    return region


async def _home(request: web.Request, venue: str | None) -> NodeEntry | None:
    if venue is None:
        return None
    home = home_node_of(request.app[EVENT], venue, request.app.get(HOMES))
    me = request.app[NODE].id
    if home is None or home == me:
        return None
    try:
        node = await request.app[DIRECTORY].node(home)
    except DirectoryUnavailable as error:
        logger.warning("serving venue %s here, not on %s: %s", venue, home, error)
        return None
    if node is None:
        logger.info("venue %s: home node %s is not up; serving here", venue, home)
    return to_home_node(home, me, node)


async def _regional(request: web.Request) -> NodeEntry | None:
    region = client_region(request)
    me = request.app[NODE]
    if region is None or region == me.region:
        return None
    try:
        nodes = await request.app[DIRECTORY].nodes()
    except DirectoryUnavailable as error:
        logger.warning("serving here, not in region %s: %s", region, error)
        return None
    return in_region(nodes, region, me.region, me.id, client_address(request))


def _check_access(request: web.Request, action: Action, target: Target, name: str) -> None:
    """The refusals the node redirected to would give, given here (and 404 first)."""
    media = request.app[MEDIA]
    token = media_token(request)
    if target == "venue":
        media.venue_output(name)  # NotFound
        allowed = media.access.may_play_venue(token, name)
    else:
        media.channel(name)  # NotFound
        may = media.access.may_publish if action == "publish" else media.access.may_play
        allowed = may(token, name)
    if not allowed:
        if token is None:
            raise errors.Unauthenticated("a Bearer token is required")
        raise errors.Forbidden("this token does not allow that")


def _location(request: web.Request, node: NodeEntry, scope: str | None) -> str:
    """The same path on ``node``, marked ``via`` this node; with a pass for ``scope``."""
    assert node.url is not None
    query = [(k, v) for k, v in request.query.items() if k not in (VIA, ACCESS_TOKEN)]
    query.append((VIA, request.app[NODE].id))
    token = media_token(request)
    if scope is not None and token is not None:
        credentials = request.app[CREDENTIALS]
        try:
            grant = credentials.grant(token)
        except Unauthorized:
            grant = None  # allowed without one (a public channel): nothing to pass on
        if grant is not None:
            ttl = request.app[SETTINGS].node.pass_seconds
            query.append((ACCESS_TOKEN, credentials.authority.mint_pass(grant, scope, ttl)))
    return f"{node.url.rstrip('/')}{request.path}?{urlencode(query)}"


def redirect(location: str) -> web.Response:
    """The 307 itself: CORS headers (a cross-origin page must see it), never cached."""
    response = web.Response(status=307, text=f"this is served at {location.split('?')[0]}\n")
    response.headers.update(CORS_HEADERS)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


async def steered(
    request: web.Request, action: Action, target: Target, name: str
) -> web.Response | None:
    """The 307 to the node that should serve this POST (or OPTIONS), or None: serve here.

    OPTIONS is steered like the POST (no pass: it needs none), so a page reads the ICE
    servers of the node its POST will land on. A CORS preflight never is.
    """
    if not _enabled(request):
        return None
    event = request.app[EVENT]
    known = event.venue(name) if target == "venue" else event.channel(name)
    if known is None:
        return None  # the hub answers 404
    if target == "venue":
        node = await _home(request, name)
    elif action == "publish":
        node = await _home(request, venue_of_return_feed(event, name))
    else:
        node = await _regional(request)
    if node is None:
        return None
    if request.method == "OPTIONS":
        if "Access-Control-Request-Method" in request.headers:
            return None
        return redirect(_location(request, node, None))
    _check_access(request, action, target, name)
    return redirect(_location(request, node, pass_scope(action, target, name)))
