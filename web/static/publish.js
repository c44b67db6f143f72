// @ts-check
// The producer's publish page: camera + microphone to /whip/{channel} (or as the channel's
// backup), kept connected by a Link that retries with capped backoff after a failed or
// dropped session and after a server restart; the chosen devices survive both and a
// reload. Signed in by the invite cookie; a pasted stream key is the fallback. The red
// tally says which venue outputs carry the channel, from the routing matrix.
import { Link } from "./venue/link.js";
import { ReconnectingSocket } from "./lib/socket.js";
import { DevicePicker } from "./lib/devices.js";
import { byId, errorMessage, setStatus } from "./lib/dom.js";
import { channelHealth, venuesCarrying } from "./lib/onair.js";
import { venueName } from "./lib/names.js";

/** @typedef {import("./lib/frames.js").RoutingFrame} RoutingFrame */

const page = byId("publish-page");
const channel = page.dataset.channel || "";
const form = byId("publish", HTMLFormElement);
const status = byId("status");
const tally = byId("tally");
const preview = byId("preview", HTMLVideoElement);
const startButton = byId("start", HTMLButtonElement);
const stopButton = byId("stop", HTMLButtonElement);
const tokenField = byId("token", HTMLInputElement);
const backupBox = byId("backup", HTMLInputElement);
const BACKUP_KEY = `vb.publish.${channel}.backup`;
const devices = new DevicePicker(byId("camera", HTMLSelectElement), byId("microphone", HTMLSelectElement),
  "vb.publish.devices");
/** @type {RoutingFrame | null} */
let matrix = null;
let lastDetail = "";
let controlOnline = false;

const link = new Link({
  kind: "publish", endpoint: endpoint(), codec: page.dataset.codec || "",
  stream: () => devices.stream,
  onState: (_state, detail) => { lastDetail = detail; window.vbPc = link.pc; render(); },
});

/** /whip/{channel}, or its backup input. */
function endpoint() {
  return `/whip/${encodeURIComponent(channel)}${backupBox.checked ? "?backup=1" : ""}`;
}

// The state in words; data-state colours it (stopped, connecting, live, reconnecting, error).
function render() {
  const role = backupBox.checked ? " as the backup" : "";
  const why = lastDetail.replace(/ · retry in .*$/, "");
  switch (link.state) {
    case "idle":
      setStatus(status, "stopped", "Stopped.");
      break;
    case "connecting":
      // A new attempt after a failure is still a reconnect, not a first start.
      if (link.reconnects > 0) setStatus(status, "reconnecting", `Reconnecting${role}: trying now…`);
      else setStatus(status, "connecting", `Connecting${role}…`);
      break;
    case "live":
      setStatus(status, "live", `Live${role}: the server receives your camera and microphone.`);
      break;
    case "error":
      setStatus(status, "error", `Not allowed (${why}): open your invite link again or paste a stream key.`
        + ` Trying again in ${link.retryIn()} s.`);
      break;
    default:
      setStatus(status, "reconnecting", `Reconnecting in ${link.retryIn()} s…${why ? ` (${why})` : ""}`);
  }
  renderTally();
}

// "ON AIR at Japan, Europe" while a venue output carries this channel.
function renderTally() {
  const venues = venuesCarrying(matrix, channel);
  const health = channelHealth(matrix, channel);
  tally.hidden = venues.length === 0;
  if (!venues.length) return;
  const where = venues.map((v) => venueName(v)).join(", ");
  const standby = backupBox.checked && health !== null && health.source !== "backup";
  const text = standby ? `STANDBY: the primary is on air at ${where}` : `ON AIR at ${where}`;
  // Without the server the matrix may be out of date: say so rather than claim it.
  tally.dataset.state = !controlOnline ? "stale" : standby ? "standby" : "on-air";
  tally.textContent = controlOnline ? text : `Last known: ${text} (the server is unreachable)`;
}

async function start() {
  link.token = tokenField.value.trim();
  link.endpoint = endpoint();
  if (!devices.stream) preview.srcObject = await devices.open();
  await devices.list();
  devices.remember();
  link.start();
  startButton.disabled = true;
  stopButton.disabled = false;
  backupBox.disabled = true;
}

async function stop() {
  await link.stop();
  devices.close();
  preview.srcObject = null;
  startButton.disabled = false;
  stopButton.disabled = true;
  backupBox.disabled = false;
  render();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start().catch((error) => setStatus(status, "error", `Could not start: ${errorMessage(error)}`));
});
stopButton.addEventListener("click", () => { stop(); });
backupBox.addEventListener("change", () => {
  localStorage.setItem(BACKUP_KEY, backupBox.checked ? "1" : "");
  render();
});
for (const select of [devices.camera, devices.microphone]) {
  select.addEventListener("change", async () => {
    devices.remember();
    if (!devices.stream) return;
    try {
      preview.srcObject = await devices.open();
      // A new session on the new devices; the Link's state says how it goes.
      if (link.wanted) { await link.stop(); link.start(); }
    } catch (error) {
      setStatus(status, "error", `Could not open the device: ${errorMessage(error)}`);
    }
  });
}
// The countdown of "reconnecting in N s".
setInterval(() => { if (link.state === "retrying" || link.state === "waiting" || link.state === "error") render(); }, 500);

// The matrix for the tally; a welcome after an outage also means the server is back.
const socket = new ReconnectingSocket({
  resume: () => [{ type: "watch_routing" }],
  onStatus: (state) => { controlOnline = state === "online"; renderTally(); },
  onFrame: (frame) => {
    if (frame.type === "routing") { matrix = /** @type {RoutingFrame} */ (frame); renderTally(); }
  },
  onWelcome: () => link.nudge(),
  // The invite cookie was revoked (or expired): stop publishing on it now. The server
  // refuses the next WHIP request anyway; a pasted stream key is another credential.
  onUnauthorized: (error) => {
    if (link.token || !link.wanted) return;
    stop().then(() => setStatus(status, "error",
      `Publishing stopped: ${error.message}. Ask the organisers for a new invite link.`));
  },
});

// ?token=... fills the key; ?backup=1 publishes as the backup; ?autostart=1 starts at once
// (kiosk and tests).
const params = new URLSearchParams(location.search);
tokenField.value = params.get("token") || tokenField.value;
backupBox.checked = params.has("backup") ? params.get("backup") === "1" : localStorage.getItem(BACKUP_KEY) === "1";
devices.list().catch(() => {});
render();
if (params.get("autostart") === "1") form.requestSubmit();
window.vbPublish = { link, socket };
