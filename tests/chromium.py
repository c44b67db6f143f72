"""How the tests (and scripts/crew_drill.py) start the system Chromium."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
    # Real host candidates rather than mDNS names, which nothing resolves in the namespace.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

# Video frames the page's player (``window.vbPc``) has decoded so far.
FRAMES_DECODED = """async () => {
  if (!window.vbPc) return 0;
  let frames = 0;
  (await window.vbPc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") frames = r.framesDecoded || 0;
  });
  return frames;
}"""
