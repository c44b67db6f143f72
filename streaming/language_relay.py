"""Language tracks over relay links: an edge pulls ``?lang=`` audio from its upstream.

A node that pulls a channel (``streaming/relay.py``) has no interpreters of its own: when
a local listener wants a language of such a channel, the node opens one more WHEP client
session to the same upstream, ``/whep/{channel}?lang=L``, audio only, and makes it a seat
of its own ``L`` booth (a relayed seat: on air, never named in the booth or in language
events, which belong to the node that has the interpreters). The upstream's answer is
already "the interpreter, else the floor", as one continuous stream, so the edge's
listeners hear what the origin's hear; until the pull is live they hear the floor. A pull
ends ``grace_seconds`` after the track's last local listener, or when the channel is no
longer relayed here; it is re-established with backoff while it is wanted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from config import RelaySettings
from streaming import aiortc_glue as glue
from streaming.languages import BoothSeat, LanguageDesk
from streaming.publisher import PublisherSession, PublisherTrack
from streaming.relay import RECONCILE_INTERVAL, RETRY_FIRST, RelayPull, reconcile_forever
from streaming.sdp_answer import with_opus_fec
from streaming.source import ChannelSource
from streaming.whep_client import WhepClient

logger = logging.getLogger(__name__)

DELETE_TIMEOUT = 2.0


class LanguagePull(RelayPull):
    """A relayed seat's session: a recvonly audio-only WHEP client of the upstream."""

    async def offer(self) -> str:
        transceiver = self.pc.addTransceiver("audio", direction="recvonly")
        track = PublisherTrack(self, False, glue.rtcp_ssrc(transceiver))
        self.tracks.append(track)
        self._undo.append(glue.take_over_receiver(transceiver, track))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return with_opus_fec(str(self.pc.localDescription.sdp))


@dataclass(slots=True)
class _Pull:
    channel: str
    language: str
    task: asyncio.Task[None] | None = None
    idle_since: float | None = None


class LanguageRelays:
    """Every language pull of this node, started and ended by what local listeners want."""

    def __init__(
        self,
        desk: LanguageDesk,
        sources: Callable[[str], ChannelSource],
        client: WhepClient,
        settings: RelaySettings,
        video_codec: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._desk = desk
        self._sources = sources
        self._client = client
        self._settings = settings
        self._video_codec = video_codec
        self._clock = clock
        self._pulls: dict[tuple[str, str], _Pull] = {}
        self._reconciler: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reconciler = asyncio.get_running_loop().create_task(
            reconcile_forever(self.reconcile, "language relay")
        )

    async def aclose(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        tasks = [p.task for p in self._pulls.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pulls.clear()
        await self._client.aclose()

    @property
    def pulls(self) -> tuple[tuple[str, str], ...]:
        """The (channel, language) pairs pulled now."""
        return tuple(self._pulls)

    def _upstream_of(self, channel: str) -> str | None:
        """Where the channel's floor comes from, if it is relayed here."""
        publisher = self._sources(channel).publisher
        return publisher.upstream if isinstance(publisher, RelayPull) else None

    def reconcile(self) -> None:
        """One pass: pull the languages listened to on relayed channels; end the rest."""
        now = self._clock()
        for track in self._desk.tracks():
            key = (track.channel, track.language)
            pull = self._pulls.get(key)
            local = any(not isinstance(seat.publisher, LanguagePull) for seat in track.seats)
            relayed = self._upstream_of(track.channel) is not None
            wanted = track.consumer_count > 0 and relayed and not local
            if pull is None:
                if wanted:
                    self._start(key)
            elif wanted:
                pull.idle_since = None
            elif not relayed or local:
                self._stop(key)
            elif pull.idle_since is None:
                pull.idle_since = now
            elif now - pull.idle_since >= self._settings.grace_seconds:
                self._stop(key)

    def _start(self, key: tuple[str, str]) -> None:
        pull = _Pull(*key)
        self._pulls[key] = pull
        pull.task = asyncio.get_running_loop().create_task(
            self._run(pull), name=f"language relay {key[0]} {key[1]}"
        )

    def _stop(self, key: tuple[str, str]) -> None:
        pull = self._pulls.pop(key, None)
        if pull is not None and pull.task is not None:
            logger.info("channel %s, %s: the language pull ends", *key)
            pull.task.cancel()

    async def _run(self, pull: _Pull) -> None:
        delay = RETRY_FIRST
        while True:
            upstream = self._upstream_of(pull.channel)
            if upstream is not None and await self._pull_once(pull, upstream):
                delay = RETRY_FIRST
            await asyncio.sleep(delay * (0.75 + 0.5 * random.random()))
            delay = min(delay * 2, self._settings.retry_max_seconds)

    async def _pull_once(self, pull: _Pull, upstream: str) -> bool:
        """One audio-only WHEP session for the language, until it ends or stalls."""
        seat = self._desk.new_seat(pull.channel, pull.language, f"relay from {upstream}")
        seat.relayed = True
        ended = asyncio.Event()
        session = LanguagePull(
            seat, self._video_codec, upstream, lambda _: None, lambda _: ended.set()
        )
        url = f"{upstream}/whep/{quote(pull.channel)}?lang={quote(pull.language)}"
        location: str | None = None
        try:
            answer = await self._client.offer(url, await session.offer())
            location = answer.location
            await session.accept(answer.sdp)
            await self._watch(session, seat, ended)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # refused, unreachable, a bad answer: retried
            logger.info("channel %s, %s: language pull failed: %r", *_key(pull), error)
        finally:
            await session.close()
            if location is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(DELETE_TIMEOUT):
                        await self._client.delete(location)
        return session.live_at is not None

    async def _watch(
        self, session: PublisherSession, seat: BoothSeat, ended: asyncio.Event
    ) -> None:
        stall = self._settings.stall_seconds
        while not ended.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECONCILE_INTERVAL):
                    await ended.wait()
            now = self._clock()
            if session.live_at is None:
                if now - session.created_at > 2 * stall:
                    return
                continue
            last = seat.slots["primary"].last_packet_at
            if last is None or now - last > stall:
                return


def _key(pull: _Pull) -> tuple[str, str]:
    return pull.channel, pull.language
