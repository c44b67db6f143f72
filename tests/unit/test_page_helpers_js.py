"""The pages' pure JavaScript helpers (web/static/lib), run in Node: times with or without
their date, and the websocket's reconnect backoff."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

LIB = Path(__file__).resolve().parents[2] / "web" / "static" / "lib"
NODE = shutil.which("node")
pytestmark = pytest.mark.requires("node")


def run_module(body: str) -> Any:
    """Runs an ES module that imports lib/ as `time` and `socket`; returns what it prints."""
    script = (
        f"import * as time from {json.dumps((LIB / 'time.js').as_uri())};\n"
        f"import * as socket from {json.dumps((LIB / 'socket.js').as_uri())};\n"
        f"console.log(JSON.stringify(await (async () => {{ {body} }})()));\n"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_next_shows_a_date_only_when_it_is_not_today_in_the_zone() -> None:
    shown = run_module(
        """
        const now = "2018-12-21T11:00:00Z";  // 19:00 in Guangzhou, 20:00 in Tokyo
        return {
          laterToday: time.timeOrDateIn("2018-12-21T12:00:00Z", "Asia/Shanghai", now),
          tomorrow: time.timeOrDateIn("2018-12-22T01:30:00Z", "Asia/Shanghai", now),
          // 23:30 in Moscow is still the 21st there, though the 22nd in Tokyo.
          moscow: time.timeOrDateIn("2018-12-21T20:30:00Z", "Europe/Moscow", now),
          tokyo: time.timeOrDateIn("2018-12-21T20:30:00Z", "Asia/Tokyo", now),
          plain: time.timeIn("2018-12-21T01:00:00Z", "Asia/Shanghai"),
          withDay: time.timeIn("2018-12-21T01:00:00Z", "Asia/Shanghai", { day: true }),
        };
        """
    )
    assert shown == {
        "laterToday": "20:00",
        "tomorrow": "Sat 22 Dec 09:30",
        "moscow": "23:30",
        "tokyo": "Sat 22 Dec 05:30",
        "plain": "09:00",
        "withDay": "Fri 21 Dec 09:00",
    }


def test_reconnect_backoff_doubles_to_a_cap_with_jitter_in_the_upper_half() -> None:
    delays = run_module(
        """
        const low = [0, 1, 2, 3, 4, 5, 9].map((n) => socket.backoffDelay(n, () => 0));
        const high = [0, 1, 2, 3, 4, 5, 9].map((n) => socket.backoffDelay(n, () => 1));
        return { low, high };
        """
    )
    assert delays["high"] == [500, 1000, 2000, 4000, 8000, 8000, 8000]
    assert delays["low"] == [250, 500, 1000, 2000, 4000, 4000, 4000]


def test_pages_run_on_the_servers_rehearsal_clock() -> None:
    shown = run_module(
        """
        globalThis.location = { search: "" };
        const wall = Date.now();
        const before = time.pageNow().getTime();
        // The server says: 10 s of real time ago it was 2031-03-01T09:00 on a 60x clock.
        time.setServerClock({
          real: new Date(wall - 10000).toISOString(),
          virtual: "2031-03-01T09:00:00Z",
          speed: 60,
        });
        const rehearsing = time.pageNow().getTime() - Date.parse("2031-03-01T09:00:00Z");
        globalThis.location = { search: "?at=2018-12-21T02:00:00Z" };
        const pinned = time.pageNow().toISOString().slice(0, 16);  // ?at= still wins
        globalThis.location = { search: "" };
        time.setServerClock(null);
        const back = time.pageNow().getTime() - Date.now();
        return { wallOk: Math.abs(before - wall) < 1000, rehearsing, pinned, back };
        """
    )
    assert shown["wallOk"] is True
    assert 599_000 <= shown["rehearsing"] <= 605_000  # 10 s real = 10 min of event time
    assert shown["pinned"] == "2018-12-21T02:00"
    assert abs(shown["back"]) < 1000
