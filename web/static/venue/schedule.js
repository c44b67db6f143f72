// @ts-check
// The schedule of a venue or channel: loading it, "on air now / next", and the list.
import { setServerClock, timeIn } from "../lib/time.js";
import { pageLanguage, pickText } from "../lib/local_text.js";

/**
 * A session as /api/schedule gives it (times are ISO strings in UTC).
 * @typedef {object} ScheduleSession
 * @property {string} id
 * @property {string} title the event's default language
 * @property {Record<string, string>} [titles] every language the event gives
 * @property {string} start
 * @property {string} end
 * @property {string} channel
 * @property {string[]} venues
 * @property {boolean} qa
 */

/**
 * @param {string} [venue] only this venue's sessions
 * @returns {Promise<{ sessions: ScheduleSession[], channels: Array<{ id: string, title: string, titles?: Record<string, string> }> }>}
 */
export async function loadSchedule(venue) {
  const query = venue ? `?venue=${encodeURIComponent(venue)}` : "";
  const response = await fetch(`/api/schedule${query}`);
  if (!response.ok) throw new Error(`schedule: ${response.status}`);
  const body = await response.json();
  if (body.clock && body.clock.rehearsal) setServerClock(body.clock);
  return body;
}

/**
 * The sessions on air at `at`, and the first one starting after it.
 * @param {ScheduleSession[]} sessions
 * @param {Date} at
 */
export function onAirAndNext(sessions, at) {
  const t = at.getTime();
  const onAir = sessions.filter((s) => Date.parse(s.start) <= t && t < Date.parse(s.end));
  const next = sessions
    .filter((s) => Date.parse(s.start) > t)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))[0] || null;
  return { onAir, next };
}

/**
 * Fills <ol> with one <li> per session (text only), marking on-air and next.
 * @param {HTMLElement} list
 * @param {ScheduleSession[]} sessions
 * @param {string} zone
 * @param {Date} at
 * @param {{ onAir?: string, next?: string, locale?: string, lang?: string }} [labels] `lang`: the
 *   titles' language (default: the page's)
 */
export function renderSchedule(list, sessions, zone, at, labels = {}) {
  const { onAir, next } = onAirAndNext(sessions, at);
  const airing = new Set(onAir.map((s) => s.id));
  list.replaceChildren();
  for (const s of sessions) {
    const item = document.createElement("li");
    item.dataset.session = s.id;
    const when = document.createElement("span");
    when.className = "when";
    const locale = labels.locale;
    when.textContent = `${timeIn(s.start, zone, { day: true, locale })}–${timeIn(s.end, zone, { locale })}`;
    const title = document.createElement("span");
    title.className = "what";
    title.textContent = pickText(s.titles, s.title, labels.lang || pageLanguage());
    item.append(when, title);
    if (airing.has(s.id) || (next && next.id === s.id)) {
      const tag = document.createElement("span");
      tag.className = airing.has(s.id) ? "tag on-air" : "tag next";
      tag.textContent = airing.has(s.id) ? labels.onAir || "On air" : labels.next || "Next";
      item.dataset.state = airing.has(s.id) ? "on-air" : "next";
      item.append(tag);
    }
    list.append(item);
  }
  return { onAir, next };
}
