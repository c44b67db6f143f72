// @ts-check
// The return-feed wall: every sub-venue's return channel, its link health and whether
// the venue's operator is online (presence). Tiles reconnect by themselves.
import { Link } from "./link.js";
import { watchHealth } from "./health.js";
import { TalkbackPanel } from "./talkback.js";
import { ReconnectingSocket } from "../lib/socket.js";
import { byId, find } from "../lib/dom.js";

const wall = byId("wall");
// No token in the page: same-origin requests (WHEP, /ws) carry the HttpOnly cookie.
/** @type {Record<string, Link>} */
const links = {};
/** @type {Record<string, string>} */
const LINK_LABELS = { live: "playing", waiting: "no feed yet", connecting: "connecting", retrying: "reconnecting" };

for (const tile of wall.querySelectorAll("[data-channel]")) {
  if (!(tile instanceof HTMLElement)) continue;
  const channel = tile.dataset.channel || "";
  const state = find(tile, "[data-link-state]", HTMLElement);
  const link = new Link({
    kind: "play", endpoint: `/whep/${encodeURIComponent(channel)}`,
    video: find(tile, "video", HTMLVideoElement),
    onState: (s, detail) => {
      state.dataset.state = s;
      state.textContent = LINK_LABELS[s] || s;
      state.title = detail || "";
    },
  });
  link.start();
  watchHealth(link, find(tile, "[data-health]", HTMLElement));
  links[channel] = link;
}

/** @param {Record<string, number>} counts operators online by venue */
function showOperators(counts) {
  for (const tile of wall.querySelectorAll("[data-venue]")) {
    if (!(tile instanceof HTMLElement)) continue;
    const n = counts[tile.dataset.venue || ""] || 0;
    const badge = find(tile, "[data-operator]", HTMLElement);
    badge.dataset.state = n > 0 ? "online" : "offline";
    badge.textContent = n > 0 ? `operator online${n > 1 ? ` (${n})` : ""}` : "operator offline";
  }
}

const status = byId("ws-status");
const socket = new ReconnectingSocket({
  resume: () => [{ type: "watch_presence" }],
  onWelcome: () => { Object.values(links).forEach((link) => link.nudge()); },
  onFrame: (frame) => {
    if (frame.type === "presence") showOperators(frame.operators_by_venue || {});
    talkback.receive(frame);
  },
  onStatus: (s) => { status.dataset.state = s; status.textContent = `control: ${s}`; },
  onUnauthorized: (error) => { status.textContent = `control: ${error.message}: open your invite link again`; },
});
const talkback = new TalkbackPanel(byId("talkback"), socket);
window.vbWall = { links, socket };
