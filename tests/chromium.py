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
