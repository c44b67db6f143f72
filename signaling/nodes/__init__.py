"""The node directory: which nodes are up, and which node holds each live channel."""

from signaling.nodes.directory import ChannelClaims, Directory, DirectoryUnavailable, NodeEntry
from signaling.nodes.local import LocalDirectory
from signaling.nodes.redis import RedisDirectory

__all__ = [
    "ChannelClaims",
    "Directory",
    "DirectoryUnavailable",
    "LocalDirectory",
    "NodeEntry",
    "RedisDirectory",
]
