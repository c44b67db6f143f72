"""Turning failures into responses: pages for people, JSON for the API, no internals."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from signaling.errors import (
    BadMessage,
    Forbidden,
    NotFound,
    RateLimited,
    Refused,
    SignalingError,
    Unauthorized,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The one table from the control plane's refusals to HTTP; web/ws.py sends the same
# refusals as error frames instead. Anything else in the tree (e.g. "the room is busy")
# is a conflict the client may retry.
SIGNALING_STATUS: dict[type[SignalingError], type[web.HTTPError]] = {
    BadMessage: web.HTTPBadRequest,
    Unauthorized: web.HTTPUnauthorized,
    Forbidden: web.HTTPForbidden,
    NotFound: web.HTTPNotFound,
    Refused: web.HTTPConflict,
    RateLimited: web.HTTPTooManyRequests,
}


def http_error(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    """An HTTP error whose text is a short, safe explanation for the client."""
    return kind(text=message, content_type="text/plain")


def http_error_for(error: SignalingError) -> web.HTTPError:
    """The HTTP response of a signaling refusal: status from the table, its message as text."""
    kind = next(
        (status for cls, status in SIGNALING_STATUS.items() if isinstance(error, cls)),
        web.HTTPConflict,
    )
    response = http_error(kind, error.message)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


@web.middleware
async def signaling_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Handlers raise the control plane's errors as they are; this maps them to HTTP."""
    try:
        return await handler(request)
    except SignalingError as error:
        raise http_error_for(error) from None


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _render(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    if _wants_json(request):
        return web.json_response({"error": title, "detail": detail}, status=status)
    if request.path.startswith(("/whip/", "/whep/")):
        return web.Response(status=status, text=f"{title}: {detail}\n")
    response = aiohttp_jinja2.render_template(
        "error.html", request, {"status": status, "title": title, "detail": detail}
    )
    response.set_status(status)
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404s and other HTTP errors as pages (or JSON under /api/); 500s without internals."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or error.empty_body:
            raise
        # aiohttp's own text is "404: Not Found"; ours (from http_error) says more.
        default_text = f"{error.status}: {error.reason}"
        detail = error.text if error.text and error.text != default_text else ""
        if error.status == 404 and not detail:
            detail = f"Nothing lives at {request.path}."
        response = _render(request, error.status, error.reason, detail or error.reason)
        for name in (
            "Allow",
            "Retry-After",
            "WWW-Authenticate",
            "Accept-Post",
            "Access-Control-Allow-Origin",
            "Access-Control-Expose-Headers",
        ):
            if name in error.headers:
                response.headers[name] = error.headers[name]
        return response
    except Exception:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _render(request, 500, "Internal Server Error", "Something went wrong on our side.")
