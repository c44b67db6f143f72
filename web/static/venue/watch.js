// @ts-check
// The viewer page: player (reconnects by itself), viewer count, Q&A (ask, vote, answered),
// schedule in the viewer's time zone or the event's, English/Chinese.
import { Link } from "./link.js";
import { withPageRegion } from "../webrtc-http.js";
import { chosenLanguage, translate } from "./i18n.js";
import { loadSchedule, renderSchedule } from "./schedule.js";
import { Connection } from "../qa/client.js";
import { ReconnectingSocket } from "../lib/socket.js";
import { byId, el, errorMessage } from "../lib/dom.js";
import { browserZone, pageNow } from "../lib/time.js";
import { isLost } from "../lib/onair.js";
import { CaptionView } from "../lib/captions.js";
import { pickAudioLanguage } from "./audio_language.js";
import { HlsFallback } from "./hls_fallback.js";

/** @typedef {import("../qa/client.js").Question} Question */
/** @typedef {import("./schedule.js").ScheduleSession} ScheduleSession */
/** @typedef {import("../lib/frames.js").RoutingFrame} RoutingFrame */

const page = byId("watch-page");
const channel = page.dataset.channel || "";
const session = page.dataset.session || "";
const eventZone = page.dataset.eventZone || "UTC";
const qa = Boolean(page.dataset.qa);
let lang = chosenLanguage();
let t = translate(lang);

/** @type {RoutingFrame | null} the routing matrix: it says when the channel's source is lost */
let matrix = null;
/** @type {ScheduleSession[]} */
let sessions = [];

const player = new Link({
  // `?region=eu` on the page: the player is steered to a node of that region.
  kind: "play", endpoint: withPageRegion(`/whep/${encodeURIComponent(channel)}`), video: byId("player", HTMLVideoElement),
  onState: (state, detail) => {
    window.vbPc = player.pc;
    fallBackWhenWebRtcCannot(detail);
    showStatus();
  },
});

// ---- HLS when WebRTC cannot: the node is full (503 to the offer) or the connection
// failed (UDP blocked). ?hls=1 asks for HLS from the start. #playback says which it is.
/** @type {"" | "full" | "failed" | "asked"} why the page plays HLS ("": it plays WebRTC) */
let hlsBecause = "";
let hlsState = "starting";
const hls = new HlsFallback(byId("player", HTMLVideoElement), channel, (state) => { hlsState = state; showStatus(); });
/** @param {string} detail */
function fallBackWhenWebRtcCannot(detail) {
  if (hlsBecause) return;
  if (player.lastStatus === 503) hlsBecause = "full";
  else if (detail.startsWith("connection failed")) hlsBecause = "failed";
  else return;
  void player.stop();
  void hls.start();
}

// Never "playing" or "not started" while the source is lost: the matrix says so, or the
// channel is not live while its schedule says a session is on (a server that just
// restarted does not know the source yet).
function showStatus() {
  const playback = byId("playback");
  playback.dataset.mode = hlsBecause ? "hls" : "webrtc";
  playback.dataset.because = hlsBecause;
  playback.textContent = t(hlsBecause ? `playback_hls_${hlsBecause}` : "playback_webrtc");
  /** @type {Record<string, string>} */
  const hlsKeys = { starting: "connecting", playing: "live", error: "retrying" };
  /** @type {string} */
  let key = hlsBecause ? hlsKeys[hlsState] || "connecting" : player.state;
  if (isLost(matrix, channel)) key = "lost";
  else if (player.state === "waiting" && scheduledNow()) key = "lost";
  byId("status").dataset.state = key;
  byId("status").textContent = t(`status_${key}`);
}

function scheduledNow() {
  const now = pageNow().getTime();
  return sessions.some((s) => Date.parse(s.start) <= now && now < Date.parse(s.end));
}

/** @param {import("../lib/socket.js").Frame} frame */
function receiveRouting(frame) {
  if (frame.type !== "routing") return;
  matrix = /** @type {RoutingFrame} */ (frame);
  showStatus();
}
const audioLanguage = document.getElementById("audio-language");
if (audioLanguage instanceof HTMLSelectElement) {
  pickAudioLanguage(player, audioLanguage);
  // On HLS the choice picks an audio rendition of the master playlist instead.
  hls.setAudioLanguage(audioLanguage.value);
  audioLanguage.addEventListener("change", () => hls.setAudioLanguage(audioLanguage.value));
}
if (new URLSearchParams(location.search).get("hls") === "1") {
  hlsBecause = "asked";
  void hls.start();
} else {
  player.start();
}
window.vbHls = hls;

// ---- language switch
byId("language").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  t = translate(lang, true);
  showStatus();
  const askMessage = document.getElementById("ask-message");
  if (askMessage) askMessage.textContent = "";
  drawSchedule();
  drawQuestions();
});

// ---- viewer count (presence, summed over nodes)
async function countViewers() {
  const response = await fetch(`/api/channels/${encodeURIComponent(channel)}/viewers`);
  if (response.ok) byId("viewer-count").textContent = String((await response.json()).viewers);
}
countViewers().catch(() => {});
setInterval(() => countViewers().catch(() => {}), 3000);

// ---- schedule: this channel's sessions, in the viewer's zone or the event's
const myZone = browserZone();
let zone = myZone;
function drawSchedule() {
  byId("zone-name").textContent = zone;
  renderSchedule(byId("schedule"), sessions, zone, pageNow(), {
    onAir: t("on_air"), next: t("next"), locale: lang === "zh" ? "zh-CN" : "en", lang,
  });
}
for (const [id, value] of /** @type {Array<[string, () => string]>} */ ([["zone-mine", () => myZone], ["zone-event", () => eventZone]])) {
  byId(id).addEventListener("click", () => {
    zone = value();
    byId("zone-mine").setAttribute("aria-pressed", String(zone === myZone && id === "zone-mine"));
    byId("zone-event").setAttribute("aria-pressed", String(id === "zone-event"));
    drawSchedule();
  });
}
loadSchedule().then((data) => {
  sessions = data.sessions.filter((s) => s.channel === channel);
  drawSchedule();
  showStatus();
}).catch(() => {});
setInterval(drawSchedule, 30000);

// ---- Q&A: the session's room over the shared Q&A client; presence rides on it
/** @type {Connection | null} */
let connection = null;
function drawQuestions() {
  if (!connection) return;
  const questions = [...connection.state.questions.values()];
  const open = questions.filter((q) => q.state === "approved" || q.state === "on_stage" || q.state === "pending")
    .sort((a, b) => b.votes - a.votes || a.asked_at - b.asked_at);
  const done = questions.filter((q) => q.state === "answered");
  byId("questions").replaceChildren(...open.map((q) => questionItem(q)));
  byId("answered").replaceChildren(...done.map((q) => questionItem(q)));
  byId("no-questions").hidden = open.length > 0;
  byId("answered-head").hidden = done.length === 0;
}

/**
 * One question with its vote button (pressed when this viewer voted for it).
 * @param {Question} q
 */
function questionItem(q) {
  const room = connection;
  const voted = room ? room.state.myVotes.has(q.id) : false;
  const canVote = q.state === "approved" || q.state === "on_stage";
  const vote = el("button", {
    type: "button", class: "vote", "aria-pressed": String(voted), disabled: !canVote,
    "aria-label": voted ? "Withdraw vote" : "Vote",
    onclick: () => { if (room) room.vote(q.id, !voted).then(drawQuestions, showError); },
  }, `${t("vote")} ${q.votes}`);
  const text = q.translations && q.translations[lang] ? q.translations[lang] : q.text;
  return el("li", { "data-question": q.id, "data-state": q.state },
    el("div", {}, el("div", { class: "q-text" }, text),
      el("div", { class: "q-meta" }, q.name || "",
        q.state === "pending" || q.state === "on_stage" ? el("span", { class: "q-state" }, t(q.state)) : null)),
    vote);
}

/** @param {unknown} error */
function showError(error) {
  const message = byId("ask-message");
  message.dataset.state = "error";
  message.textContent = errorMessage(error);
}

// ---- live captions of the session, in the language picked under the player
/** @type {CaptionView | null} */
let captions = null;
/** @param {(message: Record<string, unknown>) => Promise<import("../lib/socket.js").Frame>} send */
function showCaptions(send) {
  const box = document.getElementById("captions");
  if (box) captions = new CaptionView(box, { send, ui: lang });
}

if (qa) {
  const room = new Connection({
    room: session, present: { channel }, also: [{ type: "watch_routing" }],
    onFrame: (frame, changed) => {
      receiveRouting(frame);
      if (captions) captions.receive(frame);
      if (changed) drawQuestions();
    },
    onStatus: (status) => { if (status === "online") player.nudge(); },
  });
  connection = room;
  showCaptions((message) => room.send(message));
  byId("ask", HTMLFormElement).addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = byId("ask-text", HTMLTextAreaElement);
    const message = byId("ask-message");
    try {
      await room.send({
        type: "ask", room: session, text: text.value, name: byId("ask-name", HTMLInputElement).value,
        language: lang, origin: "remote",
      });
      text.value = "";
      message.dataset.state = "ok";
      message.textContent = t("sent");
    } catch (error) {
      showError(error);
    }
  });
} else {
  const socket = new ReconnectingSocket({
    resume: () => [{ type: "present", channel }, { type: "watch_routing" }],
    onFrame: (frame) => { receiveRouting(frame); if (captions) captions.receive(frame); },
    onWelcome: () => player.nudge(),
  });
  showCaptions((message) => socket.send(message));
}

// ---- /watch/{channel} follows the channel: the server picked the session on it now and
// says when that can change (data-recheck-at); then ask it again and, when another session
// has come on, reload the page into that session's room.
/** @param {string | undefined} recheckAt */
function followChannel(recheckAt) {
  if (!recheckAt) return;
  const due = Date.parse(recheckAt);
  // Capped so a laptop waking from sleep catches up within a minute.
  setTimeout(async () => {
    if (pageNow().getTime() < due) return followChannel(recheckAt);
    const at = pageNow().toISOString();
    try {
      const response = await fetch(`/api/channels/${encodeURIComponent(channel)}/session?at=${encodeURIComponent(at)}`);
      if (!response.ok) throw new Error(`session: ${response.status}`);
      const body = await response.json();
      if ((body.session ? body.session.id : "") === session) return followChannel(body.recheck_at);
      const url = new URL(location.href);
      if (url.searchParams.has("at")) url.searchParams.set("at", at); // a pinned clock moves on
      location.replace(url);
    } catch {
      setTimeout(() => followChannel(recheckAt), 5000);
    }
  }, Math.min(Math.max(due - pageNow().getTime(), 0), 60000));
}
if (page.dataset.follow) followChannel(page.dataset.recheckAt);
window.vbPlayer = player;
