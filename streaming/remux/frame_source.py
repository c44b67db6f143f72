"""One depacketizing pass per feed, whatever number of remuxes read it.

A channel is recorded and packaged for HLS at once; both need its packets as frames.
``FrameSources`` keeps one ``FrameSource`` per feed while anybody listens: it is the
feed's consumer (``deliver`` only queues, bounded, so forwarding never waits), and a
task of its own depacketizes each packet once and hands the frame to every listener.
The last listener leaving detaches it, so with nobody listening nothing is queued or
depacketized.

Only depacketizing is shared, not muxing: the recorder's files and the HLS windows
differ in tracks (files carry every live language, HLS has a rendition per language),
in fragment length (a file's keyframe-long fragments, HLS's half-second parts) and in
where a container ends (a file rotates hourly and per session; HLS must not restart its
timeline for that). Each listener muxes its own container from the shared frames.

A listener joining a source already running gets the video frames since the last
keyframe first (as a new consumer of the feed gets its group of pictures), so a new
file starts at once, not at the next keyframe.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from streaming.feed import Feed
from streaming.packet import MediaPacket
from streaming.remux.frames import MediaFrame
from streaming.remux.h264 import H264Depacketizer
from streaming.remux.opus import opus_frame
from streaming.remux.vp8 import Vp8Depacketizer
from streaming.send_batch import SendBatch

logger = logging.getLogger(__name__)

# About 10 s of media at a few Mbit/s; past this the task is behind and packets drop.
MAX_QUEUED_PACKETS = 4000
# Video frames kept since the last keyframe for a listener joining late (10 s at 60 fps);
# a longer group of pictures is not kept, and a late listener waits for a keyframe.
MAX_GOP_FRAMES = 600


class FrameListener(Protocol):
    """Gets each frame of a feed, in order (video and the feed's audio as track 0)."""

    def on_frame(self, frame: MediaFrame) -> None: ...


class FrameSource:
    """One feed's packets depacketized once, for every listener (a ``PacketConsumer``)."""

    kinds = (True, False)

    def __init__(self, name: str, feed: Feed, video_codec: str) -> None:
        self.name = name
        self.feed = feed
        self.video_codec = video_codec
        self.packets = 0  # packets depacketized
        self.frames = 0  # frames handed out (each once, whatever the number of listeners)
        self.dropped = 0  # packets dropped because the task fell behind
        self._listeners: list[FrameListener] = []
        self._replays: list[tuple[FrameListener, list[MediaFrame]]] = []
        self._queue: collections.deque[MediaPacket] = collections.deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._depacketizer = self._new_depacketizer()
        self._gop: list[MediaFrame] = []

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def listening(self) -> list[FrameListener]:
        return list(self._listeners)

    # -- forwarding path: queue only --------------------------------------------------

    def start(self, gop: Sequence[MediaPacket]) -> None:
        for packet in gop:
            self._enqueue(packet)

    def deliver(self, packet: MediaPacket, frame: Sequence[MediaPacket], batch: SendBatch) -> None:
        self._enqueue(packet)

    def _enqueue(self, packet: MediaPacket) -> None:
        if len(self._queue) >= MAX_QUEUED_PACKETS:
            self.dropped += 1
            return
        self._queue.append(packet)
        self._ready.set()

    # -- listeners ----------------------------------------------------------------------

    def add(self, listener: FrameListener, keyframe: bool = True) -> None:
        """``listener`` gets every frame from now on; the first one attaches to the feed.
        With ``keyframe``, a keyframe is asked for when none is at hand to start from."""
        if self._task is None:
            self._listeners.append(listener)
            gop = self.feed.gop_snapshot()
            self.feed.add_consumer(self)
            self.start(gop)
            if keyframe and not gop:
                self.feed.request_keyframe()
            self._task = asyncio.create_task(self._run(), name=f"frames-{self.name}")
            return
        # Late: the picture so far first (before anything still queued), then live.
        self._listeners.append(listener)
        if self._gop:
            self._replays.append((listener, list(self._gop)))
            self._ready.set()
        elif keyframe:
            self.feed.request_keyframe()

    async def remove(self, listener: FrameListener) -> None:
        """``listener`` gets what is queued now, then nothing; the last one detaches."""
        self._drain()
        if listener in self._listeners:
            self._listeners.remove(listener)
        self._replays = [(other, gop) for other, gop in self._replays if other is not listener]
        if self._listeners:
            return
        # All of the ending is done before the await: a listener joining meanwhile
        # starts afresh (a new task, attached again).
        self.feed.remove_consumer(self)
        task, self._task = self._task, None
        self._queue.clear()
        self._gop = []
        self._depacketizer = self._new_depacketizer()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the task ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            self._drain()

    def _drain(self) -> None:
        replays, self._replays = self._replays, []
        for listener, frames in replays:
            for frame in frames:
                self._hand(listener, frame)
        while self._queue:
            packet = self._queue.popleft()
            self.packets += 1
            try:
                if packet.video:
                    frames = self._depacketizer.push(packet)
                else:
                    audio = opus_frame(packet)
                    frames = [audio] if audio is not None else []
            except Exception:
                logger.exception("depacketizing %s failed; waiting for a keyframe", self.name)
                self._depacketizer, self._gop = self._new_depacketizer(), []
                continue
            for frame in frames:
                self._keep(frame)
                self.frames += 1
                for listener in tuple(self._listeners):
                    self._hand(listener, frame)

    def _keep(self, frame: MediaFrame) -> None:
        if not frame.video:
            return
        if frame.keyframe and frame.format is not None:
            self._gop = [frame]
        elif self._gop:
            self._gop.append(frame)
            if len(self._gop) > MAX_GOP_FRAMES:
                self._gop = []

    def _hand(self, listener: FrameListener, frame: MediaFrame) -> None:
        try:
            listener.on_frame(frame)
        except Exception:  # one listener's failure is its own, never the others'
            logger.exception("a frame listener of %s failed", self.name)

    def _new_depacketizer(self) -> H264Depacketizer | Vp8Depacketizer:
        return Vp8Depacketizer() if self.video_codec == "VP8" else H264Depacketizer()


class FrameSources:
    """The frame sources of one process, one per feed while it has listeners.

    ``depacketized`` counts every packet depacketized by any source, ended ones too: with
    a channel recorded and packaged, it grows by one per packet, not two.
    """

    def __init__(self) -> None:
        self._sources: dict[int, FrameSource] = {}
        self._ended_packets = 0

    @property
    def depacketized(self) -> int:
        return self._ended_packets + sum(s.packets for s in self._sources.values())

    @property
    def active(self) -> int:
        """Feeds being depacketized now."""
        return len(self._sources)

    def source_of(self, feed: Feed) -> FrameSource | None:
        return self._sources.get(id(feed))

    def join(
        self,
        name: str,
        feed: Feed,
        video_codec: str,
        listener: FrameListener,
        keyframe: bool = True,
    ) -> FrameSource:
        """``listener`` reads ``feed``'s frames; the source is made on the first join."""
        source = self._sources.get(id(feed))
        if source is None:
            # Keyed by identity: the source holds the feed, so the id is not reused.
            source = self._sources[id(feed)] = FrameSource(name, feed, video_codec)
        source.add(listener, keyframe)
        return source

    async def aclose(self) -> None:
        """End every source still read (its readers should have left first)."""
        for source in list(self._sources.values()):
            logger.warning("frames of %s still read at shutdown: ended", source.name)
            for listener in source.listening():
                await self.leave(source, listener)

    async def leave(self, source: FrameSource, listener: FrameListener) -> None:
        """``listener`` stops reading; the last one ends the source."""
        await source.remove(listener)
        if source.listeners == 0 and self._sources.get(id(source.feed)) is source:
            del self._sources[id(source.feed)]
            self._ended_packets += source.packets
