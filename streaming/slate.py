"""A venue's slate as a feed: one encoded second looped, with advancing timestamps.

A venue output cuts to its slate like to any source; viewers' writers see a new epoch
and re-base at its keyframe. Packets are made only while someone consumes the slate,
and every viewer shares them (nothing is encoded per viewer).
"""

from __future__ import annotations

import logging
import random
import struct
from collections.abc import Sequence

from streaming.consumers import Consumers
from streaming.feed import PacketConsumer
from streaming.packet import MediaPacket
from streaming.send_batch import PLAIN_BATCH
from streaming.slate_picture import VIDEO_CLOCK, SlateClip
from streaming.source import next_epoch

logger = logging.getLogger(__name__)

AUDIO_INTERVAL = 0.02
AUDIO_TICKS = 960
# After a stall of the event loop, skip ahead instead of sending a burst.
MAX_CATCH_UP = 0.2
_PICTURE_ID = struct.Struct("!H")


class SlateFeed:
    """Plays one venue's slate clip to whoever consumes it; ``tick()`` paces it."""

    channel: str | None = None  # a venue output showing it reports "nothing on air"

    def __init__(self, venue: str, video_codec: str, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        self.venue = venue
        self.video_codec = video_codec
        self.epoch = next_epoch()
        self._clip: SlateClip | None = None
        self._consumers = Consumers()
        self._sequence = {True: rng.randrange(1 << 16), False: rng.randrange(1 << 16)}
        self._audio_timestamp = rng.randrange(1 << 32)
        self._video_base = rng.randrange(1 << 32)
        self._picture_id = rng.randrange(1 << 15)
        self._index = 0
        self._started_at: float | None = None
        self._next_video = 0.0
        self._next_audio = 0.0

    @property
    def ready(self) -> bool:
        """A clip is loaded: the slate can go on air."""
        return self._clip is not None

    @property
    def consumer_count(self) -> int:
        return self._consumers.count()

    def load(self, clip: SlateClip) -> None:
        """Play ``clip`` from its keyframe on."""
        self._clip = clip
        self._index = 0

    def add_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.add(consumer)

    def remove_consumer(self, consumer: PacketConsumer) -> None:
        self._consumers.remove(consumer)

    def gop_snapshot(self) -> list[MediaPacket]:
        """Nothing cached: a keyframe request restarts the loop at once instead."""
        return []

    def request_keyframe(self) -> None:
        """Restart the clip at its keyframe on the next tick."""
        self._index = 0
        self._next_video = 0.0

    def tick(self, now: float) -> None:
        """Send what is due at ``now`` (monotonic seconds)."""
        clip = self._clip
        if clip is None or not (self._consumers[True] or self._consumers[False]):
            self._started_at = None
            return
        if self._started_at is None:
            self._started_at = now
            self._next_video = self._next_audio = now
        if now - self._next_audio > MAX_CATCH_UP:
            self._next_audio = now
        while self._next_audio <= now:
            self._send_audio(clip, now)
            self._next_audio += AUDIO_INTERVAL
        if self._next_video <= now:
            self._send_picture(clip, now)
            self._next_video = max(self._next_video + 1 / clip.fps, now - MAX_CATCH_UP)

    def _send_audio(self, clip: SlateClip, now: float) -> None:
        packet = MediaPacket(
            False,
            clip.audio_payload,
            self._next_sequence(False),
            self._audio_timestamp,
            True,
            self.epoch,
            now,
        )
        self._audio_timestamp = (self._audio_timestamp + AUDIO_TICKS) & 0xFFFFFFFF
        self._deliver(packet, ())

    def _send_picture(self, clip: SlateClip, now: float) -> None:
        assert self._started_at is not None
        # The media clock follows the wall clock, so restarts at a keyframe stay in step.
        timestamp = (self._video_base + int((now - self._started_at) * VIDEO_CLOCK)) & 0xFFFFFFFF
        payloads = clip.video_frames[self._index]
        keyframe = self._index == 0
        self._index = (self._index + 1) % len(clip.video_frames)
        self._picture_id = (self._picture_id + 1) & 0x7FFF
        frame: list[MediaPacket] = []
        for number, payload in enumerate(payloads):
            packet = MediaPacket(
                True,
                self._with_picture_id(payload),
                self._next_sequence(True),
                timestamp,
                number == len(payloads) - 1,
                self.epoch,
                now,
                frame_start=number == 0,
                keyframe=keyframe,
            )
            frame.append(packet)
            self._deliver(packet, frame)

    def _with_picture_id(self, payload: bytes) -> bytes:
        # aiortc's VP8 descriptor always carries a 15-bit picture id in bytes 2-3; a
        # looped clip repeating its ids would look like old pictures to a receiver.
        if self.video_codec != "VP8" or len(payload) < 4 or not payload[0] & payload[1] & 0x80:
            return payload
        return payload[:2] + _PICTURE_ID.pack(0x8000 | self._picture_id) + payload[4:]

    def _next_sequence(self, video: bool) -> int:
        sequence = self._sequence[video]
        self._sequence[video] = (sequence + 1) & 0xFFFF
        return sequence

    def _deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket]) -> None:
        # A slate is a few packets a second: the one-packet path is enough.
        self._consumers.deliver(packet, frame, PLAIN_BATCH, f"the {self.venue} slate")
