"""What a publisher and a subscriber session share: one aiortc connection, its RTCP timer,
and the way it ends (once, undoing what was taken over from aiortc)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCSessionDescription

from streaming import aiortc_glue as glue
from streaming.ice_ports import AnyFreePort, IcePorts

RTCP_INTERVAL = 1.0


class PeerSession:
    def __init__(self, on_ended: Callable[[Any], None], ice_ports: IcePorts | None = None) -> None:
        self.created_at = time.monotonic()
        self.pc = glue.new_peer_connection()
        self._ice_ports = ice_ports or AnyFreePort()
        self._undo: list[Callable[[], None]] = []
        self._on_ended = on_ended
        self._rtcp_task: asyncio.Task[None] | None = None
        self._closed = False
        self.pc.on("connectionstatechange", self._connection_state_changed)

    @property
    def connection_state(self) -> str:
        return str(self.pc.connectionState)

    async def add_remote_candidate(self, candidate: Any) -> None:
        await self.pc.addIceCandidate(candidate)

    async def _negotiate(self, offer_sdp: str) -> str:
        """Apply the offer and answer it, our ICE candidates on the configured ports."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        # Between the two: the bundled ICE transports are known, no answer read them yet.
        for connection in glue.ice_connections(self.pc):
            self._ice_ports.adopt(connection)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def _start_rtcp(self) -> None:
        self._rtcp_task = asyncio.get_running_loop().create_task(self._run_rtcp())

    def _send_reports(self) -> None:
        """Send this session's periodic RTCP (subclasses say what)."""
        raise NotImplementedError

    def _leave(self) -> None:
        """Detach from the media the session reads or feeds (subclasses say which)."""
        raise NotImplementedError

    async def _run_rtcp(self) -> None:
        while True:
            # Randomised around the interval, as RTCP wants, so sessions do not align.
            await asyncio.sleep(RTCP_INTERVAL * (0.5 + random.random()))
            self._send_reports()

    def _connection_state_changed(self) -> None:
        if self.pc.connectionState in ("failed", "closed") and not self._closed:
            self._on_ended(self)

    async def close(self) -> None:
        """End the session: leave its media, stop RTCP, close the connection."""
        if self._closed:
            return
        self._closed = True
        self._leave()
        if self._rtcp_task is not None:
            self._rtcp_task.cancel()
            await asyncio.gather(self._rtcp_task, return_exceptions=True)
        for undo in self._undo:
            undo()
        await self.pc.close()
