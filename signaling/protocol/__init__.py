"""The wire protocol: typed client messages and server frames (sans-I/O)."""

from signaling.protocol.codec import decode, encode, error_frame
from signaling.protocol.messages import PROTOCOL_VERSION, ClientMessage

__all__ = ["PROTOCOL_VERSION", "ClientMessage", "decode", "encode", "error_frame"]
