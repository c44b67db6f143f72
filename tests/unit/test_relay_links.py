"""RelayLinks' bookkeeping with a fake upstream: when pulls start, wait and end.

The media path of a pull is tested against real servers in
``tests/integration/test_relay_links.py``; here the upstream always refuses, so only the
decisions are exercised (and the clock is ours).
"""

from __future__ import annotations

from config import RelaySettings
from streaming.relay import RelayLinks, RelayPull, StaticUpstream
from streaming.source import ChannelSource
from streaming.whep_client import UpstreamRefused, WhepAnswer, WhepClient


class RefusingClient(WhepClient):
    def __init__(self) -> None:
        super().__init__("token")
        self.offers: list[str] = []

    async def offer(self, url: str, sdp: str) -> WhepAnswer:
        self.offers.append(url)
        raise UpstreamRefused(f"{url} answered 409: not live", 409)


class NoUpstream:
    async def upstream_for(self, channel: str) -> str | None:
        return None


class LocalPublisher:
    def send_keyframe_request(self) -> None:
        pass


class Harness:
    def __init__(self, grace: float = 10.0, wait: float = 0.2, locator: object = None) -> None:
        self.now = 100.0
        self.wanted: set[str] = set()
        self.sessions: list[tuple[RelayPull, bool]] = []
        self.sources = {c: ChannelSource(c, lambda: self.now) for c in ("a", "b")}
        self.client = RefusingClient()
        self.links = RelayLinks(
            self.sources,
            locator or StaticUpstream("http://origin:8080/"),  # type: ignore[arg-type]
            self.client,
            RelaySettings(grace_seconds=grace, wait_seconds=wait, retry_max_seconds=1),
            "H264",
            lambda: self.wanted,
            lambda session, started: self.sessions.append((session, started)),
            clock=lambda: self.now,
        )

    def channels(self) -> list[str]:
        return [r.channel for r in self.links.snapshots(lambda s: None)]  # type: ignore[arg-type,return-value]


async def test_a_waiting_player_gets_false_after_the_wait_and_the_link_keeps_trying() -> None:
    harness = Harness(wait=0.3)
    try:
        assert await harness.links.bring_live("a") is False
        # One link, whatever the waiters; it asked the configured upstream (slash trimmed).
        assert harness.channels() == ["a"]
        assert harness.client.offers[0] == "http://origin:8080/whep/a"
        snapshot = harness.links.snapshots(lambda s: None)[0]  # type: ignore[arg-type,return-value]
        assert snapshot.upstream == "http://origin:8080"
        assert snapshot.last_error is not None
        assert "409" in snapshot.last_error
        # Every attempt's session was listed and then forgotten.
        started = [s for s, on in harness.sessions if on]
        ended = [s for s, on in harness.sessions if not on]
        assert started
        assert started[: len(ended)] == ended
    finally:
        await harness.links.aclose()


async def test_no_upstream_pulls_nothing() -> None:
    harness = Harness(locator=NoUpstream())
    try:
        assert await harness.links.bring_live("a") is False
        assert harness.channels() == []
        assert harness.client.offers == []
    finally:
        await harness.links.aclose()


async def test_grace_local_publishers_and_wanted_outputs() -> None:
    harness = Harness(grace=10.0)
    links = harness.links
    try:
        # A venue output's player wants "a": the reconcile pass starts its pull.
        harness.wanted.add("a")
        links.reconcile()
        assert harness.channels() == ["a"]
        # Nobody wants it: it stays for the grace period, then ends.
        harness.wanted.clear()
        links.reconcile()
        harness.now += 9.9
        links.reconcile()
        assert harness.channels() == ["a"]
        # A viewer back within the grace resets it.
        harness.wanted.add("a")
        links.reconcile()
        harness.wanted.clear()
        harness.now += 5
        links.reconcile()
        harness.now += 9.9
        links.reconcile()
        assert harness.channels() == ["a"]
        harness.now += 0.2
        links.reconcile()
        assert harness.channels() == []

        # A local WHIP publisher on this node: no pull, and a running one ends.
        harness.wanted.add("b")
        links.reconcile()
        assert harness.channels() == ["b"]
        harness.sources["b"].attach_publisher(LocalPublisher())
        links.reconcile()
        assert harness.channels() == []
        assert await links.bring_live("b") is True  # live here already
    finally:
        await links.aclose()
