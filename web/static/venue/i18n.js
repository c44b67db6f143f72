// @ts-check
// UI strings in English and Chinese: a small dictionary, no build step. Elements carry
// data-i18n="key" (textContent) or data-i18n-placeholder="key".
/** @typedef {"en" | "zh"} Language */
/** @type {Record<Language, Record<string, string>>} */
export const STRINGS = {
  en: {
    watch: "Watch", viewers: "watching", status_connecting: "Connecting…", status_live: "Playing",
    status_waiting: "Not live yet; retrying…", status_retrying: "Reconnecting…", status_idle: "Stopped",
    status_lost: "Signal interrupted, reconnecting…", status_error: "Not allowed to watch",
    qa: "Questions", ask_placeholder: "Your question for the speakers", ask: "Ask", name_placeholder: "Name (optional)",
    vote: "▲", answered: "Answered", no_questions: "No questions yet.", schedule: "Schedule",
    your_time: "Your time", event_time: "Event time", on_air: "On air", next: "Next",
    sent: "Sent. The moderator will review it.", no_qa: "This channel has no Q&A right now.",
    language: "中文", pending: "waiting for the moderator", on_stage: "on stage",
  },
  zh: {
    watch: "观看", viewers: "人在看", status_connecting: "正在连接…", status_live: "正在播放",
    status_waiting: "尚未开播，正在重试…", status_retrying: "正在重新连接…", status_idle: "已停止",
    status_lost: "信号中断，正在重连…", status_error: "无权观看",
    qa: "互动提问", ask_placeholder: "向嘉宾提问", ask: "提问", name_placeholder: "姓名（可选）",
    vote: "▲", answered: "已回答", no_questions: "暂无提问。", schedule: "日程",
    your_time: "您的时间", event_time: "大会时间", on_air: "正在直播", next: "即将开始",
    sent: "已提交，等待主持人审核。", no_qa: "本频道目前没有互动提问。",
    language: "English", pending: "等待审核", on_stage: "正在回答",
  },
};

const KEY = "vb.lang";

/**
 * @param {string | null} value
 * @returns {value is Language}
 */
function isLanguage(value) {
  return value === "en" || value === "zh";
}

/**
 * The page's language: ?lang=, else the last choice, else the browser's.
 * @returns {Language}
 */
export function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (isLanguage(asked)) return asked;
  const stored = localStorage.getItem(KEY);
  if (isLanguage(stored)) return stored;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

/**
 * Puts the page's marked text into `lang`, remembers the choice, and returns the lookup
 * for text the page builds itself.
 * @param {Language} lang
 * @returns {(key: string) => string}
 */
export function translate(lang) {
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
  localStorage.setItem(KEY, lang);
  return (key) => strings[key] ?? key;
}
