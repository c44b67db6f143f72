"""Network namespaces for a multi-node topology, joined to the test's own namespace.

What works on this kernel (6.x, root, inside ``scripts/netns.sh``'s ``unshare -n``): each
node namespace is held by a child process (``unshare -n sleep infinity``); a veth pair is
created in the test namespace and one end moved into the holder by pid (``ip link set
... netns PID``); commands run inside with ``nsenter -t PID -n``. No ``ip netns add``: it
writes names under /run/netns, shared with every other test run on the machine, and
they outlive a crashed run. A holder's namespace disappears with its last process, and
the test namespace (with every veth end left in it) with the test run.

Addresses: namespace ``n`` gets 10.13.n.2/24 on its end and the test namespace
10.13.n.1/24 on the other, which is the namespace's default route. The test namespace
forwards between its veths (``ip_forward`` is per namespace), so node namespaces reach
each other through it, and the test process (redis-server, aiortc peers) reaches all.

Loss: nftables inside a node's namespace, matching only what crosses the chosen link
(``numgen random`` per packet). Holders and the processes started inside get
``PR_SET_PDEATHSIG``: they die with the test process even if it is killed.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1
_numbers = itertools.count(1)


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGKILL when the test process goes away."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run(command: Sequence[str]) -> str:
    """Run a short command (``ip``, ``nft``); fail loudly with its stderr."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _namespace_of(pid: int | str) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


@dataclass
class Namespace:
    """One node's network namespace: an address, reached from the test namespace."""

    number: int
    holder: subprocess.Popen[bytes]
    address: str
    gateway: str
    outside: str  # the veth end in the test namespace
    loss_rules: list[str] = field(default_factory=list)

    def enter(self) -> list[str]:
        """The command prefix that runs a program inside this namespace."""
        return ["nsenter", "-t", str(self.holder.pid), "-n"]

    def run(self, *command: str) -> str:
        return run([*self.enter(), *command])

    def lose(self, percent: int, peer: str, udp_port: int) -> None:
        """Drop ``percent`` % of the UDP packets between here and ``peer``'s ``udp_port``.

        Both directions of the link are hit (media one way, NACKs and RTCP the other);
        everything else reaching this namespace (viewers, HTTP, Redis) is not.
        """
        if not 0 <= percent <= 100:
            raise ValueError("loss is a percentage")
        self.clear_loss()
        self.run("nft", "add", "table", "inet", "topology_loss")
        for chain, hook, match in (
            ("inbound", "input", ["ip", "saddr", peer, "udp", "sport", str(udp_port)]),
            ("outbound", "output", ["ip", "daddr", peer, "udp", "dport", str(udp_port)]),
        ):
            spec = f"{{ type filter hook {hook} priority 0; }}"
            self.run("nft", "add", "chain", "inet", "topology_loss", chain, spec)
            chance = ["numgen", "random", "mod", "100", "<", str(percent)] if percent < 100 else []
            rule = [*match, *chance, "counter", "drop"]
            self.run("nft", "add", "rule", "inet", "topology_loss", chain, *rule)
        self.loss_rules = [peer]

    def clear_loss(self) -> None:
        if self.loss_rules:
            self.run("nft", "delete", "table", "inet", "topology_loss")
            self.loss_rules = []

    def dropped(self) -> int:
        """Packets the loss rules have dropped so far (both directions)."""
        if not self.loss_rules:
            return 0
        listing = self.run("nft", "list", "table", "inet", "topology_loss")
        return sum(
            int(line.split("packets", 1)[1].split()[0])
            for line in listing.splitlines()
            if "counter packets" in line
        )

    def close(self) -> None:
        # Deleting one end of a veth deletes both; then the holder, and the namespace
        # with it. Deleting the link first makes the name free again at once.
        subprocess.run(["ip", "link", "del", self.outside], capture_output=True, check=False)
        if self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()


def create_namespace() -> Namespace:
    """A fresh namespace with lo up and a veth to the test namespace (which forwards)."""
    number = next(_numbers)
    if number > 250:
        raise RuntimeError("more than 250 topology namespaces in one test run")
    mine = _namespace_of("self")
    holder = subprocess.Popen(
        ["unshare", "-n", "sleep", "infinity"], preexec_fn=die_with_parent, close_fds=True
    )
    outside, inside = f"tpo{number}", f"tpi{number}"
    prefix = f"10.13.{number}"
    namespace = Namespace(number, holder, f"{prefix}.2", f"{prefix}.1", outside)
    try:
        deadline = time.monotonic() + 10
        # Waiting for the child to have called unshare(2), not synchronising a test.
        while _namespace_of(holder.pid) == mine:
            if holder.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("unshare -n did not start (need root and util-linux)")
            time.sleep(0.005)
        run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside])
        run(["ip", "link", "set", inside, "netns", str(holder.pid)])
        run(["ip", "addr", "add", f"{prefix}.1/24", "dev", outside])
        run(["ip", "link", "set", outside, "up"])
        namespace.run("ip", "link", "set", "lo", "up")
        namespace.run("ip", "addr", "add", f"{prefix}.2/24", "dev", inside)
        namespace.run("ip", "link", "set", inside, "up")
        namespace.run("ip", "route", "add", "default", "via", f"{prefix}.1")
        with open("/proc/sys/net/ipv4/ip_forward", "w") as forward:
            forward.write("1")
    except BaseException:
        namespace.close()
        raise
    return namespace
