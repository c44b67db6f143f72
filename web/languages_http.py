"""Language tracks over HTTP: a player's switch message and the interpreters' booth API.

- ``POST {WHEP session URL}/language`` with ``{"lang": "ru"}`` (``null`` or ``"floor"``:
  the floor) switches a player's audio without renegotiation: 204. Whoever holds the
  session URL (its secret) may, exactly as for its DELETE (RFC 9725 ownership).
- ``POST /api/interpret/{channel}/{lang}/take`` (the taking interpreter's token): their
  own live session goes on air in that booth: 204.
- ``GET /api/interpret/{channel}``: per language, who is connected and who is on air, and
  whether the floor is live where the answer comes from.
"""

from __future__ import annotations

import json

from aiohttp import web

from streaming import errors
from streaming.http_rules import CORS_HEADERS
from web.keys import MEDIA
from web.media_http import guarded
from web.steering import media_token

LANGUAGE_SUFFIX = "/language"
MAX_LANGUAGE_BODY = 256  # {"lang": "pt-BR"} with room; anything bigger is not ours


async def _read_choice(request: web.Request) -> object:
    length = request.content_length
    if length is not None and length > MAX_LANGUAGE_BODY:
        raise errors.PayloadTooLarge(f"at most {MAX_LANGUAGE_BODY} bytes")
    body = await request.read()  # bounded: by Content-Length above, else client_max_size
    if len(body) > MAX_LANGUAGE_BODY:
        raise errors.PayloadTooLarge(f"at most {MAX_LANGUAGE_BODY} bytes")
    try:
        choice = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise errors.BadRequest('the body must be JSON like {"lang": "ja"}') from None
    if not isinstance(choice, dict) or "lang" not in choice:
        raise errors.BadRequest('the body must be JSON like {"lang": "ja"} (null: the floor)')
    return choice["lang"]


async def post_language(request: web.Request) -> web.Response:
    """Switch a WHEP player's audio language: 204; 404 without the URL's secret."""
    hub = request.app[MEDIA]

    async def switch() -> None:
        # The secret first: a stranger learns nothing about what the body should be.
        session_id = hub.session_at(request.path.removesuffix(LANGUAGE_SUFFIX))
        hub.choose_language(session_id, await _read_choice(request))

    await guarded(switch)
    response = web.Response(status=204)
    response.headers.update(CORS_HEADERS)
    return response


async def language_options(request: web.Request) -> web.Response:
    response = web.Response(status=204)
    response.headers.update(CORS_HEADERS)
    return response


async def post_take(request: web.Request) -> web.Response:
    """The caller (an interpreter with a live session in that booth) goes on air: 204."""
    hub = request.app[MEDIA]
    channel, language = request.match_info["channel"], request.match_info["lang"]

    async def take() -> None:
        hub.take_over(channel, language, media_token(request))

    await guarded(take)
    return web.Response(status=204)


async def get_booths(request: web.Request) -> web.Response:
    """``{"channel": c, "languages": [{"language", "connected": [names], "on_air"}]}``."""
    hub = request.app[MEDIA]
    channel = request.match_info["channel"]

    async def booths() -> web.Response:
        found = hub.booths(channel, media_token(request))
        return web.json_response(
            {
                "channel": channel,
                # The floor's publisher is here (not a pull of it): with several workers
                # the booth sits beside it, so an interpreter's page that is not listed
                # while this is true has its session somewhere else.
                "floor_live": hub.floor_here(channel),
                "languages": [
                    {"language": b.language, "connected": list(b.connected), "on_air": b.on_air}
                    for b in found
                ],
            },
            headers={"Cache-Control": "no-store"},
        )

    return await guarded(booths)


def setup(app: web.Application) -> None:
    """Before the WHEP routes: ``.../{session}/language`` would not match them anyway."""
    router = app.router
    for base in ("/whep/venue/{venue}/{session}", "/whep/{channel}/{session}"):
        router.add_post(base + LANGUAGE_SUFFIX, post_language)
        router.add_route("OPTIONS", base + LANGUAGE_SUFFIX, language_options)
    router.add_post("/api/interpret/{channel}/{lang}/take", post_take)
    router.add_get("/api/interpret/{channel}", get_booths)
