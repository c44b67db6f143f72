// @ts-check
// The director's routing matrix: crosspoints preset, then taken (TAKE or Enter) over the
// websocket, the matrix as the server reports it (on air only once the media plane took
// the cut), automation and output language per venue, what is on now and next, each venue's operator and link
// state, the alarm for lost sources and the monitors (director/*.js).
import { TalkbackPanel } from "./venue/talkback.js";
import { Alarm } from "./director/alarm.js";
import { Monitors } from "./director/monitors.js";
import { renderLinks } from "./director/links.js";
import { Presets, confirmCuts, cutsOnAir, routeName } from "./director/take.js";
import { NodesPanel, renderHomes } from "./director/topology.js";
import { venueName } from "./lib/names.js";
import { showOutputLanguages, watchOutputLanguages } from "./lib/output_language.js";
import { ReconnectingSocket } from "./lib/socket.js";
import { byId, el, errorMessage, pageData } from "./lib/dom.js";
import { pageNow, setServerClock, timeIn, timeOrDateIn } from "./lib/time.js";

/** @typedef {import("./lib/frames.js").RoutingFrame} RoutingFrame */
/** @typedef {import("./lib/frames.js").PresenceFrame} PresenceFrame */
/** @typedef {import("./venue/schedule.js").ScheduleSession} ScheduleSession */
/** @typedef {{ id: string, name: string, time_zone: string }} Venue */
/** @typedef {ScheduleSession & { startMs: number, endMs: number }} TimedSession */
/**
 * The parts of GET /api/streams this page reads.
 * @typedef {{ kind: string, packets_lost?: number, rtt_s?: number, bitrate_bps?: number, fps?: number }} TrackStats
 * @typedef {{ venues: Array<{ id: string, on_air?: boolean }>, publishers: Array<{ channel: string, live: boolean, tracks: TrackStats[] }>, subscribers: Array<{ feed: string, tracks: TrackStats[] }>, relays?: import("./director/links.js").RelayLink[] }} Streams
 */

/** @type {{ venues: Venue[], sessions: ScheduleSession[], clock?: import("./lib/time.js").ServerClock & { rehearsal: boolean } }} */
const schedule = pageData("schedule-data");
// In a rehearsal the page runs on the server's clock (the socket's welcome says so too).
if (schedule.clock && schedule.clock.rehearsal) setServerClock(schedule.clock);
const statusEl = byId("status");
const messageEl = byId("message");
const matrixEl = byId("matrix");
const venues = new Map(schedule.venues.map((v) => [v.id, v]));
/** @type {TimedSession[]} */
const sessions = schedule.sessions.map((s) => ({ ...s, startMs: Date.parse(s.start), endMs: Date.parse(s.end) }));
/** @type {Pick<PresenceFrame, "operators_by_venue">} */
let presence = { operators_by_venue: {} };
/** @type {Streams} */
let streams = { venues: [], publishers: [], subscribers: [] };
/** @type {RoutingFrame | null} */
let matrix = null;
const presets = new Presets();
const takeButton = byId("take", HTMLButtonElement);
const clearButton = byId("clear-preset", HTMLButtonElement);
const alarm = new Alarm(byId("alarm"), byId("alarm-sound", HTMLInputElement));

/** @param {string} text */
function say(text) {
  messageEl.textContent = text || "";
}

function renderMatrix() {
  renderPresets();
  if (!matrix) return;
  for (const row of matrix.venues) {
    const onAir = row.on_air ? row.on_air.channel : null;
    const requested = row.requested ? row.requested.channel : null;
    for (const button of matrixEl.querySelectorAll(`button.xpt[data-venue="${CSS.escape(row.venue)}"]`)) {
      if (!(button instanceof HTMLButtonElement)) continue;
      const channel = button.dataset.channel || null;
      const isOnAir = row.on_air !== null && channel === onAir;
      const isPending = row.requested !== null && channel === requested && !isOnAir;
      button.classList.toggle("on-air", isOnAir);
      button.classList.toggle("pending", isPending);
      button.setAttribute("aria-pressed", String(isOnAir || isPending));
      const by = isOnAir && row.on_air ? row.on_air.by : isPending && row.requested ? row.requested.by : "";
      button.title = by ? `${isOnAir ? "on air" : "pending"} · by ${by}` : "";
    }
    const box = matrixEl.querySelector(`input.automation[data-venue="${CSS.escape(row.venue)}"]`);
    const label = box && box.parentElement ? box.parentElement.querySelector(".auto-state") : null;
    if (box instanceof HTMLInputElement && label) {
      box.checked = row.automation === "on";
      label.textContent = row.automation === "on" ? (row.held_by_director ? "on (held)" : "on") : "paused";
    }
  }
  renderNowNext();
}

// The preset highlight, the TAKE button and a line saying what TAKE would do.
function renderPresets() {
  for (const button of matrixEl.querySelectorAll("button.xpt")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.classList.toggle("preset", presets.has(button.dataset.venue || "", button.dataset.channel || null));
  }
  takeButton.disabled = presets.size === 0;
  clearButton.disabled = presets.size === 0;
  byId("preset-summary").textContent = presets.size
    ? `Preset: ${presets.entries().map(([v, c]) => `${venueName(v)} → ${routeName(c)}`).join(" · ")}. TAKE (Enter) or Esc.`
    : "Click crosspoints to preset them, then TAKE (Enter). Esc clears.";
}

let taking = false;
// Sends every preset; a route that takes a venue off what it has on air asks first.
async function take() {
  if (taking || presets.size === 0) return;
  taking = true;
  try {
    const routes = presets.entries();
    const cuts = cutsOnAir(routes, matrix);
    if (cuts.length && !(await confirmCuts(byId("confirm-take", HTMLDialogElement), byId("confirm-list"), cuts))) return;
    say("");
    for (const [venue, channel] of routes) {
      try {
        await signal.send({ type: "route", venue, channel });
        if (presets.has(venue, channel)) presets.toggle(venue, channel);
      } catch (error) {
        say(`Could not route ${venueName(venue)}: ${errorMessage(error)}`);
      }
    }
  } finally {
    taking = false;
    renderPresets();
  }
}

/**
 * One "label: title (start–end)" line; times in the venue's zone, with the date when the
 * session is not on today's date there.
 * @param {string} label
 * @param {TimedSession | null} session
 * @param {Venue} venue
 * @param {Date} now
 */
function sessionLine(label, session, venue, now) {
  const zone = venue.time_zone;
  const when = session
    ? ` (${timeOrDateIn(session.startMs, zone, now)}–${timeIn(session.endMs, zone)})` : "";
  return el("div", { class: "session-line" }, el("strong", {}, `${label}: `),
    session ? el("span", { class: "session-title" }, session.title) : "—", when);
}

function renderNowNext() {
  const now = pageNow();
  const nowMs = now.getTime();
  for (const cell of document.querySelectorAll("td.now-next")) {
    if (!(cell instanceof HTMLElement)) continue;
    const venue = venues.get(cell.dataset.venue || "");
    if (!venue) continue;
    const mine = sessions.filter((s) => s.venues.includes(venue.id)).sort((a, b) => a.startMs - b.startMs);
    const current = mine.find((s) => s.startMs <= nowMs && nowMs < s.endMs);
    const row = matrix && matrix.venues.find((r) => r.venue === venue.id);
    const airingId = row && row.on_air && row.on_air.session;
    const airing = airingId ? sessions.find((s) => s.id === airingId) || null : null;
    const next = mine.find((s) => s.startMs > nowMs && (!airing || s.id !== airing.id)) || null;
    const lines = [sessionLine("On air", airing, venue, now)];
    if (current && (!airing || current.id !== airing.id)) lines.push(sessionLine("Scheduled now", current, venue, now));
    lines.push(sessionLine("Next", next, venue, now));
    cell.replaceChildren(...lines);
  }
}

function renderStatus() {
  for (const cell of document.querySelectorAll("td.venue-status")) {
    if (!(cell instanceof HTMLElement)) continue;
    const id = cell.dataset.venue || "";
    const operators = presence.operators_by_venue[id] || 0;
    const output = streams.venues.find((v) => v.id === id);
    const players = streams.subscribers.filter((s) => s.feed === `venue:${id}`);
    // This page's own monitor of the output is not an audience.
    const monitor = monitors.links.get(`venue:${id}`);
    const audience = Math.max(0, players.length - (monitor && monitor.state === "live" ? 1 : 0));
    const video = players.flatMap((p) => p.tracks.filter((t) => t.kind === "video"));
    const worstLoss = Math.max(0, ...video.map((t) => t.packets_lost || 0));
    const rtt = Math.max(0, ...video.map((t) => t.rtt_s || 0));
    const back = streams.publishers.find((p) => p.channel === `${id}-return` && p.live);
    const backVideo = back ? back.tracks.find((t) => t.kind === "video") : undefined;
    let light = "green";
    if (!operators) light = "grey";
    if (audience === 0 && output && output.on_air) light = "amber";
    if (worstLoss > 50 || rtt > 0.4) light = "red";
    // One fact per line, so the column stays narrow and nothing is cut off.
    const lines = [
      operators ? `operator online${operators > 1 ? ` (${operators})` : ""}` : "no operator",
      `${audience} ${audience === 1 ? "player" : "players"}`,
    ];
    if (video.length) lines.push(`loss ${worstLoss} · RTT ${Math.round(rtt * 1000)} ms`);
    if (backVideo) lines.push(`return ${Math.round((backVideo.bitrate_bps || 0) / 1000)} kb/s · ${backVideo.fps || 0} fps`);
    cell.dataset.light = light;
    cell.replaceChildren(
      el("span", { class: `light light-${light}`, title: light }),
      el("span", { class: "status-lines" }, ...lines.map((line) => el("span", {}, line))));
  }
}

function tickClocks() {
  const now = pageNow();
  for (const node of document.querySelectorAll("[data-clock]")) {
    if (node instanceof HTMLElement) node.textContent = `${timeIn(now, node.dataset.clock || "UTC")} local`;
  }
}

const signal = new ReconnectingSocket({
  onStatus: (state) => { statusEl.textContent = state; statusEl.dataset.state = state; },
  resume: () => [{ type: "watch_routing" }, { type: "watch_presence" }],
  onFrame: (frame) => {
    talkback.receive(frame);
    if (frame.type === "routing") {
      matrix = /** @type {RoutingFrame} */ (frame);
      renderMatrix();
      showOutputLanguages(matrixEl, matrix);
      alarm.update(matrix);
      renderHomes(matrix);
      nodesPanel.update(matrix);
      monitors.update(matrix, publishing());
    }
    if (frame.type === "presence") { presence = /** @type {PresenceFrame} */ (frame); renderStatus(); }
  },
  onUnauthorized: (error) => say(`${error.message}: open your invite link again.`),
  onWelcome: () => monitors.nudge(),
});

const monitors = new Monitors(byId("monitors"), {
  failover: byId("director").dataset.failover || "auto",
  send: (message) => signal.send(message),
  onError: say,
});

/** Channels with a live publisher, from the last /api/streams poll. */
function publishing() {
  return new Set(streams.publishers.filter((p) => p.live).map((p) => p.channel));
}

const talkback = new TalkbackPanel(byId("talkback"), signal);
const nodesPanel = new NodesPanel(byId("nodes"));

matrixEl.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button.xpt") : null;
  if (!(button instanceof HTMLButtonElement)) return;
  presets.toggle(button.dataset.venue || "", button.dataset.channel || null);
  renderPresets();
});

takeButton.addEventListener("click", () => { take(); });
clearButton.addEventListener("click", () => { presets.clear(); renderPresets(); });
// Enter takes (also from a focused crosspoint, where Space still selects); Esc clears.
// Typing in a field and the confirmation dialog keep their keys.
document.addEventListener("keydown", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target || target.closest("dialog, input, textarea, select, #talkback")) return;
  const onButton = target.closest("button, a");
  if (event.key === "Enter" && (!onButton || onButton.matches("button.xpt, #take")) && presets.size) {
    event.preventDefault();
    take();
  } else if (event.key === " " && !onButton && presets.size) {
    event.preventDefault();
    take();
  } else if (event.key === "Escape" && presets.size) {
    presets.clear();
    renderPresets();
  }
});

matrixEl.addEventListener("change", (event) => {
  const box = event.target instanceof Element ? event.target.closest("input.automation") : null;
  if (!(box instanceof HTMLInputElement)) return;
  signal.send({ type: "set_automation", venue: box.dataset.venue, on: box.checked })
    .catch((error) => say(`Could not change the automation: ${errorMessage(error)}`));
});

watchOutputLanguages(matrixEl, (message) => signal.send(message), say);

async function pollStreams() {
  try {
    const response = await fetch("/api/streams");
    if (response.ok) {
      streams = await response.json();
      renderStatus();
      renderLinks(byId("relay-links"), streams.relays);
      monitors.update(matrix, publishing());
    }
  } catch {
    // The server may be restarting; the next poll tries again.
  }
}

tickClocks();
setInterval(tickClocks, 1000);
renderNowNext();
setInterval(renderNowNext, 15000);
pollStreams();
setInterval(pollStreams, 2000);
nodesPanel.poll();
setInterval(() => nodesPanel.poll(), 3000);
window.vbDirector = { socket: signal, monitors: monitors.links };
