// @ts-check
// Names for the ids in server frames (venues, channels, sessions), from the page's
// <script id="display-names"> block (templates/_names.html, filled by
// web/display_names.py). An unknown id, or a page without the block, shows the id itself.

/** @typedef {{ venues: Record<string, string>, channels: Record<string, string>, sessions: Record<string, string> }} NameTables */

/** @returns {NameTables} */
function tables() {
  const block = document.getElementById("display-names");
  const parsed = block ? JSON.parse(block.textContent || "{}") : {};
  return { venues: parsed.venues || {}, channels: parsed.channels || {}, sessions: parsed.sessions || {} };
}

const NAMES = tables();

/** @param {string | null | undefined} id */
export function venueName(id) {
  return id ? NAMES.venues[id] || id : "";
}

/** @param {string | null | undefined} id */
export function channelName(id) {
  return id ? NAMES.channels[id] || id : "";
}

/** @param {string | null | undefined} id */
export function sessionName(id) {
  return id ? NAMES.sessions[id] || id : "";
}
