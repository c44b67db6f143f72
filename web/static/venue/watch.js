// The viewer page: player (reconnects by itself), viewer count, Q&A (ask, vote, answered),
// schedule in the viewer's time zone or the event's, English/Chinese.
import { Link } from "./link.js";
import { Socket } from "./socket.js";
import { chosenLanguage, translate } from "./i18n.js";
import { loadSchedule, now, renderSchedule } from "./schedule.js";
import { Connection, el } from "../qa/client.js";

const page = document.getElementById("watch-page");
const { channel, session, qa, eventZone } = page.dataset;
const $ = (id) => document.getElementById(id);
let lang = chosenLanguage();
let t = translate(lang);

const player = new Link({
  kind: "play", endpoint: `/whep/${encodeURIComponent(channel)}`, video: $("player"),
  onState: (state) => {
    window.vbPc = player.pc;
    $("status").dataset.state = state;
    $("status").textContent = t(`status_${state}`);
  },
});
player.start();

// ---- language switch
$("language").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  t = translate(lang);
  $("status").textContent = t(`status_${player.state}`);
  if ($("ask-message")) $("ask-message").textContent = "";
  drawSchedule();
  drawQuestions();
});

// ---- viewer count (presence, summed over nodes)
async function countViewers() {
  const response = await fetch(`/api/channels/${encodeURIComponent(channel)}/viewers`);
  if (response.ok) $("viewer-count").textContent = String((await response.json()).viewers);
}
countViewers().catch(() => {});
setInterval(() => countViewers().catch(() => {}), 3000);

// ---- schedule: this channel's sessions, in the viewer's zone or the event's
const myZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
let zone = myZone;
let sessions = [];
function drawSchedule() {
  $("zone-name").textContent = zone;
  renderSchedule($("schedule"), sessions, zone, now(), {
    onAir: t("on_air"), next: t("next"), locale: lang === "zh" ? "zh-CN" : "en",
  });
}
for (const [id, value] of [["zone-mine", () => myZone], ["zone-event", () => eventZone]]) {
  $(id).addEventListener("click", () => {
    zone = value();
    $("zone-mine").setAttribute("aria-pressed", String(zone === myZone && id === "zone-mine"));
    $("zone-event").setAttribute("aria-pressed", String(id === "zone-event"));
    drawSchedule();
  });
}
loadSchedule().then((data) => {
  sessions = data.sessions.filter((s) => s.channel === channel);
  drawSchedule();
}).catch(() => {});
setInterval(drawSchedule, 30000);

// ---- Q&A: the session's room over the shared Q&A client; presence rides on it
let connection = null;
function drawQuestions() {
  if (!connection) return;
  const questions = [...connection.state.questions.values()];
  const open = questions.filter((q) => q.state === "approved" || q.state === "on_stage" || q.state === "pending")
    .sort((a, b) => b.votes - a.votes || a.asked_at - b.asked_at);
  const done = questions.filter((q) => q.state === "answered");
  $("questions").replaceChildren(...open.map(questionItem));
  $("answered").replaceChildren(...done.map((q) => questionItem(q, true)));
  $("no-questions").hidden = open.length > 0;
  $("answered-head").hidden = done.length === 0;
}

function questionItem(q, answered = false) {
  const voted = connection.state.myVotes.has(q.id);
  const vote = el("button", {
    type: "button", "aria-pressed": String(voted), disabled: answered || q.state !== "approved" ? "" : null,
    onclick: () => connection.send({ type: "vote", room: session, question: q.id, on: !voted }).catch(() => {}),
  }, `${t("vote")} ${q.votes}`);
  const text = q.translations && q.translations[lang] ? q.translations[lang] : q.text;
  return el("li", { "data-question": q.id, "data-state": q.state },
    el("div", {}, el("div", { class: "q-text" }, text),
      el("div", { class: "q-meta" }, q.name || "",
        q.state === "pending" || q.state === "on_stage" ? el("span", { class: "q-state" }, t(q.state)) : null)),
    vote);
}

if (qa) {
  connection = new Connection({
    room: session, present: { channel }, onFrame: (_frame, changed) => { if (changed) drawQuestions(); },
    onStatus: (status) => { if (status === "online") player.nudge(); },
  });
  $("ask").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await connection.send({ type: "ask", room: session, text: $("ask-text").value, name: $("ask-name").value, language: lang, origin: "remote" });
      $("ask-text").value = "";
      $("ask-message").dataset.state = "ok";
      $("ask-message").textContent = t("sent");
    } catch (error) {
      $("ask-message").dataset.state = "error";
      $("ask-message").textContent = error.message || "";
    }
  });
} else {
  new Socket({ present: { channel }, onWelcome: () => player.nudge() });
}

// ---- /watch/{channel} follows the channel: the server picked the session on it now and
// says when that can change (data-recheck-at); then ask it again and, when another session
// has come on, reload the page into that session's room.
function followChannel(recheckAt) {
  if (!recheckAt) return;
  const due = Date.parse(recheckAt);
  // Capped so a laptop waking from sleep catches up within a minute.
  setTimeout(async () => {
    if (now().getTime() < due) return followChannel(recheckAt);
    const at = now().toISOString();
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
  }, Math.min(Math.max(due - now().getTime(), 0), 60000));
}
if (page.dataset.follow) followChannel(page.dataset.recheckAt);
window.vbPlayer = player;
