"""Bytes in, typed client messages out. No sockets, no awaits (frames out: ``server``)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from signaling.errors import BadMessage
from signaling.protocol.messages import PROTOCOL_VERSION, ClientMessage

_decoder = msgspec.json.Decoder(ClientMessage)
_object_decoder = msgspec.json.Decoder(dict[str, Any])
# msgspec names the offending path as ``$.field``; keep only that, never echo input back.
_PATH = re.compile(r"at `(\$[^`]{0,80})`")


def decode(data: str | bytes) -> ClientMessage:
    """Parse one websocket text frame; raise ``BadMessage`` with a short safe reason."""
    try:
        message: ClientMessage = _decoder.decode(data)
    except msgspec.ValidationError as error:
        raise BadMessage(_describe(str(error))) from None
    except msgspec.DecodeError:
        raise BadMessage("not a JSON object") from None
    except RecursionError:
        # Deeply nested input (thousands of levels) exhausts the parser's stack.
        raise BadMessage("nested too deeply") from None
    if message.v != PROTOCOL_VERSION:
        raise BadMessage(
            f"unsupported protocol version; this server speaks v{PROTOCOL_VERSION}",
            code="unsupported_version",
        )
    return message


def decode_object(body: bytes | str) -> dict[str, Any]:
    """Parse an HTTP API body that must be one JSON object; ``BadMessage`` for anything else."""
    try:
        value = _object_decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise BadMessage("send one JSON object") from None
    except RecursionError:
        raise BadMessage("nested too deeply") from None
    return value


def _describe(detail: str) -> str:
    where = _PATH.search(detail)
    if "Invalid value" in detail and "$.type" in detail:
        return "unknown message type"
    if "missing required field `type`" in detail:
        return "message needs a 'type'"
    if "Expected `object`" in detail and not where:
        return "not a JSON object"
    if "Object contains unknown field" in detail:
        return f"unknown field{' at ' + where.group(1) if where else ''}"
    if where:
        return f"invalid value at {where.group(1)}"
    return "invalid message"
