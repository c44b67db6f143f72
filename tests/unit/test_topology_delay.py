"""The topology tests' in-process delay line: datagrams to chosen peers wait, in order."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.topology import delay


@pytest.fixture
def delayed() -> Iterator[None]:
    original = socket.socket
    yield
    socket.socket = original  # type: ignore[misc]
    delay._line = None


async def test_datagrams_to_a_peer_wait_in_order_and_others_do_not(delayed: None) -> None:
    loop = asyncio.get_running_loop()
    line = delay.install(0.05, ["127.0.0.1"])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert isinstance(sender, delay.DelayedSocket)
    try:
        buffer = bytearray(b"x")
        sent_at = loop.time()
        for number in range(20):
            buffer[0] = number  # the caller reuses its buffer: each datagram is copied
            assert sender.sendto(memoryview(buffer), receiver.getsockname()) == 1
        assert line.delayed == 20
        with pytest.raises(BlockingIOError):
            receiver.recv(16)  # nothing yet: all of them wait

        got = [await loop.sock_recv(receiver, 16) for _ in range(20)]
        assert loop.time() - sent_at >= 0.05 - 0.002  # asyncio may run a timer 1 tick early
        assert got == [bytes([n]) for n in range(20)]
        assert line.failed == 0

        # Another address is not delayed: the line is empty and stays so.
        line.peers = frozenset({"10.0.0.9"})
        sender.sendto(b"now", receiver.getsockname())
        assert await loop.sock_recv(receiver, 16) == b"now"
        assert line.delayed == 20
    finally:
        sender.close()
        receiver.close()


def test_the_launcher_refuses_a_silly_delay(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.topology.launch import main

    with pytest.raises(SystemExit):
        main(["--delay-ms", "-5", "--delay-to", "10.0.0.1", "--", "check"])
    assert "--delay-ms must be 0 to 10000" in capsys.readouterr().err
