"""Relay links: an edge pulls a channel once from its upstream and fans it out locally.

When a local viewer (a WHEP player, or a venue output routed to the channel) wants a
channel that nobody publishes here, the node opens ONE WHEP client session to
``{upstream}/whep/{channel}`` and feeds what arrives into the channel's source exactly
as a WHIP publisher would: ``RelayPull`` *is* a ``PublisherSession`` whose connection
we offer instead of answer, so the RTP path is the publisher's (no decoder, NACKs,
receiver reports, keyframe requests upstream as PLI, rate-limited by the source).
Every other local viewer shares it. A link ends ``grace_seconds`` after its last local
viewer leaves, and is re-established with backoff when it breaks or stalls (an upstream
restart) while viewers remain; meanwhile the source shows lost, then live again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiortc import RTCSessionDescription

from config import RelaySettings
from streaming import aiortc_glue as glue
from streaming.http_rules import new_session_id
from streaming.nack import RepairTuning
from streaming.ports import UpstreamLocator
from streaming.publisher import PublisherSession, PublisherTrack
from streaming.relay_hold import HeldVideoTrack, hold_fields
from streaming.sdp_answer import with_opus_fec
from streaming.snapshots import PublisherSnapshot, RelaySnapshot
from streaming.source import ChannelSource
from streaming.whep_client import KEY_HINT, UpstreamRefused, WhepClient

logger = logging.getLogger(__name__)

# How often links are compared with what local viewers want (start, grace, stop).
RECONCILE_INTERVAL = 0.5
# The first pause before re-establishing a broken link; doubled up to retry_max_seconds.
RETRY_FIRST = 0.5
# A DELETE to the upstream at the end of a pull waits no longer than this.
DELETE_TIMEOUT = 2.0


class StaticUpstream:
    """Every channel comes from one configured node (``relay.upstream``)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    async def upstream_for(self, channel: str) -> str | None:
        return self.url


class RelayPull(PublisherSession):
    """The local publisher of a relayed channel: a WHEP client of the upstream."""

    def __init__(
        self,
        source: ChannelSource,
        video_codec: str,
        upstream: str,
        on_live: Callable[[PublisherSession], None],
        on_ended: Callable[[PublisherSession], None],
        tuning: RepairTuning | None = None,
        hold: tuple[float, int] = (0.0, 2),
    ) -> None:
        super().__init__(new_session_id(), source, video_codec, on_live, on_ended, tuning=tuning)
        self.upstream = upstream
        # The repair hold of the video: (most seconds a hole waits, most packets held).
        self.max_hold, self.max_held = hold

    async def offer(self) -> str:
        """Our recvonly offer (video, audio), codecs as a local publisher would send."""
        for kind in ("video", "audio"):
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            glue.prefer_codecs(transceiver, self.video_codec)
            ssrc = glue.rtcp_ssrc(transceiver)
            track = (
                HeldVideoTrack(self, ssrc, self.max_hold, self.max_held)
                if kind == "video" and self.max_hold > 0
                else PublisherTrack(self, kind == "video", ssrc)
            )
            self.tracks.append(track)
            self._undo.append(glue.take_over_receiver(transceiver, track))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        # Like a browser: Opus FEC wanted, so the upstream's answer keeps it negotiated.
        return with_opus_fec(str(self.pc.localDescription.sdp))

    async def accept(self, answer_sdp: str) -> None:
        """The upstream's answer: ICE and DTLS start, media follows."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    @property
    def held(self) -> HeldVideoTrack | None:
        """The video's repair hold, if it has one."""
        return next((t for t in self.tracks if isinstance(t, HeldVideoTrack)), None)

    def _leave(self) -> None:
        held = self.held
        if held is not None:
            held.cancel_timer()
        super()._leave()


async def reconcile_forever(reconcile: Callable[[], None], what: str) -> None:
    """Run ``reconcile`` every ``RECONCILE_INTERVAL``; a failed pass is logged and the
    next one runs as usual, so one bad link never stops the others being looked after."""
    while True:
        await asyncio.sleep(RECONCILE_INTERVAL)
        try:
            reconcile()
        except Exception:
            logger.exception("%s reconcile failed", what)


@dataclass(slots=True)
class _Link:
    """One channel's pull, across its reconnections."""

    channel: str
    live: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    session: RelayPull | None = None
    upstream: str | None = None
    state: str = "connecting"  # connecting | live | retrying | no upstream
    attempts: int = 0
    last_error: str | None = None
    idle_since: float | None = None
    waiters: int = 0


class RelayLinks:
    """Owns every relay link of this node; the hub asks it and reports local demand.

    ``wanted()`` names the channels local viewers want now; ``on_session``
    is told of each pull session starting (True) and ending (False), so the hub's stats
    and snapshots show it like a publisher.
    """

    def __init__(
        self,
        sources: Mapping[str, ChannelSource],
        locator: UpstreamLocator,
        client: WhepClient,
        settings: RelaySettings,
        video_codec: str,
        wanted: Callable[[], set[str]],
        on_session: Callable[[RelayPull, bool], None],
        clock: Callable[[], float] = time.monotonic,
        tuning: RepairTuning | None = None,
    ) -> None:
        self._tuning = tuning
        self._sources = sources
        self._locator = locator
        self._client = client
        self._settings = settings
        self._video_codec = video_codec
        self._wanted = wanted
        self._on_session = on_session
        self._clock = clock
        self._links: dict[str, _Link] = {}
        self._ending: set[asyncio.Task[None]] = set()
        self._reconciler: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._reconciler = asyncio.get_running_loop().create_task(
            reconcile_forever(self.reconcile, "relay")
        )

    async def aclose(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        for link in list(self._links.values()):
            self._stop(link)
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
        await self._client.aclose()

    # -- demand ------------------------------------------------------------------------

    async def bring_live(self, channel: str) -> bool:
        """Pull ``channel`` (if not already) and wait, bounded, until its media flows.

        False at once if no upstream has it; otherwise whether it went live within
        ``relay.wait_seconds`` (the caller answers 409 with Retry-After if not).
        """
        source = self._sources[channel]
        if source.live:
            return True
        if self._local_publisher(source):
            return False
        if await self._locator.upstream_for(channel) is None:
            return False
        link = self._ensure(channel)
        link.waiters += 1
        try:
            async with asyncio.timeout(self._settings.wait_seconds):
                while not source.live:
                    await link.live.wait()
                    if not source.live:  # set for a moment by a session that ended since
                        await asyncio.sleep(0.05)
        except TimeoutError:
            pass
        finally:
            link.waiters -= 1
        return source.live

    @staticmethod
    def _local_publisher(source: ChannelSource) -> bool:
        """A WHIP publisher of this node feeds the channel: no pull is needed."""
        return any(
            slot.publisher is not None and not isinstance(slot.publisher, RelayPull)
            for slot in source.slots.values()
        )

    def _ensure(self, channel: str) -> _Link:
        link = self._links.get(channel)
        if link is None:
            link = self._links[channel] = _Link(channel)
            link.task = asyncio.get_running_loop().create_task(
                self._run(link), name=f"relay {channel}"
            )
            link.task.add_done_callback(lambda _: self._forget(link))
        return link

    def _forget(self, link: _Link) -> None:
        if self._links.get(link.channel) is link:
            del self._links[link.channel]

    def _stop(self, link: _Link) -> None:
        """End ``link`` (its source goes idle, not lost: nobody wants it any more)."""
        if self._links.get(link.channel) is link:
            del self._links[link.channel]
        if link.session is not None:
            link.session.ended_cleanly = True
        if link.task is not None and not link.task.done():
            link.task.cancel()
            self._ending.add(link.task)
            link.task.add_done_callback(self._ending.discard)

    def reconcile(self) -> None:
        """One pass: start pulls venue outputs want, end pulls nobody wants after grace."""
        now = self._clock()
        wanted_now = self._wanted()
        for channel, source in self._sources.items():
            link = self._links.get(channel)
            local = self._local_publisher(source)
            wanted = channel in wanted_now or (link is not None and link.waiters > 0)
            if link is None:
                if wanted and not local and not source.live:
                    self._ensure(channel)
                continue
            if local:
                logger.info("channel %s: a local publisher; the relay pull ends", channel)
                self._stop(link)
            elif wanted:
                link.idle_since = None
            elif link.idle_since is None:
                link.idle_since = now
            elif now - link.idle_since >= self._settings.grace_seconds:
                logger.info("channel %s: no local viewer; the relay pull ends", channel)
                self._stop(link)

    # -- one link ----------------------------------------------------------------------

    async def _run(self, link: _Link) -> None:
        delay = RETRY_FIRST
        source = self._sources[link.channel]
        while not self._local_publisher(source):
            upstream = await self._locator.upstream_for(link.channel)
            if upstream is None:
                link.state = "no upstream"
            elif await self._pull_once(link, source, upstream):
                delay = RETRY_FIRST  # it worked for a while: retry soon
            link.state = "retrying"
            # Jittered, so the edges of a restarted origin do not all come back at once.
            await asyncio.sleep(delay * (0.75 + 0.5 * random.random()))
            delay = min(delay * 2, self._settings.retry_max_seconds)

    async def _pull_once(self, link: _Link, source: ChannelSource, upstream: str) -> bool:
        """One WHEP session to ``upstream``, until it ends or stalls; True if it went live."""
        link.upstream = upstream
        link.state = "connecting"
        link.attempts += 1
        ended = asyncio.Event()

        def went_live(_: PublisherSession) -> None:
            link.state = "live"
            link.last_error = None
            link.live.set()

        settings = self._settings
        session = RelayPull(
            source,
            self._video_codec,
            upstream,
            went_live,
            lambda _: ended.set(),
            self._tuning,
            hold=(settings.repair_hold_ms / 1000, settings.repair_hold_max_packets),
        )
        link.session = session
        self._on_session(session, True)
        location: str | None = None
        try:
            offer = await session.offer()
            answer = await self._client.offer(f"{upstream}/whep/{link.channel}", offer)
            location = answer.location
            await session.accept(answer.sdp)
            await self._watch(link, session, source, ended)
        except UpstreamRefused as error:
            link.last_error = str(error)
            if error.credentials_refused:  # every pull fails until the keys agree
                link.last_error += f" ({KEY_HINT})"
                logger.warning("channel %s: %s: %s", link.channel, error, KEY_HINT)
            else:
                logger.info("channel %s: relay pull refused: %s", link.channel, error)
        except (ValueError, OSError) as error:  # a bad answer; no route to the upstream
            link.last_error = f"{error!r}"
            logger.warning("channel %s: relay pull failed: %r", link.channel, error)
        except Exception as error:  # aiortc's own errors: this attempt fails, the link retries
            link.last_error = f"{error!r}"
            logger.exception("channel %s: relay pull failed", link.channel)
        finally:
            link.live.clear()
            link.session = None
            self._on_session(session, False)
            await session.close()
            if location is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DELETE_TIMEOUT):
                        await self._client.delete(location)
        return session.live_at is not None

    async def _watch(
        self, link: _Link, session: RelayPull, source: ChannelSource, ended: asyncio.Event
    ) -> None:
        """Return when the session's connection ended or its media stopped (a stall)."""
        stall = self._settings.stall_seconds
        while not ended.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECONCILE_INTERVAL):
                    await ended.wait()
            now = self._clock()
            if session.live_at is None:
                if now - session.created_at > 2 * stall:
                    link.last_error = "no media from the upstream"
                    logger.warning("channel %s: relay pull got no media", link.channel)
                    return
                continue
            slot = source.slots[session.role]
            last = slot.last_packet_at if slot.publisher is session else None
            if last is None or now - last > stall:
                link.last_error = "media stopped"
                logger.warning("channel %s: relay pull stalled; re-establishing", link.channel)
                return
        link.last_error = f"connection {session.connection_state}"

    # -- snapshots ---------------------------------------------------------------------

    def snapshots(
        self, stats: Callable[[RelayPull], PublisherSnapshot]
    ) -> tuple[RelaySnapshot, ...]:
        """Every link now, with its session's receive stats when it has one."""
        result = []
        for link in self._links.values():
            session = link.session
            tracks = stats(session).tracks if session is not None else ()
            video = next((t for t in tracks if t.video), None)
            result.append(
                RelaySnapshot(
                    channel=link.channel,
                    upstream=link.upstream,
                    state=link.state,
                    attempts=link.attempts,
                    last_error=link.last_error,
                    local_viewers_wanted=link.idle_since is None,
                    bitrate_bps=sum(t.bitrate_bps for t in tracks),
                    packets=sum(t.packets for t in tracks),
                    packets_lost=sum(t.packets_lost for t in tracks),
                    keyframe_requests_sent=session.keyframe_requests_sent if session else 0,
                    rtt_s=video.repair_rtt_s if video else None,
                    loss_fraction=video.loss_fraction if video else 0.0,
                    nacks_sent=video.nacks_sent if video else 0,
                    retransmissions=video.repaired if video else 0,
                    keyframes_for_loss=video.keyframes_wanted if video else 0,
                    freeze_s=video.freeze_s if video else 0.0,
                    freezes=video.freezes if video else 0,
                    **hold_fields(session.held if session is not None else None),
                )
            )
        return tuple(result)
