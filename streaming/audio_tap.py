"""A channel's audio decoded to PCM, for speech recognition: the media plane's one
decoder, and it runs only when a recognizer is configured (``[captions] asr_model``).

The tap is one more consumer of the channel's forwarded audio packets. It never slows
the forwarding: ``deliver`` only appends the payload to a bounded queue (dropping, and
counting, when the decoder falls behind); a task of its own decodes Opus with PyAV,
resamples to 16-bit mono at the rate the recognizer wants, and hands the PCM to a
``PcmSink`` (a port: what consumes it lives in the control plane, wired in web/).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

import av

from streaming.feed import Feed
from streaming.packet import MediaPacket
from streaming.send_batch import SendBatch

logger = logging.getLogger(__name__)
OPUS_RATE = 48000
# About 10 s of 20 ms Opus packets: past this the decoder is behind and packets drop.
MAX_QUEUED_PACKETS = 500


class PcmSink(Protocol):
    """Receives a channel's audio as 16-bit little-endian mono PCM."""

    def hear(self, channel: str, pcm: bytes, sample_rate: int) -> None: ...


class OpusDecoder:
    """Opus packets in, 16-bit mono PCM at ``rate`` out; a new publisher (epoch) starts
    a fresh decoder, since its stream shares no state with the last one's."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._epoch: int | None = None
        self._codec: av.AudioCodecContext | None = None
        self._resampler: av.AudioResampler | None = None

    def decode(self, payload: bytes, epoch: int) -> bytes:
        if epoch != self._epoch or self._codec is None:
            self._epoch = epoch
            codec = av.CodecContext.create("opus", "r")
            assert isinstance(codec, av.AudioCodecContext)
            codec.sample_rate = OPUS_RATE
            self._codec = codec
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.rate)
        assert self._resampler is not None
        pcm = bytearray()
        try:
            frames = self._codec.decode(av.Packet(payload))
        except av.FFmpegError:
            return b""  # a damaged packet: skip it, the next one decodes
        for frame in frames:
            for out in self._resampler.resample(frame):
                pcm += bytes(out.planes[0])[: out.samples * 2]
        return bytes(pcm)


class AudioTap:
    """Decodes one channel's audio while started; ``aclose`` detaches and stops it."""

    kinds = (False,)  # audio packets only

    def __init__(self, channel: str, feed: Feed, sink: PcmSink, rate: int = 16000) -> None:
        self.channel = channel
        self.dropped = 0
        self._feed = feed
        self._sink = sink
        self._decoder = OpusDecoder(rate)
        self._queue: collections.deque[tuple[int, bytes]] = collections.deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- PacketConsumer: called on the forwarding path, so it only queues ---------------

    def start(self, gop: Sequence[MediaPacket]) -> None:
        """Nothing to replay: audio starts with the next packet."""

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        if len(self._queue) >= MAX_QUEUED_PACKETS:
            self.dropped += 1
            return
        self._queue.append((packet.epoch, packet.payload))
        self._ready.set()

    # -- the decoding task --------------------------------------------------------------

    def begin(self) -> None:
        self._feed.add_consumer(self)
        self._task = asyncio.create_task(self._run(), name=f"audio-tap-{self.channel}")

    async def aclose(self) -> None:
        self._feed.remove_consumer(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            pcm = bytearray()
            while self._queue:
                epoch, payload = self._queue.popleft()
                pcm += self._decoder.decode(payload, epoch)
            if pcm:
                try:
                    self._sink.hear(self.channel, bytes(pcm), self._decoder.rate)
                except Exception:
                    logger.exception("the speech sink of %s failed on a chunk", self.channel)
