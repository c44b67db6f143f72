"""What a fan-out packet costs the kernel: sendto, sendmmsg and UDP GSO side by side.

Issue 14 names "one sendmsg per frame with UDP GSO" as the step after the batched
``sendmmsg`` path (``streaming/native/rtp_fanout.c``). GSO (``UDP_SEGMENT``) sends
equal-size segments to one destination, so for a fan-out it means one call per
subscriber per frame instead of one call per packet for all subscribers. This measures,
before anyone builds it, whether that is cheaper per packet and by how much.

One sender socket sends synthetic frames (10 packets: 9 of 1100 bytes and a short last
one, about a 720p 2.5 Mbit/s frame) to N destinations (64 by default), each a UDP
socket in a separate receiver process, as in a real fan-out. Payloads are plain bytes:
no SRTP (about 1 us a copy, the same in every variant), no RTP rewriting. Variants:

- ``sendto``: one ``sendto`` per packet per destination;
- ``mmsg``: one ``sendmmsg`` per packet carrying its copies for all destinations
  (today's batched path, without the SRTP);
- ``gso``: one ``sendmsg`` with ``UDP_SEGMENT`` per destination per frame;
- ``gso_mmsg``: the GSO messages of one frame for all destinations in one ``sendmmsg``;
- ``gso+gro`` and ``gso_mmsg+gro``: the same with ``UDP_GRO`` on the receivers, which
  then take a frame as one datagram instead of ten.

Per variant it prints µs per packet of the sender's own CPU (user + system), of the
receivers' CPU, and of the whole machine (/proc/stat, so run it on a quiet machine and
under the heavy-run lock). On loopback the kernel delivers to the receiving socket
inside the sender's system call, so the sender's figure includes that delivery (and, for
GSO without GRO, the split into datagrams). ``--sink`` instead sends out of the veth
pair to an address nobody holds, which the peer end drops: the sender's cost up to a
device, closer to a real network card (veth takes GSO packets whole, like a card with
UDP segmentation offload; ``--sink --no-uso`` turns that off with ethtool so the kernel
segments in software, like a card without it). Timings are measurements, never
pass/fail. Run it inside the test namespace (it needs the veth address 10.99.0.1):

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/gso_send.py
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import multiprocessing.connection
import resource
import select
import socket
import statistics
import struct
import subprocess
import time
from collections.abc import Callable
from typing import Any

SOL_UDP = 17
UDP_SEGMENT = 103
UDP_GRO = 104
ADDRESS = "10.99.0.1"
SINK_ADDRESS = "10.99.0.2"  # on the veth's subnet, held by nobody: the peer end drops it
RECEIVE_BUFFER = 4 << 20


# --- the frames -------------------------------------------------------------------------


def frame_packets(frame_bytes: int, segment: int) -> list[bytes]:
    """A frame cut like a max-size packetiser: full segments, then a short last one."""
    sizes = [segment] * (frame_bytes // segment)
    if frame_bytes % segment:
        sizes.append(frame_bytes % segment)
    return [bytes([index]) * size for index, size in enumerate(sizes)]


# --- the receivers (another process) ----------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def receive(conn: multiprocessing.connection.Connection, count: int, gro: bool) -> None:
    """Opens ``count`` sockets, sends their ports, then drains them until told to stop.

    On "sync" it empties every socket and answers with its totals and CPU seconds, so
    the sender knows all it sent has been taken before it reads the clocks.
    """
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        if gro:
            sock.setsockopt(SOL_UDP, UDP_GRO, 1)
        sock.bind((ADDRESS, 0))
        sock.setblocking(False)
        sockets.append(sock)
    by_fd = {sock.fileno(): sock for sock in sockets}
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    poller.register(conn.fileno(), select.EPOLLIN)
    conn.send([sock.getsockname()[1] for sock in sockets])
    buffer = bytearray(65536)
    datagrams = received = 0

    def drain(sock: socket.socket) -> None:
        nonlocal datagrams, received
        while True:
            try:
                received += sock.recv_into(buffer)
            except BlockingIOError:
                return
            datagrams += 1

    while True:
        for fd, _ in poller.poll():
            if fd in by_fd:
                drain(by_fd[fd])
                continue
            message = conn.recv()
            for sock in sockets:
                drain(sock)
            conn.send((datagrams, received, _cpu()))
            if message == "stop":
                return


# --- sendmmsg through ctypes ------------------------------------------------------------


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class SockaddrIn(ctypes.Structure):
    _fields_ = [
        ("family", ctypes.c_ushort),
        ("port", ctypes.c_uint16),
        ("address", ctypes.c_uint32),
        ("zero", ctypes.c_char * 8),
    ]


class MsgHdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("name_length", ctypes.c_uint32),
        ("iov", ctypes.POINTER(IoVec)),
        ("iov_length", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("control_length", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class MMsgHdr(ctypes.Structure):
    _fields_ = [("header", MsgHdr), ("length", ctypes.c_uint)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
_libc.sendmmsg.restype = ctypes.c_int


class MultiSender:
    """One prepared ``mmsghdr`` array: the same buffer to every destination."""

    def __init__(self, fd: int, destinations: list[tuple[str, int]], segment: int = 0):
        self.fd = fd
        count = len(destinations)
        self.addresses = (SockaddrIn * count)()
        for slot, (host, port) in zip(self.addresses, destinations, strict=True):
            slot.family = socket.AF_INET
            slot.port = socket.htons(port)
            slot.address = struct.unpack("=I", socket.inet_aton(host))[0]
        self.iov = IoVec()
        self.messages = (MMsgHdr * count)()
        self.control = None
        if segment:  # struct cmsghdr {size_t len; int level; int type;} + u16, padded to 8
            raw = struct.pack("=QiiH6x", 18, SOL_UDP, UDP_SEGMENT, segment)
            self.control = ctypes.create_string_buffer(raw, len(raw))
        for index, message in enumerate(self.messages):
            message.header.name = ctypes.addressof(self.addresses[index])
            message.header.name_length = ctypes.sizeof(SockaddrIn)
            message.header.iov = ctypes.pointer(self.iov)
            message.header.iov_length = 1
            if self.control is not None:
                message.header.control = ctypes.addressof(self.control)
                message.header.control_length = len(self.control)
        self.count = count

    def send(self, address: int, length: int) -> None:
        self.iov.base, self.iov.length = address, length
        done = 0
        while done < self.count:
            sent = _libc.sendmmsg(
                self.fd,
                ctypes.addressof(self.messages[done]),
                self.count - done,
                0,
            )
            if sent < 0:
                raise OSError(ctypes.get_errno(), "sendmmsg failed")
            done += sent


# --- the variants -----------------------------------------------------------------------

Sender = Callable[[], None]


def build_senders(
    sock: socket.socket, destinations: list[tuple[str, int]], packets: list[bytes]
) -> dict[str, Sender]:
    """One function per variant; each call sends one frame to every destination."""
    segment = len(packets[0])
    frame = b"".join(packets)
    gso_option = [(SOL_UDP, UDP_SEGMENT, struct.pack("H", segment))]
    buffers = [ctypes.create_string_buffer(packet, len(packet)) for packet in packets]
    addressed = [(ctypes.addressof(buffer), len(buffer)) for buffer in buffers]
    frame_buffer = ctypes.create_string_buffer(frame, len(frame))
    per_packet = MultiSender(sock.fileno(), destinations)
    per_frame = MultiSender(sock.fileno(), destinations, segment)
    sendto, sendmsg = sock.sendto, sock.sendmsg

    def plain() -> None:
        for packet in packets:
            for destination in destinations:
                sendto(packet, destination)

    def mmsg() -> None:
        for address, length in addressed:
            per_packet.send(address, length)

    def gso() -> None:
        for destination in destinations:
            sendmsg([frame], gso_option, 0, destination)

    def gso_mmsg() -> None:
        per_frame.send(ctypes.addressof(frame_buffer), len(frame))

    return {"sendto": plain, "mmsg": mmsg, "gso": gso, "gso_mmsg": gso_mmsg}


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (every core, /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / 100.0  # USER_HZ is 100 on Linux


class Receivers:
    def __init__(self, count: int, gro: bool) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=receive, args=(child, count, gro))
        self.process.start()
        self.ports: list[int] = self.conn.recv()

    def sync(self, message: str = "sync") -> tuple[int, int, float]:
        self.conn.send(message)
        answer: tuple[int, int, float] = self.conn.recv()
        return answer

    def stop(self) -> None:
        self.sync("stop")
        self.process.join(5)


def run_variant(
    send: Sender, receivers: Receivers | None, frames: int, burst: int
) -> dict[str, float]:
    """Sends ``frames`` frames in bursts, waiting for the receivers to drain each."""
    before = receivers.sync() if receivers else (0, 0, 0.0)
    machine, own, wall = machine_busy(), _cpu(), time.perf_counter()
    for start in range(0, frames, burst):
        for _ in range(min(burst, frames - start)):
            send()
        if receivers:
            receivers.sync()
    own = _cpu() - own
    after = receivers.sync() if receivers else (0, 0, 0.0)
    return {
        "wall": time.perf_counter() - wall,
        "sender": own,
        "receivers": after[2] - before[2],
        "machine": machine_busy() - machine,
        "datagrams": after[0] - before[0],
        "bytes": after[1] - before[1],
    }


def prepare_sink(software_segmentation: bool) -> None:
    """Lets packets to SINK_ADDRESS leave through vb0 without ARP (vb1 drops them).

    With ``software_segmentation`` vb0 stops taking GSO packets whole, so the kernel
    cuts them into datagrams before the device, as for a card without UDP offload.
    """
    if software_segmentation:
        try:
            subprocess.run(["ethtool", "-K", "vb0", "tx-udp-segmentation", "off"], check=True)
        except FileNotFoundError:
            raise SystemExit("--no-uso needs ethtool (apt-get install ethtool)") from None
    shown = subprocess.run(
        ["ip", "-j", "link", "show", "vb1"], check=True, capture_output=True, text=True
    )
    mac = json.loads(shown.stdout)[0]["address"]  # /sys shows the host's namespace
    subprocess.run(
        ["ip", "neigh", "replace", SINK_ADDRESS, "lladdr", mac, "dev", "vb0", "nud", "permanent"],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--destinations", type=int, default=64)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--frame-bytes", type=int, default=10416, help="2.5 Mbit/s at 30 fps")
    parser.add_argument("--segment", type=int, default=1100)
    parser.add_argument("--burst", type=int, default=10, help="frames between drains")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sink", action="store_true", help="send out of the veth, unreceived")
    parser.add_argument(
        "--no-uso", action="store_true", help="with --sink: segment in software (ethtool)"
    )
    args = parser.parse_args()

    packets = frame_packets(args.frame_bytes, args.segment)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RECEIVE_BUFFER)
    sock.bind((ADDRESS, 0))
    groups: list[tuple[str, Receivers | None, dict[str, Sender]]] = []
    if args.sink:
        prepare_sink(args.no_uso)
        sinks = [(SINK_ADDRESS, 20000 + index) for index in range(args.destinations)]
        groups.append(("", None, build_senders(sock, sinks, packets)))
    else:
        targets: list[tuple[str, int]] = []
        for gro in (False, True):
            receivers = Receivers(args.destinations, gro)
            targets = [(ADDRESS, port) for port in receivers.ports]
            senders = build_senders(sock, targets, packets)
            if gro:  # GRO only changes what a GSO send becomes at the receiver
                senders = {f"{name}+gro": senders[name] for name in ("gso", "gso_mmsg")}
            groups.append(("+gro" if gro else "", receivers, senders))
    print(
        json.dumps(
            {
                "kind": "setup",
                "destinations": args.destinations,
                "packets_per_frame": len(packets),
                "sizes": sorted({len(packet) for packet in packets}),
                "frames": args.frames,
                "sink": args.sink,
                "software_segmentation": args.no_uso,
            }
        ),
        flush=True,
    )
    sent_packets = args.frames * len(packets) * args.destinations
    results: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.rounds):  # interleaved, so drift in the machine hits every variant
        for _, group_receivers, senders in groups:
            for name, send in senders.items():
                send()  # warm up (and fail early if the kernel refuses GSO)
                if group_receivers:
                    group_receivers.sync()
                results.setdefault(name, []).append(
                    run_variant(send, group_receivers, args.frames, args.burst)
                )
    anchor: dict[str, Any] = {}
    for name, runs in results.items():
        line: dict[str, Any] = {"kind": "variant", "variant": name, "runs": len(runs)}
        for key in ("sender", "receivers", "machine"):
            line[f"{key}_us_per_packet"] = round(
                statistics.median(run[key] for run in runs) / sent_packets * 1e6, 3
            )
        line["wall_us_per_packet"] = round(
            statistics.median(run["wall"] for run in runs) / sent_packets * 1e6, 3
        )
        if not args.sink:
            line["received_fraction"] = round(
                min(run["bytes"] for run in runs) / (args.frames * args.frame_bytes * len(targets)),
                4,
            )
            line["datagrams_per_packet"] = round(
                statistics.median(run["datagrams"] for run in runs) / sent_packets, 3
            )
        anchor.setdefault("sendto", line)
        line["sender_vs_sendto"] = round(
            line["sender_us_per_packet"] / anchor["sendto"]["sender_us_per_packet"], 3
        )
        print(json.dumps(line), flush=True)
    for _, group_receivers, _ in groups:
        if group_receivers:
            group_receivers.stop()


if __name__ == "__main__":
    main()
