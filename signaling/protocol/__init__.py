"""The wire protocol: typed client messages and server frames (sans-I/O)."""

from signaling.protocol.codec import decode
from signaling.protocol.messages import PROTOCOL_VERSION, ClientMessage
from signaling.protocol.server import Frame, ServerFrame, encode_frame

__all__ = ["PROTOCOL_VERSION", "ClientMessage", "Frame", "ServerFrame", "decode", "encode_frame"]
