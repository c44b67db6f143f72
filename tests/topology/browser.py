"""A Chromium page playing a channel over WHEP from a node (a real browser's jitter buffer).

The page is opened on the node itself (``/healthz``), so the WHEP POST is same-origin.
``BROWSER_STATS`` reads the player's ``inbound-rtp`` counters (frames decoded, freezes,
NACKs) and the longest wait between two presented frames (``requestVideoFrameCallback``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

PLAY_WHEP = """async (path) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  document.body.appendChild(video);
  window.vbLongest = 0;
  window.vbPresented = 0;
  let last = null;
  const tick = (now) => {
    if (last !== null) window.vbLongest = Math.max(window.vbLongest, now - last);
    last = now;
    window.vbPresented += 1;
    video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
  pc.ontrack = (event) => { video.srcObject = new MediaStream([event.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
  });
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp,
  });
  if (response.status !== 201) throw new Error(`WHEP ${response.status}`);
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  window.vbPc = pc;
}"""

BROWSER_STATS = """async () => {
  const found = { presented: window.vbPresented, longestMs: window.vbLongest };
  if (!window.vbPc) return found;
  (await window.vbPc.getStats()).forEach((r) => {
    if (r.type !== "inbound-rtp" || r.kind !== "video") return;
    for (const key of ["framesDecoded", "framesDropped", "freezeCount", "totalFreezesDuration",
      "packetsLost", "packetsReceived", "nackCount", "pliCount", "jitterBufferDelay",
      "jitterBufferEmittedCount"]) found[key] = r[key] || 0;
  });
  return found;
}"""


@contextlib.asynccontextmanager
async def chromium_viewer(page_url: str, whep_path: str) -> AsyncIterator[Any]:
    """Chromium on ``page_url`` playing ``whep_path`` of the same node; closed at the end."""
    from playwright.async_api import async_playwright

    from tests.chromium import CHROMIUM, CHROMIUM_FLAGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = await browser.new_page()
            await page.goto(page_url)
            await page.evaluate(PLAY_WHEP, whep_path)
            yield page
        finally:
            await browser.close()
