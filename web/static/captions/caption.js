// @ts-check
// /caption/{session}: a captioner types a line and presses Enter (or pastes several
// lines, one caption each) in the chosen language; the lines of that language, theirs and
// anyone else's, are listed as the server keeps them. A refused send keeps its text in
// the box with the reason; a flood refusal waits for the rate to refill and sends again.
import { ReconnectingSocket, RequestError } from "../lib/socket.js";
import { byId, el, errorMessage, setStatus } from "../lib/dom.js";
import { uiLanguage } from "../lib/captions.js";
import { pickText } from "../lib/local_text.js";

/** @typedef {import("../lib/socket.js").Frame} Frame */
/** @typedef {{ seq: number, text: string, at: number, by: string }} CaptionLine */

const STRINGS = /** @type {Record<string, Record<string, string>>} */ ({
  en: {
    title: "Captions", language: "Language", send: "Send", sent_lines: "Lines sent",
    none: "No lines yet in this language.", ui: "中文", online: "online", offline: "reconnecting…",
    connecting: "connecting…", unauthorized: "not allowed: open your invite link again",
    hint: "Type a line and press Enter. Paste several lines: each becomes a caption line (Shift+Enter for a new line).",
    ready: "lines ready: press Enter", sent: "Sent", waiting: "Too fast: sending again in a moment…",
  },
  zh: {
    title: "字幕", language: "语言", send: "发送", sent_lines: "已发送的字幕",
    none: "该语言还没有字幕。", ui: "English", online: "已连接", offline: "正在重新连接…",
    connecting: "正在连接…", unauthorized: "无权发送：请重新打开邀请链接",
    hint: "输入一行后按回车发送。粘贴多行时每行成为一条字幕（Shift+回车换行）。",
    ready: "行待发送：按回车", sent: "已发送", waiting: "发送过快：稍后自动重发…",
  },
});

const root = byId("captioner");
const session = root.dataset.session || "";
const me = root.dataset.identity || "";
const burst = Number(root.dataset.burst || "20");
const rate = Number(root.dataset.rate || "3");
const picker = byId("caption-language", HTMLSelectElement);
const input = byId("caption-text", HTMLTextAreaElement);
const message = byId("caption-message");
let ui = uiLanguage();
/** @type {CaptionLine[]} */
let lines = [];
let status = "connecting";
let sending = false;

function t(/** @type {string} */ key) { return (STRINGS[ui] || STRINGS.en)[key] || key; }

function translatePage() {
  document.documentElement.lang = ui === "zh" ? "zh-CN" : "en";
  for (const node of root.querySelectorAll("[data-i18n]")) {
    if (node instanceof HTMLElement && node.dataset.i18n) node.textContent = t(node.dataset.i18n);
  }
  // Titles in the UI language where the event file has them (data-titles), else its default.
  for (const node of document.querySelectorAll("[data-titles]")) {
    if (!(node instanceof HTMLElement)) continue;
    node.textContent = pickText(JSON.parse(node.dataset.titles || "null"), node.textContent || "", ui);
  }
  byId("ui-language").textContent = t("ui");
  setStatus(byId("status"), status, t(status));
  countPending();
}

const socket = new ReconnectingSocket({
  onStatus: (s) => { status = s; setStatus(byId("status"), s, t(s)); },
  onWelcome: () => watch(),
  onFrame: receive,
});

function watch() {
  lines = [];
  draw();
  socket.send({ type: "watch_captions", session, language: picker.value }).catch(showError);
}

/** @param {Frame} frame */
function receive(frame) {
  if (frame.session !== session || frame.language !== picker.value) return;
  if (frame.type === "caption_history") lines = /** @type {CaptionLine[]} */ (frame.lines);
  else if (frame.type === "caption" && !lines.some((l) => l.seq === frame.seq)) {
    lines.push(/** @type {CaptionLine} */ (/** @type {unknown} */ (frame)));
  } else return;
  draw();
}

function draw() {
  const format = new Intl.DateTimeFormat(ui === "zh" ? "zh-CN" : "en", { timeStyle: "medium" });
  byId("caption-log").replaceChildren(...lines.slice().reverse().map((l) => el("li",
    { class: l.by === me ? "mine" : "", "data-seq": l.seq },
    el("span", { class: "time" }, format.format(new Date(l.at * 1000))),
    el("span", { class: "text", lang: picker.value }, l.text))));
  byId("caption-none").hidden = lines.length > 0;
}

/** The box's lines that are not blank: what Enter sends. */
function typedLines() {
  return input.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

function countPending() {
  const count = typedLines().length;
  byId("pending").textContent = count > 1 ? `${count} ${t("ready")}` : "";
}

/** @param {unknown} error */
function showError(error) {
  message.dataset.state = "error";
  message.textContent = errorMessage(error);
}

/** @param {number} ms */
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the box's lines in chunks the server takes at once; each chunk leaves the box
 * only when acknowledged, so nothing is lost on a refusal or a lost connection.
 */
async function sendTyped() {
  if (sending) return;
  sending = true;
  message.textContent = "";
  try {
    for (let remaining = typedLines(); remaining.length; remaining = typedLines()) {
      const chunk = remaining.slice(0, burst);
      try {
        await socket.send({ type: "caption", session, language: picker.value, lines: chunk });
      } catch (error) {
        if (!(error instanceof RequestError) || error.code !== "caption_flood") throw error;
        message.dataset.state = "";
        message.textContent = t("waiting");
        await pause(Math.ceil((1000 * chunk.length) / rate));
        continue;
      }
      input.value = remaining.slice(chunk.length).join("\n");
      message.dataset.state = "ok";
      message.textContent = t("sent");
    }
  } catch (error) {
    showError(error);
  } finally {
    sending = false;
    countPending();
  }
}

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendTyped();
  }
});
input.addEventListener("input", countPending);
byId("caption-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  sendTyped();
});
picker.addEventListener("change", () => { message.textContent = ""; watch(); });
byId("ui-language").addEventListener("click", () => {
  ui = ui === "zh" ? "en" : "zh";
  localStorage.setItem("vb.lang", ui);
  translatePage();
  draw();
});
translatePage();
input.focus();
