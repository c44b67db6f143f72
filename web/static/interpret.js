// @ts-check
// The interpreter's booth page: hears the floor over WHEP (audio only, no jitter buffer
// it can avoid), publishes the chosen microphone as the channel's language track over
// WHIP ?lang=, shows who is in the booth and who is on air (polled every second), and
// takes over with one click. Both links reconnect by themselves like the publish page.
// Signed in by the invite cookie; a token in the URL fragment (#token=...) or pasted in
// the field is the fallback (its language is read from it, the server checks it).
import { Link } from "./venue/link.js";
import { byId, el, errorMessage, setStatus } from "./lib/dom.js";
import { chosenLanguage } from "./venue/i18n.js";
import { pickText } from "./lib/local_text.js";
import { translateMarked, words } from "./interpret_words.js";

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
const UI_KEY = "vb.interpret.ui";
// ?lang= first, then this page's own button, then the pages' shared choice (i18n.js).
const askedUi = new URLSearchParams(location.search).get("lang");
/** @type {"en" | "zh"} */
let ui = askedUi === "zh" || askedUi === "en" ? askedUi
  : (localStorage.getItem(UI_KEY) || chosenLanguage()) === "zh" ? "zh" : "en";
let t = words(ui);

/** Who the page speaks for: the invite cookie's grant, else the pasted token's claims. */
let me = { name: page.dataset.name || "", language: page.dataset.language || "" };
/** @type {MediaStream | null} */
let stream = null;
/** @type {Booth | null} */
let booth = null;
let boothError = "";
// On air when the voice link last went down: the server (restarted, or ending the old
// session) puts whoever is connected on air meanwhile, so the page takes the air back
// once its new session is in the booth, unless it was away longer than RECLAIM_MS.
let onAirAtLastLook = false;
/** @type {number | null} when the link dropped while on air */
let reclaimSince = null;
const RECLAIM_MS = 60_000;
// Polls in a row in which the booth did not list this page's live session although the
// answer came from where the floor plays. With several workers the booth sits beside the floor's publisher; a
// session left on another worker (the floor came back elsewhere after a restart) is heard
// by nobody there, so the page publishes again and lands beside the floor.
let unlistedPolls = 0;
// The booth's answer came from where the floor plays (not a worker with no floor).
let floorHere = false;
const UNLISTED_REPUBLISH = 4;

const floor = new Link({
  kind: "play", endpoint: `/whep/${encodeURIComponent(channel)}`, video: floorAudio,
  audioOnly: true, lowLatency: true,
  onState: (state, detail) => renderLink(floorStatus, state, detail, "floor_live"),
});
const voice = new Link({
  kind: "publish", endpoint: "", stream: () => stream,
  onState: (state, detail) => {
    if (state !== "live" && onAirAtLastLook && voice.wanted && reclaimSince === null) {
      reclaimSince = Date.now();
    }
    renderLink(voiceStatus, state, detail, "voice_live");
    render();
  },
});

/**
 * A link's state in words (data-state colours it).
 * @param {HTMLElement} target
 * @param {import("./venue/link.js").LinkState} state
 * @param {string} detail
 * @param {string} liveKey
 */
function renderLink(target, state, detail, liveKey) {
  const why = detail.replace(/ · retry in .*$/, "");
  if (state === "idle") setStatus(target, "stopped", t("stopped"));
  else if (state === "connecting") setStatus(target, "connecting", t("connecting"));
  else if (state === "live") setStatus(target, "live", t(liveKey));
  else if (state === "error") setStatus(target, "error", t("not_allowed", { why }));
  else if (state === "waiting") setStatus(target, "waiting", t("floor_waiting"));
  else setStatus(target, "reconnecting", `${t("reconnecting")}${why ? ` (${why})` : ""}`);
}

// Words and titles in the page's language; the button switches it (and remembers).
function translatePage() {
  t = words(ui);
  document.documentElement.lang = ui === "zh" ? "zh-CN" : "en";
  translateMarked(document, ui);
  for (const node of document.querySelectorAll("[data-titles]")) {
    if (!(node instanceof HTMLElement)) continue;
    node.textContent = pickText(JSON.parse(node.dataset.titles || "null"), node.textContent || "", ui);
  }
  byId("ui-language").textContent = t("ui");
  who.textContent = me.name ? t("who", { name: me.name, lang: me.language || "?" }) : t("sign_in_hint");
  renderLink(floorStatus, floor.state, "", "floor_live");
  renderLink(voiceStatus, voice.state, "", "voice_live");
  render();
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
  if (me.name) who.textContent = t("who", { name: me.name, lang: me.language || "?" });
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
  if (!me.language) throw new Error(t("no_language"));
  await openMicrophone();
  await listMicrophones();
  localStorage.setItem(MIC_KEY, microphone.value);
  floor.start();
  voice.start();
  startButton.disabled = true;
  stopButton.disabled = false;
}

async function stop() {
  reclaimSince = null;
  onAirAtLastLook = false;
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
    el("span", { class: name === me.name ? "me" : "" }, name === me.name ? t("you", { name }) : name),
    mine && mine.on_air === name ? el("span", { class: "badge" }, t("badge")) : null)));
  if (boothError) {
    setStatus(onAirLine, "off", boothError);
  } else if (!mine || !mine.on_air) {
    setStatus(onAirLine, "off", t("nobody"));
  } else if (mine.on_air === me.name) {
    setStatus(onAirLine, "me", t("me_on_air"));
  } else {
    setStatus(onAirLine, "other", t("other_on_air", { name: mine.on_air }));
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
        ? t("sign_in") : t("unavailable", { status: String(response.status) });
      booth = null;
    } else {
      /** @type {{ languages: Booth[], floor_live?: boolean }} */
      const body = await response.json();
      boothError = "";
      floorHere = body.floor_live === true;
      booth = body.languages.find((b) => b.language === me.language) || null;
      await reclaim();
      await rejoinIfUnlisted();
    }
  } catch {
    boothError = t("unreachable");
  }
  render();
}

// Back after a drop that happened on air: on air again (one take-over, as a click would).
async function reclaim() {
  const mine = booth;
  const back = voice.state === "live" && !!mine && mine.connected.includes(me.name);
  if (reclaimSince !== null && back) {
    const recent = Date.now() - reclaimSince <= RECLAIM_MS;
    reclaimSince = null;
    if (recent && mine && mine.on_air !== me.name) {
      await takeOver();
      return;
    }
  }
  // Only while the booth lists this page's session: a session the server already
  // ended (its page has not noticed yet) must not read as a hand-over to someone else.
  if (back && mine) onAirAtLastLook = mine.on_air === me.name;
}

async function rejoinIfUnlisted() {
  const listed = !!booth && booth.connected.includes(me.name);
  const stray = voice.state === "live" && floorHere && !listed;
  unlistedPolls = stray ? unlistedPolls + 1 : 0;
  if (unlistedPolls < UNLISTED_REPUBLISH) return;
  unlistedPolls = 0;
  if (onAirAtLastLook && reclaimSince === null) reclaimSince = Date.now();
  await voice.stop();
  voice.start();
}

async function takeOver() {
  takeButton.disabled = true;
  const response = await fetch(
    `/api/interpret/${encodeURIComponent(channel)}/${encodeURIComponent(me.language)}/take`,
    { method: "POST", headers: authHeaders(), credentials: "same-origin" });
  if (!response.ok) boothError = t("take_failed", { why: (await response.text()).trim() });
  await poll();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start().catch((error) => setStatus(voiceStatus, "error", t("could_not_start", { why: errorMessage(error) })));
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
    setStatus(voiceStatus, "error", t("mic_failed", { why: errorMessage(error) }));
  }
});

// #token=... (kept out of server logs) or ?token=... fills the field; ?autostart=1 starts
// at once (kiosk and tests).
const fragment = new URLSearchParams(location.hash.slice(1));
const params = new URLSearchParams(location.search);
tokenField.value = fragment.get("token") || params.get("token") || tokenField.value;
if (tokenField.value) tokenField.closest("details")?.removeAttribute("open");
useToken();
byId("ui-language").addEventListener("click", () => {
  ui = ui === "zh" ? "en" : "zh";
  localStorage.setItem(UI_KEY, ui);
  translatePage();
});
translatePage();
listMicrophones().catch(() => {});
setInterval(() => { poll(); }, POLL_MS);
poll();
if (params.get("autostart") === "1") form.requestSubmit();
window.vbInterpret = { floor, voice };
