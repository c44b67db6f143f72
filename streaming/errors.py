"""The media plane's exceptions; ``web`` maps each kind to one HTTP status in one place."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error the media plane reports to a client."""


class BadRequest(MediaError):
    """The request or its SDP cannot be parsed (HTTP 400)."""


class UnsupportedMediaType(MediaError):
    """The body is not of the content type the endpoint takes (HTTP 415)."""


class Unauthenticated(MediaError):
    """No usable credentials were presented (HTTP 401)."""


class Forbidden(MediaError):
    """Credentials were presented but do not allow this (HTTP 403)."""


class NotFound(MediaError):
    """No such channel, venue or session (HTTP 404)."""


class NotLive(MediaError):
    """The channel exists but nobody publishes it right now (HTTP 409)."""


class Conflict(MediaError):
    """The request does not fit the state it meets (409), e.g. a take-over without a seat."""


class UnsupportedOffer(MediaError):
    """The offer parses but asks for something we do not do (HTTP 422)."""


class PreconditionFailed(MediaError):
    """An ``If-Match`` did not match the session's ETag (HTTP 412)."""


class PayloadTooLarge(BadRequest):
    """The SDP body is larger than we parse (HTTP 413)."""


class Refused(MediaError):
    """Admission control said no; ``retry_after`` is a whole number of seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(Refused):
    """This client address has too many sessions or sets them up too fast (HTTP 429)."""


class OverCapacity(Refused):
    """The server or this channel has all the sessions it takes (HTTP 503)."""
