// @ts-check
// The interpreter's booth page: hears the floor over WHEP (audio only, no jitter buffer
// it can avoid), publishes the chosen microphone as the channel's language track over
// WHIP ?lang=, shows who is in the booth and who is on air (polled every second), and
// takes over with one click. Both links reconnect by themselves like the publish page.
// Signed in by the invite cookie; a token in the URL fragment (#token=...) or pasted in
// the field is the fallback (its language is read from it, the server checks it).
import { Link } from "./venue/link.js";
import { byId, el, errorMessage, setStatus } from "./lib/dom.js";

/** @typedef {{ language: string, connected: string[], on_air: string | null }} Booth */

const page = byId("interpret-page");
const channel = page.dataset.channel || "";
const form = byId("interpret", HTMLFormElement);
const microphone = byId("microphone", HTMLSelectElement);
const startButton = byId("start", HTMLButtonElement);
const stopButton = byId("stop", HTMLButtonElement);
const takeButton = byId("take", HTMLButtonElement);
const tokenField = byId("token", HTMLInputElement);
const floorAudio = byId("floor", HTMLAudioElement);
const floorStatus = byId("floor-status");
const voiceStatus = byId("status");
const onAirLine = byId("on-air");
const boothList = byId("booth");
const boothLanguage = byId("booth-language");
const who = byId("who");
const MIC_KEY = "vb.interpret.microphone";
const POLL_MS = 1000;

/** Who the page speaks for: the invite cookie's grant, else the pasted token's claims. */
let me = { name: page.dataset.name || "", language: page.dataset.language || "" };
/** @type {MediaStream | null} */
let stream = null;
/** @type {Booth | null} */
let booth = null;
let boothError = "";

const floor = new Link({
  kind: "play", endpoint: `/whep/${encodeURIComponent(channel)}`, video: floorAudio,
  audioOnly: true, lowLatency: true,
  onState: (state, detail) => renderLink(floorStatus, state, detail, "Hearing the floor."),
});
const voice = new Link({
  kind: "publish", endpoint: "", stream: () => stream,
  onState: (state, detail) => { renderLink(voiceStatus, state, detail, "Live: the booth receives your voice."); render(); },
});

/**
 * A link's state in words (data-state colours it).
 * @param {HTMLElement} target
 * @param {import("./venue/link.js").LinkState} state
 * @param {string} detail
 * @param {string} liveText
 */
function renderLink(target, state, detail, liveText) {
  const why = detail.replace(/ · retry in .*$/, "");
  if (state === "idle") setStatus(target, "stopped", "Stopped.");
  else if (state === "connecting") setStatus(target, "connecting", "Connecting…");
  else if (state === "live") setStatus(target, "live", liveText);
  else if (state === "error") setStatus(target, "error", `Not allowed (${why}). Check your token.`);
  else if (state === "waiting") setStatus(target, "waiting", "The floor is not live yet; waiting…");
  else setStatus(target, "reconnecting", `Reconnecting…${why ? ` (${why})` : ""}`);
}

/**
 * The claims of a JWT (read, not checked: the server checks it on every request).
 * @param {string} token
 * @returns {{ sub?: string, lang?: string }}
 */
function claimsOf(token) {
  try {
    const part = token.split(".")[1] || "";
    const bytes = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    // The payload is UTF-8 (a name may be 佐藤): bytes first, then text.
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bytes, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

function token() {
  return tokenField.value.trim();
}

/** @returns {Record<string, string>} */
function authHeaders() {
  return token() ? { Authorization: `Bearer ${token()}` } : {};
}

function useToken() {
  if (token()) {
    const claims = claimsOf(token());
    me = { name: claims.sub || me.name, language: claims.lang || me.language };
  }
  boothLanguage.textContent = me.language;
  if (me.name) who.textContent = `${me.name}, interpreting into ${me.language || "?"}.`;
  for (const link of [floor, voice]) link.token = token();
  voice.endpoint = `/whip/${encodeURIComponent(channel)}?lang=${encodeURIComponent(me.language)}`;
}

async function listMicrophones() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = microphone.value || localStorage.getItem(MIC_KEY) || "";
  microphone.replaceChildren();
  devices.filter((d) => d.kind === "audioinput").forEach((d, i) => {
    microphone.append(new Option(d.label || `microphone ${i + 1}`, d.deviceId));
  });
  if ([...microphone.options].some((o) => o.value === current)) microphone.value = current;
}

async function openMicrophone() {
  const chosen = microphone.value;
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { ...(chosen ? { deviceId: { exact: chosen } } : {}), echoCancellation: true, noiseSuppression: true },
    video: false,
  });
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = media;
}

async function start() {
  useToken();
  if (!me.language) throw new Error("no language: open your invite link or paste your interpreter token");
  await openMicrophone();
  await listMicrophones();
  localStorage.setItem(MIC_KEY, microphone.value);
  floor.start();
  voice.start();
  startButton.disabled = true;
  stopButton.disabled = false;
}

async function stop() {
  await Promise.all([floor.stop(), voice.stop()]);
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  startButton.disabled = false;
  stopButton.disabled = true;
  render();
}

// Who is in this language's booth, who is on air, and whether "Take over" makes sense.
function render() {
  const mine = booth;
  boothList.replaceChildren(...(mine ? mine.connected : []).map((name) => el("li", {},
    el("span", { class: name === me.name ? "me" : "" }, name === me.name ? `${name} (you)` : name),
    mine && mine.on_air === name ? el("span", { class: "badge" }, "ON AIR") : null)));
  if (boothError) {
    setStatus(onAirLine, "off", boothError);
  } else if (!mine || !mine.on_air) {
    setStatus(onAirLine, "off", "Nobody is on air: listeners hear the floor.");
  } else if (mine.on_air === me.name) {
    setStatus(onAirLine, "me", "You are ON AIR");
  } else {
    setStatus(onAirLine, "other", `${mine.on_air} is on air`);
  }
  const connected = !!mine && mine.connected.includes(me.name);
  takeButton.disabled = !(voice.state === "live" && connected && mine && mine.on_air !== me.name);
}

async function poll() {
  try {
    const response = await fetch(`/api/interpret/${encodeURIComponent(channel)}`, {
      headers: authHeaders(), credentials: "same-origin", cache: "no-store",
    });
    if (!response.ok) {
      boothError = response.status === 401 || response.status === 403
        ? "Sign in (invite link or token) to see the booth." : `The booth is unavailable (${response.status}).`;
      booth = null;
    } else {
      /** @type {{ languages: Booth[] }} */
      const body = await response.json();
      boothError = "";
      booth = body.languages.find((b) => b.language === me.language) || null;
    }
  } catch {
    boothError = "The server is unreachable; retrying.";
  }
  render();
}

async function takeOver() {
  takeButton.disabled = true;
  const response = await fetch(
    `/api/interpret/${encodeURIComponent(channel)}/${encodeURIComponent(me.language)}/take`,
    { method: "POST", headers: authHeaders(), credentials: "same-origin" });
  if (!response.ok) boothError = `Could not take over: ${(await response.text()).trim()}`;
  await poll();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start().catch((error) => setStatus(voiceStatus, "error", `Could not start: ${errorMessage(error)}`));
});
stopButton.addEventListener("click", () => { stop(); });
takeButton.addEventListener("click", () => {
  takeOver().catch((error) => { boothError = errorMessage(error); render(); });
});
tokenField.addEventListener("change", useToken);
byId("floor-volume", HTMLInputElement).addEventListener("input", (event) => {
  floorAudio.volume = Number(/** @type {HTMLInputElement} */ (event.target).value);
});
microphone.addEventListener("change", async () => {
  localStorage.setItem(MIC_KEY, microphone.value);
  if (!voice.wanted) return;
  try {
    await openMicrophone();
    await voice.stop();
    voice.start();
  } catch (error) {
    setStatus(voiceStatus, "error", `Could not open the microphone: ${errorMessage(error)}`);
  }
});

// #token=... (kept out of server logs) or ?token=... fills the field; ?autostart=1 starts
// at once (kiosk and tests).
const fragment = new URLSearchParams(location.hash.slice(1));
const params = new URLSearchParams(location.search);
tokenField.value = fragment.get("token") || params.get("token") || tokenField.value;
if (tokenField.value) tokenField.closest("details")?.removeAttribute("open");
useToken();
listMicrophones().catch(() => {});
setInterval(() => { poll(); }, POLL_MS);
poll();
if (params.get("autostart") === "1") form.requestSubmit();
window.vbInterpret = { floor, voice };
