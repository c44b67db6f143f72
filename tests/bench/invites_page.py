"""How long ``GET /admin/invites`` takes with many invites (SQLite, or Redis with --redis).

Prints JSON lines; not part of the pass/fail suite. Each page load reads the invite list
(incrementally) and two last-use values per invite shown, and renders the table.

    flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/invites_page.py --invites 50 500
    flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/invites_page.py --redis redis://...
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from config import load_event  # noqa: E402
from config.settings import InviteSettings  # noqa: E402
from signaling.auth import Grant, Role  # noqa: E402
from signaling.invites import InviteRequest  # noqa: E402
from tests.helpers import local_settings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.keys import AUTHORITY, INVITE_USES, INVITES  # noqa: E402


async def measure(count: int, rounds: int, redis_url: str | None) -> dict[str, object]:
    event = dataclasses.replace(load_event(), id=f"bench{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory() as data:
        settings = local_settings(
            data_dir=Path(data),
            redis_url=redis_url,
            invites=InviteSettings(max_per_event=max(count, 1)),
        )
        app = create_app(settings, event)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            desk, uses = app[INVITES], app[INVITE_USES]
            for n in range(count):
                asked = InviteRequest(Role.PRODUCER, f"camera {n}", 3600, channels=("gz-hall-1",))
                invite = await desk.issue(asked, "bench", time.time())
                uses.note(app[AUTHORITY].verify(invite.token), "joined")
            admin = app[AUTHORITY].mint(Grant("bench-admin", Role.ADMIN), 3600)
            headers = {"Authorization": f"Bearer {admin}"}
            timings = []
            size = 0
            for _ in range(rounds):
                started = time.perf_counter()
                response = await client.get("/admin/invites", headers=headers)
                size = len(await response.read())
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status == 200
    return {
        "bench": "invites_page",
        "store": "redis" if redis_url else "sqlite",
        "invites": count,
        "rounds": rounds,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "page_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invites", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--redis", help="a redis:// URL to measure the Redis store instead")
    args = parser.parse_args()
    for count in args.invites:
        print(json.dumps(asyncio.run(measure(count, args.rounds, args.redis))), flush=True)


if __name__ == "__main__":
    main()
