"""CPU and memory of a server read from /proc: its pid and every descendant, summed.

A multi-worker server is a supervisor with worker children; Janus is one process with
threads (a process's /proc stat already counts all its threads). Either way the figure
is what the whole server costs the machine. A process that exits inside the window
counts nothing (its last reading is lost with it): the runs print the server's process
count at both ends so such a window shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    return text.rsplit(")", 1)[1].split()


def descendants(root: int) -> list[int]:
    """``root`` and all processes below it, from the parent pids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """User and system CPU seconds of ``pid`` (all its threads), None once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


@dataclass
class TreeCpu:
    """CPU used by a process tree between ``start()`` and ``read()``."""

    root: int
    _start: dict[int, tuple[float, float]] = field(default_factory=dict)

    def start(self) -> None:
        self._start = {}
        for pid in descendants(self.root):
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self._start[pid] = seconds

    @property
    def started_with(self) -> int:
        """How many processes the tree had at ``start()``."""
        return len(self._start)

    def read(self) -> dict[int, tuple[float, float]]:
        """Per pid: user and system seconds since ``start()`` (new processes from zero)."""
        used: dict[int, tuple[float, float]] = {}
        pids = set(descendants(self.root)) | set(self._start)
        for pid in pids:
            before = self._start.get(pid, (0.0, 0.0))
            now = cpu_seconds(pid) or before
            used[pid] = (max(0.0, now[0] - before[0]), max(0.0, now[1] - before[1]))
        return used

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in descendants(self.root))


def machine_busy_seconds() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy and in total, summed over its cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / TICKS, sum(fields) / TICKS
