"""The one table from the control plane's errors to HTTP responses."""

from __future__ import annotations

import pytest

from signaling.errors import (
    BadMessage,
    Forbidden,
    NotFound,
    RateLimited,
    Refused,
    SignalingError,
    Unauthorized,
)
from web.errors import http_error_for


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadMessage("send JSON"), 400),
        (Unauthorized("no token"), 401),
        (Forbidden("not yours"), 403),
        (NotFound("no such venue"), 404),
        (Refused("already voted"), 409),
        (RateLimited("slow down"), 429),
        (SignalingError("the room is busy; try again", code="conflict"), 409),
    ],
)
def test_each_refusal_has_one_status_and_keeps_its_message(
    error: SignalingError, status: int
) -> None:
    response = http_error_for(error)
    assert response.status == status
    assert response.text == error.message
    # Only a missing or bad credential asks for one (RFC 6750).
    assert ("WWW-Authenticate" in response.headers) is (status == 401)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
