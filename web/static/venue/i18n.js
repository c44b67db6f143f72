// @ts-check
// UI strings in English and Chinese: a small dictionary, no build step. Elements carry
// data-i18n="key" (textContent) or data-i18n-placeholder="key"; titles from the event
// carry data-titles='{"en": ..., "zh": ...}' and show the page language's (lib/local_text.js).
import { firstSupported, pickText } from "../lib/local_text.js";

/** @typedef {"en" | "zh"} Language */
/** @type {Record<Language, Record<string, string>>} */
export const STRINGS = {
  en: {
    watch: "Watch", viewers: "watching", status_connecting: "Connecting…", status_live: "Playing",
    status_waiting: "Not live yet; retrying…", status_retrying: "Reconnecting…", status_idle: "Stopped",
    status_lost: "Signal interrupted, reconnecting…", status_error: "Not allowed to watch",
    playback_webrtc: "WebRTC (real time)", playback_hls_full: "HLS: the WebRTC server is full",
    playback_hls_failed: "HLS: WebRTC could not connect", playback_hls_asked: "HLS",
    qa: "Questions", ask_placeholder: "Your question for the speakers", ask: "Ask", name_placeholder: "Name (optional)",
    vote: "▲", answered: "Answered", no_questions: "No questions yet.", schedule: "Schedule",
    your_time: "Your time", event_time: "Event time", on_air: "On air", next: "Next",
    sent: "Sent. The moderator will review it.", no_qa: "This channel has no Q&A right now.",
    language: "中文", audio: "Audio", pending: "waiting for the moderator", on_stage: "on stage",
    // /qa (static/qa/ask.js)
    ask_the_speakers: "Ask the speakers", your_question: "Your question", my_questions: "My questions",
    origin_remote: "Watching online", origin_in_room: "In the hall", origin_sub_venue: "Relayed from my sub-venue",
    sort_top: "Top", sort_newest: "Newest", anonymous: "Anonymous", via: "via", a_sub_venue: "a sub-venue",
    thanks_open: "Thanks! Your question is in the list.", thanks_moderated: "Thanks! A moderator will look at your question.",
    not_taken: "Your question was not taken:", approved: "approved", answered_state: "answered", dismissed: "dismissed", merged: "merged",
    vote_for: "Vote", withdraw_vote: "Withdraw vote",
    socket_connecting: "connecting…", socket_online: "online", socket_offline: "offline", socket_unauthorized: "not allowed",
  },
  zh: {
    watch: "观看", viewers: "人在看", status_connecting: "正在连接…", status_live: "正在播放",
    status_waiting: "尚未开播，正在重试…", status_retrying: "正在重新连接…", status_idle: "已停止",
    status_lost: "信号中断，正在重连…", status_error: "无权观看",
    playback_webrtc: "WebRTC（实时）", playback_hls_full: "HLS：WebRTC 服务器已满",
    playback_hls_failed: "HLS：WebRTC 无法连接", playback_hls_asked: "HLS",
    qa: "互动提问", ask_placeholder: "向嘉宾提问", ask: "提问", name_placeholder: "姓名（可选）",
    vote: "▲", answered: "已回答", no_questions: "暂无提问。", schedule: "日程",
    your_time: "您的时间", event_time: "大会时间", on_air: "正在直播", next: "即将开始",
    sent: "已提交，等待主持人审核。", no_qa: "本频道目前没有互动提问。",
    language: "English", audio: "音频", pending: "等待审核", on_stage: "正在回答",
    ask_the_speakers: "向嘉宾提问", your_question: "您的问题", my_questions: "我的提问",
    origin_remote: "在线观看", origin_in_room: "在会场", origin_sub_venue: "由我的分会场转达",
    sort_top: "最热", sort_newest: "最新", anonymous: "匿名", via: "来自", a_sub_venue: "分会场",
    thanks_open: "谢谢！您的问题已在列表中。", thanks_moderated: "谢谢！主持人将审核您的问题。",
    not_taken: "您的问题未被采纳：", approved: "已通过", answered_state: "已回答", dismissed: "未采纳", merged: "已合并",
    vote_for: "投票", withdraw_vote: "撤回投票",
    socket_connecting: "正在连接…", socket_online: "在线", socket_offline: "离线", socket_unauthorized: "无权访问",
  },
};

const KEY = "vb.lang";
// The same choice for the server-drawn pages (web/page_language.py reads it).
const COOKIE = "vb_lang";
const LANGUAGES = /** @type {const} */ (["en", "zh"]);

/**
 * @param {string | null} value
 * @returns {value is Language}
 */
function isLanguage(value) {
  return value === "en" || value === "zh";
}

/**
 * The page's language: ?lang=, else the last choice, else the first of the browser's
 * languages (navigator.languages, best first) that the pages speak, else English.
 * @returns {Language}
 */
export function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (isLanguage(asked)) return asked;
  const stored = localStorage.getItem(KEY);
  if (isLanguage(stored)) return stored;
  const preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  return firstSupported(preferred, LANGUAGES) || "en";
}

/** Keeps `?lang=` as the reader's choice on a page that draws no words of its own (`/`). */
export function rememberAskedLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (isLanguage(asked)) remember(asked);
}

/** @param {Language} lang */
function remember(lang) {
  localStorage.setItem(KEY, lang);
  document.cookie = `${COOKIE}=${lang}; path=/; max-age=31536000; SameSite=Lax`;
}

/**
 * Puts the page's marked text into `lang` and returns the lookup for text the page builds
 * itself. `keep`: keep it as the reader's choice (the language button, or ?lang= in
 * the address) for this page and the next ones; a language only taken from the browser
 * is not kept, so it follows the browser's settings when they change.
 * @param {Language} lang
 * @param {boolean} [keep]
 * @returns {(key: string) => string}
 */
export function translate(lang, keep = isLanguage(new URLSearchParams(location.search).get("lang"))) {
  const strings = STRINGS[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) {
    if (node instanceof HTMLElement) node.textContent = strings[node.dataset.i18n || ""] ?? node.textContent;
  }
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement) {
      node.placeholder = strings[node.dataset.i18nPlaceholder || ""] ?? node.placeholder;
    }
  }
  // Titles the server drew: data-titles carries every language the event has.
  for (const node of document.querySelectorAll("[data-titles]")) {
    if (!(node instanceof HTMLElement)) continue;
    /** @type {Record<string, string>} */
    const titles = JSON.parse(node.dataset.titles || "{}");
    node.textContent = pickText(titles, node.textContent || "", lang);
  }
  if (keep) remember(lang);
  return (key) => strings[key] ?? key;
}
