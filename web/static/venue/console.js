// The sub-venue operator console: projector player, return-feed publisher, link health,
// local clock and schedule, talkback, question relay. Everything reconnects by itself.
import { Link } from "./link.js";
import { watchHealth } from "./health.js";
import { Socket } from "./socket.js";
import { TalkbackPanel } from "./talkback.js";
import { clock, loadSchedule, now, renderSchedule, timeIn } from "./schedule.js";

const root = document.getElementById("console");
// No token in the page: same-origin requests (WHEP/WHIP, /ws) carry the HttpOnly cookie.
const { venue, zone, codec } = root.dataset;
const returnChannel = root.dataset.return;
const $ = (id) => document.getElementById(id);
const DEVICES_KEY = `vb.venue.${venue}.devices`;

function showState(pill, state, detail, labels) {
  pill.dataset.state = state;
  pill.textContent = `${labels[state] || state}${detail ? ` · ${detail}` : ""}`;
}

// ---- projector: the venue output, played until the page closes
const projector = new Link({
  kind: "play", endpoint: `/whep/venue/${encodeURIComponent(venue)}`, video: $("projector"),
  onState: (s, d) => showState($("projector-state"), s, d, { live: "playing", connecting: "connecting", waiting: "waiting", retrying: "reconnecting" }),
});
projector.start();
watchHealth(projector, $("health-in"));
$("projector-full").addEventListener("click", () => $("projector-box").requestFullscreen?.());
$("projector-sound").addEventListener("click", () => {
  const video = $("projector");
  video.muted = !video.muted;
  $("projector-sound").textContent = video.muted ? "Sound on" : "Mute";
});

// ---- return feed: chosen devices are remembered per venue
let stream = null;
const saved = JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind, key] of [[$("camera"), "videoinput", "camera"], [$("microphone"), "audioinput", "microphone"]]) {
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      select.append(new Option(d.label || `${kind} ${i + 1}`, d.deviceId));
    });
    if (saved[key] && [...select.options].some((o) => o.value === saved[key])) select.value = saved[key];
  }
}

async function openDevices() {
  const camera = $("camera").value; const microphone = $("microphone").value;
  const media = await navigator.mediaDevices.getUserMedia({
    video: { ...(camera ? { deviceId: { exact: camera } } : {}), width: 1280, height: 720, frameRate: 30 },
    audio: microphone ? { deviceId: { exact: microphone } } : true,
  });
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = media;
  $("preview").srcObject = stream;
  return stream;
}

function rememberDevices() {
  saved.camera = $("camera").value;
  saved.microphone = $("microphone").value;
  localStorage.setItem(DEVICES_KEY, JSON.stringify(saved));
}

for (const id of ["camera", "microphone"]) {
  $(id).addEventListener("change", async () => {
    rememberDevices();
    await openDevices();
    if (returnFeed.wanted) { await returnFeed.stop(); returnFeed.start(); }
  });
}

const returnFeed = new Link({
  kind: "publish", endpoint: `/whip/${encodeURIComponent(returnChannel)}`, codec,
  stream: () => stream,
  onState: (s, d) => showState($("return-state"), s, d, { idle: "not live", live: "live", connecting: "connecting", retrying: "reconnecting" }),
});
watchHealth(returnFeed, $("health-out"));

$("go-live").addEventListener("click", async () => {
  try {
    if (!stream) await openDevices();
    await listDevices();
    rememberDevices();
    returnFeed.start();
    $("go-live").disabled = true; $("stop-live").disabled = false;
  } catch (error) {
    showState($("return-state"), "error", error.message, {});
  }
});
$("stop-live").addEventListener("click", async () => {
  await returnFeed.stop();
  $("go-live").disabled = false; $("stop-live").disabled = true;
});
navigator.mediaDevices.enumerateDevices().then(() => listDevices()).catch(() => {});

// ---- clock and schedule, in the venue's time zone
let sessions = [];
function tick() {
  const at = now();
  $("clock").textContent = clock(at, zone);
  const { onAir, next } = renderSchedule($("schedule"), sessions, zone, at);
  $("on-air").textContent = onAir.map((s) => s.title).join(" · ") || "nothing";
  $("next-up").textContent = next ? `${timeIn(next.start, zone, true)} ${next.title}` : "nothing";
  fillRelaySessions(onAir, next);
}
loadSchedule(venue).then((data) => { sessions = data.sessions; tick(); }).catch(() => {});
setInterval(tick, 1000);

// ---- the relay form: the on-air session with Q&A is the default choice
function fillRelaySessions(onAir, next) {
  const select = $("relay-session");
  const withQa = sessions.filter((s) => s.qa);
  if (select.options.length !== withQa.length) {
    select.replaceChildren(...withQa.map((s) => new Option(`${timeIn(s.start, zone, true)} ${s.title}`, s.id)));
    select.dataset.chosen = "";
  }
  const current = onAir.find((s) => s.qa) || (next && next.qa ? next : null);
  if (current && !select.dataset.chosen) select.value = current.id;
}
$("relay-session").addEventListener("change", () => { $("relay-session").dataset.chosen = "1"; });

$("relay").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("relay-message");
  try {
    await socket.send({
      type: "ask", room: $("relay-session").value, text: $("relay-text").value,
      name: $("relay-name").value, language: $("relay-language").value, origin: "sub_venue",
    });
    $("relay-text").value = "";
    message.dataset.state = "ok";
    message.textContent = "Relayed: the moderator has it.";
  } catch (error) {
    message.dataset.state = "error";
    message.textContent = error.message || "Not sent.";
  }
});

// ---- what the director's matrix puts on this venue's output (on air = the cut happened)
function showRouting(frame) {
  const row = frame.venues.find((v) => v.venue === venue);
  const el = $("projector-routed");
  if (!row || !el) return;
  const onAir = row.on_air;
  const pending = row.requested && (!onAir || row.requested.channel !== onAir.channel) ? row.requested : null;
  let text = onAir && onAir.channel
    ? `On air here: ${onAir.channel}${onAir.session ? ` (${onAir.session})` : ""}, routed by ${onAir.by}`
    : "Nothing is routed to this venue right now";
  if (pending) text += ` · switching to ${pending.channel || "nothing"}…`;
  el.textContent = text;
}

// ---- control socket: presence, talkback, routing
let talkback = null;
const socket = new Socket({
  present: { venue },
  onStatus: (s) => showState($("ws-status"), s, "", { online: "control: online", offline: "control: reconnecting", connecting: "control: connecting" }),
  onFrame: (frame) => {
    if (talkback) talkback.receive(frame);
    if (frame.type === "routing") showRouting(frame);
  },
  onWelcome: () => {
    projector.nudge();
    returnFeed.nudge();
    // Only the node that runs routing answers; elsewhere the line keeps its first text.
    socket.send({ type: "watch_routing" }).catch(() => {});
  },
});
talkback = new TalkbackPanel($("talkback"), socket, { venue });

window.vbConsole = { projector, returnFeed, socket };
