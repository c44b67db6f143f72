"""This machine: is the clock disciplined, and is the data directory the server's.

The clock state is the kernel's own NTP bookkeeping, read with ``adjtimex`` (modes 0: read
only, no privilege needed). In a container it is the host's clock, which is the one that
matters. TIME_ERROR means nothing (ntpd, chrony, timesyncd) has told the kernel the clock
is synchronised; the schedule automation, token expiry and TURN credentials all follow it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from config import Settings
from signaling.auth.secret import SECRET_FILE, read_secret
from web.doctor.report import Check, fail, ok, warn

CLOCK = "clock"
DATA = "data dir"
KEY = "signing key"
TIME_ERROR = 5
STA_UNSYNC = 0x0040
# The kernel's maxerror grows 0.5 ms a second without NTP and stops at 16 s.
MAX_ERROR_WARN_US = 1_000_000
FREE_SPACE_WARN_BYTES = 1 << 30


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """``struct timex`` of <sys/timex.h> (Linux), padding included."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True, slots=True)
class ClockState:
    """What ``adjtimex`` said: its return value, status bits, and error bounds in µs."""

    state: int
    status: int
    max_error_us: int
    est_error_us: int


def read_clock_state() -> ClockState:
    """The kernel's clock state; ``OSError`` where ``adjtimex`` is not available."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "adjtimex"):
        raise OSError("this C library has no adjtimex (not Linux)")
    timex = _Timex()  # modes 0: only read
    state = int(libc.adjtimex(ctypes.byref(timex)))
    if state < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return ClockState(state, timex.status, timex.maxerror, timex.esterror)


def clock_verdict(clock: ClockState) -> Check:
    """Synchronised with a small error bound is OK; anything else a warning with the fix."""
    fix = (
        "run an NTP client on the host (chrony or systemd-timesyncd; in a container, on "
        "the host): the schedule goes on air, tokens and TURN credentials expire by it."
    )
    if clock.state == TIME_ERROR or clock.status & STA_UNSYNC:
        return warn(CLOCK, "the kernel says the clock is not synchronised (no NTP).", fix)
    if clock.max_error_us >= MAX_ERROR_WARN_US:
        seconds = clock.max_error_us / 1e6
        return warn(CLOCK, f"synchronised, but the kernel's error bound is {seconds:.1f} s.", fix)
    return ok(CLOCK, f"synchronised (estimated error {clock.est_error_us / 1000:.1f} ms).")


def check_clock() -> Check:
    try:
        return clock_verdict(read_clock_state())
    except OSError as error:
        return warn(
            CLOCK,
            f"cannot read the kernel's clock state ({error}).",
            "check by hand that the host runs an NTP client (timedatectl, chronyc tracking).",
        )


def check_data_dir(settings: Settings) -> list[Check]:
    """The data dir exists, takes a file, has room; the signing key is there (no Redis)."""
    where = settings.data_dir.resolve()
    point = "point doctor at the server's with --data-dir or VENUEBRIDGE_DATA_DIR."
    if where.exists() and not where.is_dir():
        return [fail(DATA, f"{where} is a file, not a directory.", point)]
    if not where.is_dir():
        return [fail(DATA, f"{where} does not exist: no server has run with this data dir.", point)]
    try:
        handle, probe = tempfile.mkstemp(prefix=".doctor-", dir=where)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return [
            fail(
                DATA,
                f"{where} is not writable by uid {os.getuid()} ({error.strerror}).",
                "give the user the server runs as that directory (chown), or mount the "
                "volume read-write.",
            )
        ]
    free = shutil.disk_usage(where).free
    if free < FREE_SPACE_WARN_BYTES:
        room = warn(
            DATA, f"{where} is writable, but only {free >> 20} MiB are free.", "free some space."
        )
    else:
        room = ok(DATA, f"{where} is writable ({free >> 30} GiB free).")
    if settings.redis_url:
        return [room]  # the key that counts is the one on Redis (web/doctor/redis_check.py)
    return [room, _signing_key(where / SECRET_FILE, point)]


def _signing_key(path: Path, point: str) -> Check:
    if not path.is_file():
        return fail(
            KEY,
            f"no {SECRET_FILE} in {path.parent}: the server has not started with this data "
            "dir, so no invite link from here would work.",
            f"start the server once, or {point}",
        )
    try:
        read_secret(path.parent)
    except (OSError, RuntimeError, ValueError) as error:
        return fail(
            KEY,
            f"{path} cannot be used ({error}).",
            "restore it from the server's backup; a new key makes every issued invite invalid.",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return warn(
            KEY,
            f"{path} is readable by other users (mode {mode:o}): anyone who reads it can "
            "mint tokens.",
            f"chmod 600 {path}",
        )
    return ok(KEY, f"{path} is present and private.")
