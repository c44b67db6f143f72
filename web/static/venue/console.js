// @ts-check
// The sub-venue operator console: projector player, return-feed publisher, link health,
// the projector's language, local clock and schedule, talkback, question relay. Everything reconnects by itself.
import { Link } from "./link.js";
import { watchHealth } from "./health.js";
import { TalkbackPanel } from "./talkback.js";
import { loadSchedule, renderSchedule } from "./schedule.js";
import { ReconnectingSocket } from "../lib/socket.js";
import { CaptionView } from "../lib/captions.js";
import { DevicePicker } from "../lib/devices.js";
import { byId, errorMessage } from "../lib/dom.js";
import { outputState } from "../lib/onair.js";
import { showOutputLanguages, watchOutputLanguages } from "../lib/output_language.js";
import { clockIn, pageNow, timeIn, timeOrDateIn } from "../lib/time.js";
import { pageLanguage, pickText } from "../lib/local_text.js";

/** @typedef {import("./schedule.js").ScheduleSession} ScheduleSession */
/** @typedef {import("../lib/socket.js").Frame} Frame */

const root = byId("console");
const venue = root.dataset.venue || "";
const zone = root.dataset.zone || "UTC";
// No token in the page: same-origin requests (WHEP/WHIP, /ws) carry the HttpOnly cookie.
const codec = root.dataset.codec || "";
const returnChannel = root.dataset.return || "";
const $ = byId;
const devices = new DevicePicker(byId("camera", HTMLSelectElement), byId("microphone", HTMLSelectElement),
  `vb.venue.${venue}.devices`);
const goLive = byId("go-live", HTMLButtonElement);
const stopLive = byId("stop-live", HTMLButtonElement);
const relaySession = byId("relay-session", HTMLSelectElement);

/**
 * @param {HTMLElement} pill
 * @param {string} state
 * @param {string} detail
 * @param {Record<string, string>} labels
 */
function showState(pill, state, detail, labels) {
  pill.dataset.state = state;
  pill.textContent = `${labels[state] || state}${detail ? ` · ${detail}` : ""}`;
}

// ---- projector: the venue output, played until the page closes. Its pill says what the
// room sees: the WHEP link's state, and once that plays, what the matrix has on air here
// (a lost source or the slate is never "playing").
/** @type {import("../lib/frames.js").RoutingFrame | null} the last matrix the server pushed */
let lastRouting = null;
/** @type {{ state: string, detail: string }} */
let projectorLink = { state: "idle", detail: "" };
const projector = new Link({
  kind: "play", endpoint: `/whep/venue/${encodeURIComponent(venue)}`, video: byId("projector", HTMLVideoElement),
  onState: (state, detail) => { projectorLink = { state, detail }; showProjector(); },
});

// The matrix is believed only while the control socket is up: a stale one would lie.
let controlOnline = false;

function showProjector() {
  const pill = $("projector-state");
  const output = controlOnline ? outputState(lastRouting, venue) : { state: "unknown" };
  const row = lastRouting && lastRouting.venues ? lastRouting.venues.find((v) => v.venue === venue) : undefined;
  if (controlOnline && row && row.home && row.home_up === false) {
    // The home node is down: this page was sent to the routing node, whose own copy of the
    // output follows the plan; the matrix's record of the home says nothing of that copy.
    showState(pill, projectorLink.state, projectorLink.detail,
      { live: `playing (from the routing node; ${row.home} is down)`, connecting: "connecting", waiting: "waiting", retrying: "reconnecting", error: "not allowed" });
  } else if (output.state === "lost") {
    showState(pill, "lost", "", { lost: "Signal interrupted, reconnecting…" });
  } else if (output.state === "slate") {
    showState(pill, "slate", "", { slate: "Nothing is routed here (slate)" });
  } else {
    showState(pill, projectorLink.state, projectorLink.detail,
      { live: "playing", connecting: "connecting", waiting: "waiting", retrying: "reconnecting", error: "not allowed" });
  }
}
projector.start();
watchHealth(projector, $("health-in"));
$("projector-full").addEventListener("click", () => $("projector-box").requestFullscreen?.());
$("projector-sound").addEventListener("click", () => {
  const video = byId("projector", HTMLVideoElement);
  video.muted = !video.muted;
  $("projector-sound").textContent = video.muted ? "Sound on" : "Mute";
});

// ---- return feed: chosen devices are remembered per venue (lib/devices.js)
async function openDevices() {
  const stream = await devices.open();
  byId("preview", HTMLVideoElement).srcObject = stream;
  return stream;
}

for (const select of [devices.camera, devices.microphone]) {
  select.addEventListener("change", async () => {
    devices.remember();
    await openDevices();
    if (returnFeed.wanted) { await returnFeed.stop(); returnFeed.start(); }
  });
}

const returnFeed = new Link({
  kind: "publish", endpoint: `/whip/${encodeURIComponent(returnChannel)}`, codec,
  stream: () => devices.stream,
  onState: (s, d) => showState($("return-state"), s, d, { idle: "not live", live: "live", connecting: "connecting", retrying: "reconnecting" }),
});
watchHealth(returnFeed, $("health-out"));

$("go-live").addEventListener("click", async () => {
  try {
    if (!devices.stream) await openDevices();
    await devices.list();
    devices.remember();
    returnFeed.start();
    goLive.disabled = true; stopLive.disabled = false;
  } catch (error) {
    showState($("return-state"), "error", errorMessage(error), {});
  }
});
$("stop-live").addEventListener("click", async () => {
  await returnFeed.stop();
  goLive.disabled = false; stopLive.disabled = true;
});
devices.list().catch(() => {});

// ---- clock and schedule, in the venue's time zone
/** A session's title in the page's language (the server drew the page in it). @param {ScheduleSession} s */
const titleOf = (s) => pickText(s.titles, s.title, pageLanguage());
/** @type {ScheduleSession[]} */
let sessions = [];
function tick() {
  const at = pageNow();
  $("clock").textContent = clockIn(at, zone);
  const { onAir, next } = renderSchedule($("schedule"), sessions, zone, at);
  $("on-air").textContent = onAir.map(titleOf).join(" · ") || "nothing";
  $("next-up").textContent = next ? `${timeOrDateIn(next.start, zone, at)} ${titleOf(next)}` : "nothing";
  fillRelaySessions(onAir, next);
}
loadSchedule(venue).then((data) => {
  sessions = data.sessions;
  channelTitles = new Map(data.channels.map((c) => [c.id, pickText(c.titles, c.title, pageLanguage())]));
  tick();
  if (lastRouting) showRouting(lastRouting);
}).catch(() => {});
setInterval(tick, 1000);

// ---- the relay form: the on-air session with Q&A is the default choice
/**
 * @param {ScheduleSession[]} onAir
 * @param {ScheduleSession | null} next
 */
function fillRelaySessions(onAir, next) {
  const select = relaySession;
  const withQa = sessions.filter((s) => s.qa);
  if (select.options.length !== withQa.length) {
    select.replaceChildren(...withQa.map((s) => new Option(`${timeIn(s.start, zone, { day: true })} ${titleOf(s)}`, s.id)));
    select.dataset.chosen = "";
  }
  const current = onAir.find((s) => s.qa) || (next && next.qa ? next : null);
  if (current && !select.dataset.chosen) select.value = current.id;
}
relaySession.addEventListener("change", () => { relaySession.dataset.chosen = "1"; });

$("relay").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("relay-message");
  try {
    const text = byId("relay-text", HTMLTextAreaElement);
    await socket.send({
      type: "ask", room: relaySession.value, text: text.value,
      name: byId("relay-name", HTMLInputElement).value, language: byId("relay-language", HTMLSelectElement).value,
      origin: "sub_venue",
    });
    text.value = "";
    message.dataset.state = "ok";
    message.textContent = "Relayed: the moderator has it.";
  } catch (error) {
    message.dataset.state = "error";
    message.textContent = errorMessage(error) || "Not sent.";
  }
});

// ---- what the director's matrix puts on this venue's output (on air = the cut happened)
/** @type {Map<string, string>} channel id -> title, from the schedule */
let channelTitles = new Map();

/** @param {import("../lib/frames.js").Crosspoint} point */
function routedName(point) {
  if (!point.channel) return "nothing";
  const channel = channelTitles.get(point.channel) || point.channel;
  const session = point.session ? sessions.find((s) => s.id === point.session) : undefined;
  return session ? `${titleOf(session)} (${channel})` : channel;
}

/** @param {import("../lib/frames.js").RoutingFrame} frame */
function showRouting(frame) {
  lastRouting = frame;
  showProjector();
  showOutputLanguages($("projector-panel"), frame);
  const row = frame.venues.find((v) => v.venue === venue);
  const el = document.getElementById("projector-routed");
  if (!row || !el) return;
  const onAir = row.on_air;
  const output = outputState(frame, venue);
  const pending = row.requested && (!onAir || row.requested.channel !== onAir.channel) ? row.requested : null;
  let text = onAir && onAir.channel
    ? `On air here: ${routedName(onAir)}, routed by ${onAir.by}`
    : "Nothing is routed here (slate)";
  if (row.home && row.home_up === false) text += ` · ${row.home} is down: the routing node serves this page`;
  else if (output.state === "lost") text = `Signal interrupted, reconnecting… · ${text}`;
  else if (output.state === "slate" && onAir && onAir.channel) text += " · the slate is showing";
  if (pending) text += ` · switching to ${routedName(pending)}…`;
  // Without the control socket this is only what the server said last: say so.
  if (!controlOnline) text = `Last known: ${text} (the server is unreachable)`;
  el.textContent = text;
  el.dataset.channel = onAir && onAir.channel ? onAir.channel : "";
  el.dataset.state = output.state;
  // Captions follow the session routed here, on air or waiting for its source's keyframe.
  const routed = row.requested && row.requested.session ? row.requested : onAir;
  followCaptions(routed && routed.session ? routed.session : "");
}

// ---- captions over the projector: a toggle; they follow the session on air here
/** @type {CaptionView | null} */
let captions = null;
/** @param {string} sessionId */
function followCaptions(sessionId) {
  const session = sessions.find((s) => s.id === sessionId);
  // /api/schedule carries each session's languages, floor first.
  const languages = session ? /** @type {{ languages?: string[] }} */ (session).languages || [] : [];
  if (captions) captions.setSession(session ? sessionId : "", languages);
}

// ---- control socket: presence, talkback, routing
/** @type {TalkbackPanel | null} */
let talkback = null;
const socket = new ReconnectingSocket({
  resume: () => [{ type: "present", venue }],
  onStatus: (s) => {
    controlOnline = s === "online";
    if (lastRouting) showRouting(lastRouting); else showProjector();
    showState($("ws-status"), s, "", { online: "control: online", offline: "control: reconnecting", connecting: "control: connecting" });
  },
  onFrame: (frame) => {
    if (talkback) talkback.receive(frame);
    if (captions) captions.receive(frame);
    if (frame.type === "routing") showRouting(/** @type {import("../lib/frames.js").RoutingFrame} */ (frame));
  },
  onUnauthorized: (error) => showState($("ws-status"), "error", `${error.message}: open your invite link again`, {}),
  onWelcome: () => {
    projector.nudge();
    returnFeed.nudge();
    // Only the node that runs routing answers; elsewhere the line keeps its first text.
    socket.send({ type: "watch_routing" }).catch(() => {});
  },
});
// The projector's language: the floor or an interpretation track, set here or by the director.
watchOutputLanguages($("projector-panel"), (message) => socket.send(message),
  (text) => { $("output-language-state").textContent = text; });
talkback = new TalkbackPanel($("talkback"), socket, { venue, venues: [{ id: venue, name: root.dataset.venueName || venue }] });

{
  const box = $("projector-captions");
  // The venue's output language first, when the session has captions in it.
  const view = new CaptionView(box, {
    send: (message) => socket.send(message), on: false, ui: box.dataset.default || "en",
    pickerHost: $("projector-captions-pick"),
  });
  const toggle = $("projector-captions-toggle");
  toggle.addEventListener("click", () => {
    view.setOn(!view.on);
    toggle.setAttribute("aria-pressed", String(view.on));
  });
  captions = view;
  if (lastRouting) showRouting(lastRouting);
}

window.vbConsole = { projector, returnFeed, socket };
