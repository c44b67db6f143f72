"""What a check found, as one line a person can act on; the exit code from all of them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Status(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    # Not configured here, so nothing to check (Redis unset, no TURN server...).
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, what was seen, and (unless OK) what to do about it."""

    status: Status
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """``FAIL  TURN turn:...  what happened. Fix: what to do.`` on one line."""
        text = f"{self.name}: {self.detail}"
        if self.fix and self.status is not Status.OK:
            text += f" Fix: {self.fix}"
        # One line, whatever the error texts contained.
        return f"{self.status.value:<4}  {' '.join(text.split())}"


def ok(name: str, detail: str) -> Check:
    return Check(Status.OK, name, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(Status.WARN, name, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(Status.FAIL, name, detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check(Status.SKIP, name, detail)


def exit_code(checks: Iterable[Check]) -> int:
    """1 when anything failed, else 0 (warnings are worth reading, not a failure)."""
    return 1 if any(check.status is Status.FAIL for check in checks) else 0


def summary(checks: list[Check]) -> str:
    counts = dict.fromkeys(Status, 0)
    for check in checks:
        counts[check.status] += 1
    parts = [f"{counts[status]} {status.value}" for status in Status if counts[status]]
    return f"{len(checks)} checks: {', '.join(parts)}"
