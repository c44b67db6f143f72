"""``/interpret/{channel}``: an interpreter's booth page (floor in, voice out, hand-over).

The page is public like the publish page (a token may be pasted or passed in the URL
fragment); an interpreter invite's cookie fills in who and which language. What the page
does is all over HTTP: WHEP of the floor, WHIP ``?lang=``, and web/languages_http.py.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from signaling.auth import Role
from web.display_names import display_names
from web.keys import EVENT
from web.media_pages import _channel, _signed_in


@aiohttp_jinja2.template("interpret.html")
async def interpret_page(request: web.Request) -> dict[str, Any]:
    channel = _channel(request)
    event = request.app[EVENT]
    grant = _signed_in(request)
    mine = grant is not None and grant.role is Role.INTERPRETER and grant.channels == (channel,)
    # The languages this channel's sessions are interpreted into, for a pasted token's hint.
    languages = sorted(
        {code for s in event.sessions if s.channel == channel for code in s.languages[1:]}
    )
    return {
        "event": event,
        "channel": event.channel(channel),
        "signed_in": grant.identity if mine and grant is not None else "",
        "language": grant.language if mine and grant is not None else "",
        "languages": languages,
        "names": display_names(event),
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/interpret/{channel}", interpret_page)
