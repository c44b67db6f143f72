"""A WHEP subscriber: its connection and one writer per track, fed by a channel or venue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from streaming import aiortc_glue as glue
from streaming.feed import Feed
from streaming.ice_ports import IcePorts
from streaming.nack import RepairTuning, history_size
from streaming.peer import PeerSession
from streaming.rtp_rewrite import RtpRewriter
from streaming.writer import TrackWriter

logger = logging.getLogger(__name__)

RETRY_BLOCKED = 0.005
VIDEO_QUEUE_PACKETS = 1024
AUDIO_QUEUE_PACKETS = 64
NTP_EPOCH_OFFSET = 2208988800


def ntp_now() -> int:
    """The current wall-clock time as a 64-bit NTP timestamp."""
    now = time.time() + NTP_EPOCH_OFFSET
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * (1 << 32))


class _SubscriberTrack:
    """One kind of a subscriber; the router's handler for its sender SSRC."""

    def __init__(self, owner: SubscriberSession, video: bool) -> None:
        self.owner = owner
        self.video = video
        self.writer: TrackWriter | None = None
        self.sink: glue.SrtpSink | None = None
        self.ssrc = 0
        self.rtt: float | None = None
        self.packets_lost = 0
        self.fraction_lost = 0  # of the last receiver report, 0-255
        self.keyframe_requests = 0
        self.clock_rate = 90000
        self._sent_reports: dict[int, float] = {}
        self._rate_mark: tuple[float, int] | None = None  # (when, packets sent) at the last RR

    def on_send_started(
        self, sink: glue.SrtpSink, ssrc: int, payload_type: int, clock_rate: int
    ) -> None:
        self.sink, self.ssrc, self.clock_rate = sink, ssrc, clock_rate
        self.writer = TrackWriter(
            video=self.video,
            rewriter=RtpRewriter(ssrc, payload_type, clock_rate),
            sink=sink,
            capacity=VIDEO_QUEUE_PACKETS if self.video else AUDIO_QUEUE_PACKETS,
            clock=time.monotonic,
            request_keyframe=self.owner.feed.request_keyframe,
            on_blocked=self.owner._blocked,
        )
        self.owner._track_started(self)

    def on_nack(self, lost: list[int]) -> None:
        if self.writer is not None:
            self.writer.retransmit(lost)

    def on_keyframe_request(self) -> None:
        self.keyframe_requests += 1
        self.owner.feed.request_keyframe()

    def on_receiver_report(
        self, fraction_lost: int, packets_lost: int, jitter: int, lsr: int, dlsr: int
    ) -> None:
        now = time.monotonic()
        self.packets_lost = packets_lost
        self.fraction_lost = fraction_lost
        sent_at = self._sent_reports.get(lsr)
        if sent_at is not None:
            self.rtt = max(0.0, now - sent_at - dlsr / 65536)
        self._size_history(now, jitter / self.clock_rate)

    def _size_history(self, now: float, jitter: float) -> None:
        """Keep enough history for this link's NACKs: RTT and jitter at its packet rate."""
        writer = self.writer
        if writer is None:
            return
        sent = writer.stats.packets_sent
        mark, self._rate_mark = self._rate_mark, (now, sent)
        if mark is None or now - mark[0] < 0.2:
            return
        rate = (sent - mark[1]) / (now - mark[0])
        maximum = self.owner.tuning.history_max_packets
        writer.resize_history(history_size(self.rtt, rate, jitter, maximum=maximum))

    def send_report(self) -> None:
        writer, sink = self.writer, self.sink
        if writer is None or sink is None or writer.stats.packets_sent == 0:
            return
        # The media clock now, extrapolated from the last packet sent.
        rewriter = writer.rewriter
        elapsed = time.monotonic() - (writer.last_sent_at or time.monotonic())
        rtp_now = (rewriter.last_timestamp + int(elapsed * rewriter.clock_rate)) % (1 << 32)
        ntp = ntp_now()
        self._sent_reports[(ntp >> 16) & 0xFFFFFFFF] = time.monotonic()
        if len(self._sent_reports) > 8:
            del self._sent_reports[next(iter(self._sent_reports))]
        stats = writer.stats
        sink.send_rtcp(
            glue.sender_report(self.ssrc, ntp, rtp_now, stats.packets_sent, stats.bytes_sent)
        )


class SubscriberSession(PeerSession):
    """One WHEP session playing a feed (a channel's source or a venue output)."""

    def __init__(
        self,
        session_id: str,
        feed: Feed,
        label: str,
        video_codec: str,
        on_ended: Callable[[SubscriberSession], None],
        ice_ports: IcePorts | None = None,
        tuning: RepairTuning | None = None,
    ) -> None:
        super().__init__(on_ended, ice_ports)
        self.tuning = tuning or RepairTuning()
        self.id = session_id
        self.feed = feed
        self.label = label
        self.video_codec = video_codec
        self.created_utc = datetime.now(UTC)
        self.tracks: list[_SubscriberTrack] = []
        # Where the audio writer reads: the feed itself, or a language track of it.
        self.audio_feed: Feed = feed
        self.language: str | None = None
        self._attached = False
        self._video_writer: TrackWriter | None = None
        self._retry: asyncio.TimerHandle | None = None

    async def answer(self, offer_sdp: str, kinds: list[str]) -> str:
        for kind in kinds:
            transceiver = self.pc.addTransceiver(kind, direction="sendonly")
            glue.prefer_codecs(transceiver, self.video_codec)
            track = _SubscriberTrack(self, kind == "video")
            self.tracks.append(track)
            self._undo.append(glue.take_over_sender(transceiver, track))
        return await self._negotiate(offer_sdp)

    def _track_started(self, track: _SubscriberTrack) -> None:
        if self._closed:  # ended while its connection was still being set up
            return
        if track.video:
            self._video_writer = track.writer
        if not self._attached:
            self._attached = True
            self._start_rtcp()
        if track.writer is None:
            return
        # The writers themselves consume the feed: no per-packet dispatch in between.
        if track.video:
            track.writer.start(self.feed.gop_snapshot())
            self.feed.request_keyframe()
            self.feed.add_consumer(track.writer)
        else:
            self.audio_feed.add_consumer(track.writer)

    def listen_to(self, audio_feed: Feed, language: str | None) -> None:
        """Take audio from ``audio_feed`` from the next packet on (no renegotiation: the
        writer sees a new epoch and re-bases, as at a venue-output switch)."""
        previous, self.audio_feed, self.language = self.audio_feed, audio_feed, language
        if previous is audio_feed or self._closed:
            return
        for track in self.tracks:
            if not track.video and track.writer is not None:
                previous.remove_consumer(track.writer)
                audio_feed.add_consumer(track.writer)

    def _blocked(self) -> None:
        if self._retry is None and not self._closed:
            self._retry = asyncio.get_running_loop().call_later(RETRY_BLOCKED, self._flush)

    def _flush(self) -> None:
        self._retry = None
        for track in self.tracks:
            if track.writer is not None:
                track.writer.flush()

    @property
    def first_frame_after(self) -> float | None:
        """Seconds from the offer to the first video packet sent (a keyframe)."""
        writer = self._video_writer
        if writer is None or writer.stats.first_packet_at is None:
            return None
        return writer.stats.first_packet_at - self.created_at

    def _send_reports(self) -> None:
        for track in self.tracks:
            track.send_report()

    def _leave(self) -> None:
        for track in self.tracks:
            if track.writer is not None:
                (self.feed if track.video else self.audio_feed).remove_consumer(track.writer)
        if self._retry is not None:
            self._retry.cancel()
