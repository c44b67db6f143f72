// @ts-check
// The words of the interpreter's page (/interpret/{channel}) in English and Chinese.
// Elements carry data-i18n="key"; the script builds the rest with `words(lang)`, whose
// lookup fills {name}-style slots.

/** @type {Record<"en" | "zh", Record<string, string>>} */
const STRINGS = {
  en: {
    interpret: "Interpret", floor: "Floor", floor_volume: "Floor volume", your_voice: "Your voice",
    microphone: "Microphone", start: "Start: listen and publish", stop: "Stop", booth: "Booth",
    take: "Take over", token_summary: "Interpreter token (only without an invite link)", token: "Token",
    ui: "中文", stopped: "Stopped.", connecting: "Connecting…", floor_live: "Hearing the floor.",
    voice_live: "Live: the booth receives your voice.", not_allowed: "Not allowed ({why}). Check your token.",
    floor_waiting: "The floor is not live yet; waiting…", reconnecting: "Reconnecting…",
    nobody: "Nobody is on air: listeners hear the floor.", me_on_air: "You are ON AIR",
    other_on_air: "{name} is on air", you: "{name} (you)", badge: "ON AIR",
    sign_in: "Sign in (invite link or token) to see the booth.", unavailable: "The booth is unavailable ({status}).",
    unreachable: "The server is unreachable; retrying.", take_failed: "Could not take over: {why}",
    who: "{name}, interpreting into {lang}.", sign_in_hint: "Open your interpreter invite link, or paste your token below.",
    no_language: "no language: open your invite link or paste your interpreter token",
    could_not_start: "Could not start: {why}", mic_failed: "Could not open the microphone: {why}",
  },
  zh: {
    interpret: "同声传译", floor: "原声", floor_volume: "原声音量", your_voice: "您的声音",
    microphone: "麦克风", start: "开始：收听并发布", stop: "停止", booth: "译员间",
    take: "接过话筒", token_summary: "译员令牌（仅在没有邀请链接时使用）", token: "令牌",
    ui: "English", stopped: "已停止。", connecting: "正在连接…", floor_live: "正在收听原声。",
    voice_live: "已上线：译员间正在接收您的声音。", not_allowed: "无权操作（{why}）。请检查令牌。",
    floor_waiting: "原声尚未开始，正在等待…", reconnecting: "正在重新连接…",
    nobody: "无人在播：听众听到的是原声。", me_on_air: "您正在播出",
    other_on_air: "{name} 正在播出", you: "{name}（您）", badge: "播出中",
    sign_in: "请登录（邀请链接或令牌）后查看译员间。", unavailable: "译员间暂不可用（{status}）。",
    unreachable: "无法连接服务器，正在重试。", take_failed: "未能接过话筒：{why}",
    who: "{name}，译入 {lang}。", sign_in_hint: "请打开您的译员邀请链接，或在下方粘贴令牌。",
    no_language: "没有语言：请打开邀请链接或粘贴译员令牌",
    could_not_start: "无法开始：{why}", mic_failed: "无法打开麦克风：{why}",
  },
};

/**
 * The lookup for `lang`: `t("who", { name, lang })`.
 * @param {"en" | "zh"} lang
 * @returns {(key: string, slots?: Record<string, string>) => string}
 */
export function words(lang) {
  const table = STRINGS[lang];
  return (key, slots = {}) => (table[key] ?? STRINGS.en[key] ?? key)
    .replace(/\{(\w+)\}/g, (_, name) => slots[name] ?? "");
}

/**
 * Puts every `[data-i18n]` element under `root` into `lang`.
 * @param {ParentNode} root
 * @param {"en" | "zh"} lang
 */
export function translateMarked(root, lang) {
  const t = words(lang);
  for (const node of root.querySelectorAll("[data-i18n]")) {
    if (node instanceof HTMLElement && node.dataset.i18n) node.textContent = t(node.dataset.i18n);
  }
}
