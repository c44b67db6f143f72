"""The crew drill's screens: the Chromiums the crew sits at, and what the drill reads off
them (``scripts/crew_drill.py`` runs the steps, this module looks).

A look reads every page's status-like texts and how far its videos advanced in two
seconds, takes a screenshot, and prints one JSON line; a look only reports. The checks
that decide pass or fail are in ``scripts/drill_languages.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.chromium import CHROMIUM, CHROMIUM_FLAGS

# What each person sees: the page's status-like elements, read in one go.
LOOK = """() => {
  const texts = [...document.querySelectorAll(
      '[role=status], .pill, .link-state, #status, [data-state]')]
    .filter((e) => e.offsetParent !== null)
    .map((e) => (e.id ? e.id + ': ' : '') + e.textContent.trim().replace(/\\s+/g, ' '))
    .filter((t) => t.length > 0);
  const videos = [...document.querySelectorAll('video')].map((v) => {
    const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    const frames = q ? q.totalVideoFrames : 0;
    return { id: v.id, frames, size: v.videoWidth + 'x' + v.videoHeight };
  });
  return { texts: [...new Set(texts)].slice(0, 14), videos };
}"""


def say(**fields: Any) -> None:
    """One JSON line on stdout: a look, a check's verdict or an event of the drill."""
    print(json.dumps(fields, ensure_ascii=False), flush=True)


@contextlib.asynccontextmanager
async def chromium(*tones: Path) -> AsyncIterator[list[Browser]]:
    """One Chromium per tone file: its fake microphone plays that tone."""
    async with async_playwright() as playwright:
        browsers = [
            await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={tone}"],
            )
            for tone in tones
        ]
        try:
            yield browsers
        finally:
            for browser in browsers:
                await browser.close()


async def open_page(browser: Browser, url: str, phone: bool = False, locale: str = "en-US") -> Page:
    """A new context (a desktop, or a phone) on ``url``; its script errors are printed."""
    options: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}, "locale": locale}
    if phone:
        options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
        options["locale"] = locale
    context = await browser.new_context(**options)
    page = await context.new_page()
    page.on("pageerror", lambda error: say(page=url, js_error=str(error)))
    await page.goto(url)
    return page


async def look(crew: dict[str, Page], phase: str, shots: Path) -> None:
    """Read every screen twice, two seconds apart, so moving video shows as moving."""
    first = {name: await page.evaluate(LOOK) for name, page in crew.items()}
    await asyncio.sleep(2)
    for name, page in crew.items():
        now = await page.evaluate(LOOK)
        before = {v["id"]: v["frames"] for v in first[name]["videos"]}
        moving = {v["id"]: v["frames"] - before.get(v["id"], 0) for v in now["videos"]}
        await page.screenshot(path=str(shots / f"{phase}-{name}.png"), full_page=False)
        say(phase=phase, who=name, frames_in_2s=moving, texts=now["texts"])


def sessions_at(nodes: dict[str, str], token: str) -> None:
    """Which node serves whom: each node's sessions by feed (its /api/streams)."""
    for name, base in nodes.items():
        request = urllib.request.Request(
            f"{base}/api/streams", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=3) as response:
                streams = json.load(response)
        except OSError as error:
            say(node=name, unreachable=str(error))
            continue
        feeds: dict[str, int] = {}
        for subscriber in streams["subscribers"]:
            feeds[subscriber["feed"]] = feeds.get(subscriber["feed"], 0) + 1
        relays = [(r["channel"], r["state"]) for r in streams.get("relays", [])]
        say(node=name, subscribers=feeds, relays=relays)
