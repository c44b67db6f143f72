"""The control plane's exception tree; web/ws.py maps it onto error frames in one place."""

from __future__ import annotations


class SignalingError(Exception):
    """A refusal the client may see: a stable ``code`` and a short, safe ``message``."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadMessage(SignalingError):
    code = "bad_message"


class Unauthorized(SignalingError):
    code = "unauthorized"


class Forbidden(SignalingError):
    code = "forbidden"


class NotFound(SignalingError):
    code = "not_found"


class Refused(SignalingError):
    """The Q&A state machine said no (wrong state, duplicate, already voted...)."""

    code = "refused"


class RateLimited(SignalingError):
    code = "rate_limited"
