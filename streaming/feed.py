"""What subscribers attach to: a channel's live source or a venue output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from streaming.packet import MediaPacket
from streaming.send_batch import SendBatch


class PacketConsumer(Protocol):
    """Receives a feed's packets of ``kinds`` (True: video, False: audio) with the video
    frame each belongs to so far, and the batch the feed flushes when the call ends."""

    @property
    def kinds(self) -> tuple[bool, ...]: ...

    def deliver(
        self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch
    ) -> None: ...

    def start(self, gop: Sequence[MediaPacket]) -> None: ...


class Feed(Protocol):
    """A stream of packets subscribers can join at any moment."""

    def add_consumer(self, consumer: PacketConsumer) -> None: ...

    def remove_consumer(self, consumer: PacketConsumer) -> None: ...

    def gop_snapshot(self) -> list[MediaPacket]: ...

    def request_keyframe(self) -> None: ...
