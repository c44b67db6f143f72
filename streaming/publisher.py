"""A WHIP publisher: its connection, its tracks' ingest and the RTCP it owes the sender."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from streaming import aiortc_glue as glue
from streaming.ice_ports import IcePorts
from streaming.ingest import TrackIngest
from streaming.nack import RepairTuning
from streaming.packet import MediaPacket
from streaming.peer import PeerSession
from streaming.ports import SourceRole
from streaming.source import ChannelSource

logger = logging.getLogger(__name__)

# What we let a publisher send (REMB); the reference stream is 2.5 Mbit/s.
MAX_PUBLISH_BITRATE = 8_000_000


class PublisherTrack:
    """One kind (audio or video) of a publisher; the router's handler for it."""

    # Each NACK is sent this many times (a relay pull's long, lossy link sends more).
    nack_copies = 1

    def __init__(self, owner: PublisherSession, video: bool, rtcp_ssrc: int) -> None:
        self.owner = owner
        self.video = video
        self.rtcp_ssrc = rtcp_ssrc
        self.ingest: TrackIngest | None = None
        self.sink: glue.SrtpSink | None = None
        self.remote_ssrc: int | None = None
        self.payload_types: dict[int, str] = {}
        self.last_sr: tuple[int, float] | None = None

    def on_receive_started(self, payload_types: dict[int, str], sink: glue.SrtpSink) -> None:
        self.payload_types = payload_types
        self.sink = sink
        self.owner._track_started(self)

    def on_rtp(
        self,
        ssrc: int,
        payload_type: int,
        sequence_number: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
    ) -> None:
        ingest = self.ingest
        if ingest is None or payload_type not in self.payload_types:
            return
        self.remote_ssrc = ssrc
        packet, missing = ingest.receive(
            sequence_number, timestamp, marker, payload, time.monotonic()
        )
        if missing and self.video and self.sink is not None:
            ingest.stats.nacks_sent += 1
            nack = glue.nack(self.rtcp_ssrc, ssrc, missing)
            for _ in range(self.nack_copies):
                self.sink.send_rtcp(nack)
        if ingest.keyframe_wanted:
            # Loss retransmission cannot repair: a PLI, rate-limited with everyone else's.
            ingest.keyframe_wanted = False
            source = self.owner.source
            if source.publisher is self.owner:
                source.request_keyframe()
        self.forward(packet)

    def forward(self, packet: MediaPacket) -> None:
        """Hand a received packet to the channel (a relay pull's video holds it first)."""
        self.owner.source.push(packet)

    def on_sender_report(self, ssrc: int, ntp: int) -> None:
        self.last_sr = ((ntp >> 16) & 0xFFFFFFFF, time.monotonic())

    def send_picture_loss(self) -> None:
        if self.sink is not None and self.remote_ssrc is not None:
            self.sink.send_rtcp(glue.picture_loss(self.rtcp_ssrc, self.remote_ssrc))

    def send_reports(self) -> None:
        if self.sink is None or self.remote_ssrc is None or self.ingest is None:
            return
        lsr = dlsr = 0
        if self.last_sr is not None:
            lsr = self.last_sr[0]
            dlsr = int((time.monotonic() - self.last_sr[1]) * 65536)
        stats = self.ingest.stats
        highest = self.ingest.extended_highest_sequence & 0xFFFFFFFF
        report = glue.receiver_report(
            self.rtcp_ssrc,
            self.remote_ssrc,
            self.ingest.fraction_lost(),
            max(0, stats.lost),
            highest,
            lsr,
            dlsr,
        )
        if self.video:
            report += glue.remb(self.rtcp_ssrc, [self.remote_ssrc], MAX_PUBLISH_BITRATE)
        self.sink.send_rtcp(report)


class PublisherSession(PeerSession):
    """One WHIP session on a channel; becomes the channel's publisher once media flows."""

    def __init__(
        self,
        session_id: str,
        source: ChannelSource,
        video_codec: str,
        on_live: Callable[[PublisherSession], None],
        on_ended: Callable[[PublisherSession], None],
        role: SourceRole = "primary",
        ice_ports: IcePorts | None = None,
        tuning: RepairTuning | None = None,
    ) -> None:
        super().__init__(on_ended, ice_ports)
        self.tuning = tuning or RepairTuning()
        self.id = session_id
        self.role: SourceRole = role
        # Set before ``close()`` when the publisher said goodbye (DELETE): idle, not lost.
        self.ended_cleanly = False
        self.source = source
        self.channel = source.channel
        self.video_codec = video_codec
        self.live_at: float | None = None
        self.keyframe_requests_sent = 0
        self.epoch = 0
        self.tracks: list[PublisherTrack] = []
        self._on_live = on_live

    async def answer(self, offer_sdp: str, kinds: list[str]) -> str:
        """Negotiate: our transceivers first (codec preferences), then the offer."""
        for kind in kinds:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            glue.prefer_codecs(transceiver, self.video_codec)
            track = PublisherTrack(self, kind == "video", glue.rtcp_ssrc(transceiver))
            self.tracks.append(track)
            self._undo.append(glue.take_over_receiver(transceiver, track))
        return await self._negotiate(offer_sdp)

    def _track_started(self, track: PublisherTrack) -> None:
        if self._closed:  # ended while its connection was still being set up
            return
        if self.live_at is None:
            self.live_at = time.monotonic()
            self.epoch = self.source.attach_publisher(self, self.role)
            self._start_rtcp()
            self._on_live(self)
        track.ingest = TrackIngest(track.video, self.video_codec, self.epoch, self.tuning)

    def send_keyframe_request(self) -> None:
        """Ask the publisher for a keyframe (the source rate-limits the callers)."""
        self.keyframe_requests_sent += 1
        for track in self.tracks:
            if track.video:
                track.send_picture_loss()

    def _send_reports(self) -> None:
        for track in self.tracks:
            track.send_reports()

    def _leave(self) -> None:
        self.source.detach_publisher(self, cleanly=self.ended_cleanly)
