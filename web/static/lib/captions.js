// @ts-check
// Live captions on a viewer page (/watch, /stage, the venue console's projector): a
// language picker and the last lines of one session, over the page's own socket. The
// page hands its frames to `receive` and gives `send`; after every welcome (a reconnect)
// the view asks for its captions again and gets the lines it missed as history.
import { el } from "./dom.js";

/** @typedef {import("./socket.js").Frame} Frame */
/** @typedef {{ seq: number, text: string, at: number, by: string }} CaptionLine */

/** What the picker calls each language; others show their code. */
export const LANGUAGE_NAMES = /** @type {Record<string, string>} */ ({
  zh: "中文", en: "English", ja: "日本語", ko: "한국어", ru: "Русский",
});
const LABELS = /** @type {Record<string, Record<string, string>>} */ ({
  en: { captions: "Captions", off: "Off", waiting: "Captions will appear here." },
  zh: { captions: "字幕", off: "关闭", waiting: "字幕将显示在这里。" },
});
const CHOICE_KEY = "vb.captions";

/**
 * The page's UI language as the other pages choose it: ?lang=, the last choice, the browser's.
 * @returns {"en" | "zh"}
 */
export function uiLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") return asked;
  const stored = localStorage.getItem("vb.lang");
  if (stored === "en" || stored === "zh") return stored;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

/**
 * The caption language a viewer starts with: the UI language when the session has
 * captions in it, else the floor's language (the session's first).
 * @param {string[]} languages the session's languages, floor first
 * @param {string} ui
 * @returns {string}
 */
export function defaultCaptionLanguage(languages, ui) {
  return languages.includes(ui) ? ui : (languages[0] || "");
}

/**
 * @typedef {object} CaptionViewOptions
 * @property {(message: Record<string, unknown>) => Promise<Frame>} send the page socket's send
 * @property {string} [ui] the UI language ("en" or "zh"), for labels and the default
 * @property {number} [keep] lines shown at once
 * @property {boolean} [on] shown from the start (the console's toggle starts off)
 * @property {HTMLElement} [pickerHost] where the language picker goes (default: in `root`)
 */

export class CaptionView {
  /**
   * @param {HTMLElement} root where the picker and the lines go
   * @param {CaptionViewOptions} options
   */
  constructor(root, { send, ui = uiLanguage(), keep = 3, on = true, pickerHost }) {
    this.root = root;
    this.sendMessage = send;
    this.ui = ui;
    this.keep = keep;
    this.on = on;
    this.session = "";
    /** @type {string[]} */
    this.languages = [];
    this.language = "";
    /** @type {CaptionLine[]} */
    this.lines = [];
    const labels = LABELS[ui] || LABELS.en;
    this.picker = el("select", { class: "caption-language", "aria-label": labels.captions });
    this.picker.addEventListener("change", () => {
      this.language = this.picker.value;
      localStorage.setItem(CHOICE_KEY, this.language);
      this.lines = [];
      this.draw();
      this.watch();
    });
    this.box = el("div", { class: "caption-lines", "aria-live": "polite", lang: "" });
    const pick = el("label", { class: "caption-pick" }, `${labels.captions} `, this.picker);
    if (pickerHost) pickerHost.append(pick);
    root.replaceChildren(...(pickerHost ? [] : [pick]), this.box);
    root.hidden = !on;
    this.setSession(root.dataset.session || "", (root.dataset.languages || "").split(" ").filter(Boolean));
  }

  /**
   * Shows the captions of another session (the console follows what is on air).
   * @param {string} session "" for none
   * @param {string[]} languages its languages, floor first
   */
  setSession(session, languages) {
    if (session === this.session && languages.join(" ") === this.languages.join(" ")) return;
    this.session = session;
    this.languages = languages;
    const remembered = localStorage.getItem(CHOICE_KEY) || "";
    this.language = languages.includes(remembered) ? remembered : defaultCaptionLanguage(languages, this.ui);
    this.picker.replaceChildren(...languages.map((lang) =>
      el("option", { value: lang, selected: lang === this.language }, LANGUAGE_NAMES[lang] || lang)));
    this.lines = [];
    this.draw();
    this.watch();
  }

  /** @param {boolean} on shown and receiving, or hidden and unsubscribed */
  setOn(on) {
    this.on = on;
    this.root.hidden = !on;
    this.lines = [];
    this.draw();
    this.watch();
  }

  /** Asks the server for the chosen captions (or for none). */
  watch() {
    const language = this.on && this.session && this.language ? this.language : null;
    this.sendMessage({ type: "watch_captions", session: this.session || "none", language })
      .catch(() => {}); // offline: the next welcome asks again
  }

  /** @param {Frame} frame every frame of the page's socket */
  receive(frame) {
    if (frame.type === "welcome") { this.watch(); return; }
    if (frame.session !== this.session || frame.language !== this.language) return;
    if (frame.type === "caption_history") {
      this.lines = /** @type {CaptionLine[]} */ (frame.lines);
    } else if (frame.type === "caption") {
      const line = /** @type {CaptionLine} */ (/** @type {unknown} */ (frame));
      if (this.lines.some((l) => l.seq === line.seq)) return;
      this.lines.push(line);
    } else {
      return;
    }
    this.lines = this.lines.slice(-this.keep);
    this.draw();
  }

  draw() {
    this.box.lang = this.language;
    const labels = LABELS[this.ui] || LABELS.en;
    this.box.replaceChildren(...(this.lines.length
      ? this.lines.map((l) => el("p", { class: "caption-line", "data-seq": l.seq }, l.text))
      : [el("p", { class: "caption-waiting" }, labels.waiting)]));
  }
}
