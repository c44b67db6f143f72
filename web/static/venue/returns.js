// The return-feed wall: every sub-venue's return channel, its link health and whether
// the venue's operator is online (presence). Tiles reconnect by themselves.
import { Link } from "./link.js";
import { watchHealth } from "./health.js";
import { Socket } from "./socket.js";
import { TalkbackPanel } from "./talkback.js";

const wall = document.getElementById("wall");
const links = {};

for (const tile of wall.querySelectorAll("[data-channel]")) {
  const { channel } = tile.dataset;
  const state = tile.querySelector("[data-link-state]");
  const link = new Link({
    kind: "play", endpoint: `/whep/${encodeURIComponent(channel)}`,
    video: tile.querySelector("video"),
    onState: (s, detail) => {
      state.dataset.state = s;
      state.textContent = { live: "playing", waiting: "no feed yet", connecting: "connecting", retrying: "reconnecting" }[s] || s;
      state.title = detail || "";
    },
  });
  link.start();
  watchHealth(link, tile.querySelector("[data-health]"));
  links[channel] = link;
}

function showOperators(counts) {
  for (const tile of wall.querySelectorAll("[data-venue]")) {
    const n = counts[tile.dataset.venue] || 0;
    const badge = tile.querySelector("[data-operator]");
    badge.dataset.state = n > 0 ? "online" : "offline";
    badge.textContent = n > 0 ? `operator online${n > 1 ? ` (${n})` : ""}` : "operator offline";
  }
}

// No token in the page: same-origin requests (WHEP, /ws) carry the HttpOnly cookie.
const socket = new Socket({
  onWelcome: () => {
    socket.send({ type: "watch_presence" }).catch(() => {});
    Object.values(links).forEach((link) => link.nudge());
  },
  onFrame: (frame) => {
    if (frame.type === "presence") showOperators(frame.operators_by_venue || {});
    talkback.receive(frame);
  },
  onStatus: (s) => { document.getElementById("ws-status").dataset.state = s; document.getElementById("ws-status").textContent = `control: ${s}`; },
});
const talkback = new TalkbackPanel(document.getElementById("talkback"), socket);
window.vbWall = { links, socket };
