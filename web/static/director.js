// The director's routing matrix: crosspoints over the websocket, the matrix as the server
// reports it (on air only once the media plane took the cut), automation per venue,
// what is on now and next, and each venue's operator and link state.

import { Socket } from "/static/venue/socket.js";
import { TalkbackPanel } from "/static/venue/talkback.js";

const schedule = JSON.parse(document.getElementById("schedule-data").textContent);
const statusEl = document.getElementById("status");
const messageEl = document.getElementById("message");
const venues = new Map(schedule.venues.map((v) => [v.id, v]));
const sessions = schedule.sessions.map((s) => ({ ...s, startMs: Date.parse(s.start), endMs: Date.parse(s.end) }));
let presence = { operators_by_venue: {}, viewers_by_venue: {} };
let streams = { venues: [], channels: [], publishers: [], subscribers: [] };
let matrix = null;

function say(text) {
  messageEl.textContent = text || "";
}

function timeIn(zone, ms) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .format(new Date(ms));
}

function renderMatrix() {
  if (!matrix) return;
  for (const row of matrix.venues) {
    const onAir = row.on_air ? row.on_air.channel : null;
    const requested = row.requested ? row.requested.channel : null;
    for (const button of document.querySelectorAll(`button.xpt[data-venue="${row.venue}"]`)) {
      const channel = button.dataset.channel || null;
      const isOnAir = row.on_air !== null && channel === onAir;
      const isPending = row.requested !== null && channel === requested && !isOnAir;
      button.classList.toggle("on-air", isOnAir);
      button.classList.toggle("pending", isPending);
      button.setAttribute("aria-pressed", String(isOnAir || isPending));
      const by = isOnAir ? row.on_air.by : isPending ? row.requested.by : "";
      button.title = by ? `${isOnAir ? "on air" : "pending"} · by ${by}` : "";
    }
    const box = document.querySelector(`input.automation[data-venue="${row.venue}"]`);
    if (box) {
      box.checked = row.automation === "on";
      box.parentElement.lastChild.textContent = row.automation === "on"
        ? (row.held_by_director ? " on (held)" : " on") : " paused";
    }
  }
  renderNowNext();
}

function renderNowNext() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("td.now-next")) {
    const venue = venues.get(cell.dataset.venue);
    const mine = sessions.filter((s) => s.venues.includes(venue.id)).sort((a, b) => a.startMs - b.startMs);
    const current = mine.find((s) => s.startMs <= now && now < s.endMs);
    const row = matrix && matrix.venues.find((r) => r.venue === venue.id);
    const airing = row && row.on_air && row.on_air.session
      ? sessions.find((s) => s.id === row.on_air.session) : null;
    const next = mine.find((s) => s.startMs > now && (!airing || s.id !== airing.id));
    cell.replaceChildren();
    const line = (label, session) => {
      const div = document.createElement("div");
      const strong = document.createElement("strong");
      strong.textContent = `${label}: `;
      div.append(strong, session
        ? `${session.title} (${timeIn(venue.time_zone, session.startMs)}–${timeIn(venue.time_zone, session.endMs)})`
        : "—");
      cell.append(div);
    };
    line("On air", airing || null);
    if (current && (!airing || current.id !== airing.id)) line("Scheduled now", current);
    line("Next", next || null);
  }
}

function renderStatus() {
  for (const cell of document.querySelectorAll("td.venue-status")) {
    const id = cell.dataset.venue;
    const operators = presence.operators_by_venue[id] || 0;
    const output = streams.venues.find((v) => v.id === id);
    const players = streams.subscribers.filter((s) => s.feed === `venue:${id}`);
    const video = players.flatMap((p) => p.tracks.filter((t) => t.kind === "video"));
    const worstLoss = Math.max(0, ...video.map((t) => t.packets_lost || 0));
    const rtt = Math.max(0, ...video.map((t) => t.rtt_s || 0));
    const back = streams.publishers.find((p) => p.channel === `${id}-return` && p.live);
    const backVideo = back ? back.tracks.find((t) => t.kind === "video") : null;
    let light = "green";
    if (!operators) light = "grey";
    if (players.length === 0 && output && output.on_air) light = "amber";
    if (worstLoss > 50 || rtt > 0.4) light = "red";
    cell.replaceChildren();
    const dot = document.createElement("span");
    dot.className = `light light-${light}`;
    dot.title = light;
    const text = document.createElement("span");
    const parts = [
      operators ? `operator online (${operators})` : "no operator",
      `${players.length} player(s)`,
    ];
    if (video.length) parts.push(`loss ${worstLoss} · RTT ${Math.round(rtt * 1000)} ms`);
    if (backVideo) parts.push(`return ${Math.round(backVideo.bitrate_bps / 1000)} kb/s ${backVideo.fps} fps`);
    text.textContent = parts.join(" · ");
    cell.append(dot, text);
  }
}

function tickClocks() {
  for (const el of document.querySelectorAll("[data-clock]")) {
    el.textContent = ` ${timeIn(el.dataset.clock, Date.now())} local`;
  }
}

const signal = new Socket({
  onStatus: (state) => { statusEl.textContent = state; statusEl.dataset.state = state; },
  onWelcome: () => {
    signal.send({ type: "watch_routing" }).catch((e) => say(e.message));
    signal.send({ type: "watch_presence" }).catch((e) => say(e.message));
  },
  onFrame: (frame) => {
    talkback.receive(frame);
    if (frame.type === "routing") { matrix = frame; renderMatrix(); }
    if (frame.type === "presence") { presence = frame; renderStatus(); }
  },
});

const talkback = new TalkbackPanel(document.getElementById("talkback"), signal);

document.getElementById("matrix").addEventListener("click", (event) => {
  const button = event.target.closest("button.xpt");
  if (!button) return;
  const channel = button.dataset.channel || null;
  say("");
  signal.send({ type: "route", venue: button.dataset.venue, channel })
    .catch((error) => say(`Could not route: ${error.message}`));
});

document.getElementById("matrix").addEventListener("change", (event) => {
  const box = event.target.closest("input.automation");
  if (!box) return;
  signal.send({ type: "set_automation", venue: box.dataset.venue, on: box.checked })
    .catch((error) => say(`Could not change the automation: ${error.message}`));
});

async function pollStreams() {
  try {
    const response = await fetch("/api/streams");
    if (response.ok) { streams = await response.json(); renderStatus(); }
  } catch (error) {
    // The server may be restarting; the next poll tries again.
  }
}

tickClocks();
setInterval(tickClocks, 1000);
setInterval(renderNowNext, 15000);
pollStreams();
setInterval(pollStreams, 2000);
