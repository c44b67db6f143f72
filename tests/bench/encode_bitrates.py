"""What our publishers send: the bitrate a channel costs on every link it crosses.

One server; two publishers on two channels, each read from ``/api/streams`` (the
publisher's ``bitrate_bps`` per track, sampled by the server once a second):

- ``clip``: the benchmarks' WHIP publisher (tests/bench/fanout.py: pre-encoded 720p30
  H.264, 2.5 Mbit/s CBR, plus Opus silence);
- ``chromium``: the /publish page in the system Chromium with its fake camera, asking
  for 1280x720 at 30 fps as the producer's and the operators' pages do
  (web/static/lib/devices.js). Its fake camera draws a simple picture at 20 fps, so
  what it sends is a floor; the row also carries the browser's own sender stats
  (``target_kbps``: what its encoder aims at for this resolution with the bandwidth it
  sees), the ceiling a busy real picture fills.

Prints one JSON line per publisher (median, mean and max over the window), never
pass/fail. Capacity planning (docs/capacity.md) multiplies these by links.

    flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python \\
        tests/bench/encode_bitrates.py --warmup 15 --window 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import fanout  # noqa: E402  (after the path is set)

CLIP_CHANNEL = "gz-hall-1"
BROWSER_CHANNEL = "gz-hall-2"
# What the browser's own sender says about its video: what it encodes and what limits it.
SENDER_STATS = """async () => {
  const out = {};
  if (!window.vbPc) return out;
  (await window.vbPc.getStats()).forEach((r) => {
    if (r.type === "outbound-rtp" && r.kind === "video") {
      out.sent = `${r.frameWidth}x${r.frameHeight}@${r.framesPerSecond}`;
      out.target_kbps = Math.round((r.targetBitrate || 0) / 1000);
      out.quality_limitation = r.qualityLimitationReason;
    }
    if (r.type === "candidate-pair" && r.nominated && r.availableOutgoingBitrate)
      out.available_outgoing_kbps = Math.round(r.availableOutgoingBitrate / 1000);
  });
  return out;
}"""


async def _tracks(base: str, channel: str) -> dict[str, int] | None:
    """``{kind: bitrate_bps}`` of the live publisher of ``channel``, or None."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/streams") as response:
        streams: dict[str, Any] = await response.json()
    for publisher in streams["publishers"]:
        if publisher["channel"] == channel and publisher["live"]:
            return {track["kind"]: track["bitrate_bps"] for track in publisher["tracks"]}
    return None


async def _wait_live(base: str, channel: str, within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while await _tracks(base, channel) is None:
        if loop.time() > deadline:
            raise RuntimeError(f"{channel}: no live publisher after {within} s")
        await asyncio.sleep(0.5)


async def _sample(base: str, channel: str, warmup: float, window: float) -> dict[str, Any]:
    """Per-second samples over ``window`` after ``warmup`` (the sender's ramp-up)."""
    await asyncio.sleep(warmup)
    samples: dict[str, list[int]] = {}
    for _ in range(int(window)):
        tracks = await _tracks(base, channel) or {}
        for kind, bitrate in tracks.items():
            samples.setdefault(kind, []).append(bitrate)
        await asyncio.sleep(1.0)
    row: dict[str, Any] = {"channel": channel, "window_s": window}
    for kind, values in samples.items():
        row[f"{kind}_kbps_p50"] = round(statistics.median(values) / 1000)
        row[f"{kind}_kbps_mean"] = round(statistics.fmean(values) / 1000)
        row[f"{kind}_kbps_max"] = round(max(values) / 1000)
    row["total_kbps_mean"] = sum(v for k, v in row.items() if k.endswith("_kbps_mean"))
    return row


async def measure_clip(base: str, warmup: float, window: float) -> dict[str, Any]:
    publisher = fanout._spawn("publish", "--url", f"{base}/whip/{CLIP_CHANNEL}")
    try:
        await _wait_live(base, CLIP_CHANNEL)
        return {"publisher": "clip"} | await _sample(base, CLIP_CHANNEL, warmup, window)
    finally:
        fanout._stop(publisher)


async def measure_chromium(base: str, warmup: float, window: float) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from tests.chromium import CHROMIUM, CHROMIUM_FLAGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            url = f"{base}/publish/{BROWSER_CHANNEL}?token={fanout.SECRET}&autostart=1"
            await page.goto(url)
            await _wait_live(base, BROWSER_CHANNEL)
            row = await _sample(base, BROWSER_CHANNEL, warmup, window)
            settings = await page.evaluate(
                """() => { const v = document.querySelector("video");
                  const s = v && v.srcObject && v.srcObject.getVideoTracks()[0];
                  return s ? s.getSettings() : null; }"""
            )
            if settings:
                row["camera"] = f"{settings.get('width')}x{settings.get('height')}"
                row["camera_fps"] = settings.get("frameRate")
            row |= await page.evaluate(SENDER_STATS)
            return {"publisher": "chromium"} | row
        finally:
            await browser.close()


async def main_async(args: argparse.Namespace) -> None:
    port = fanout._free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        serve = ("serve", "--mode", "forward", "--port", str(port), "--data-dir", data)
        server = fanout._spawn(*serve)
        try:
            fanout._wait_http(port)
            if "clip" in args.publishers.split(","):
                fanout.make_clip()
                print(json.dumps(await measure_clip(base, args.warmup, args.window)), flush=True)
            if "chromium" in args.publishers.split(","):
                row = await measure_chromium(base, args.warmup, args.window)
                print(json.dumps(row), flush=True)
        finally:
            fanout._stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--publishers", default="clip,chromium")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
