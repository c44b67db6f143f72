// @ts-check
// Times and dates in a named IANA zone (a venue's, the event's or the reader's), and the
// page clock, which `?at=ISO` pins for rehearsals and tests.

/** @typedef {Date | number | string} Instant a Date, epoch milliseconds or an ISO string */

/**
 * @param {Instant} at
 * @returns {Date}
 */
export function toDate(at) {
  return at instanceof Date ? at : new Date(at);
}

/** @type {number | undefined} */
let openedAt;

/**
 * The server's rehearsal clock, when it runs one: event time = virtual + (now - real) * speed.
 * @typedef {{ real: string, virtual: string, speed: number }} ServerClock
 */

/** @type {{ real: number, virtual: number, speed: number } | null} */
let serverClock = null;

/**
 * Run the page on the server's rehearsal clock (from the welcome frame or /api/schedule);
 * null or a clock without times goes back to the wall clock.
 * @param {Partial<ServerClock> | null | undefined} clock
 */
export function setServerClock(clock) {
  const real = clock && clock.real ? Date.parse(clock.real) : NaN;
  const virtual = clock && clock.virtual ? Date.parse(clock.virtual) : NaN;
  serverClock = Number.isNaN(real) || Number.isNaN(virtual)
    ? null
    : { real, virtual, speed: Number(clock && clock.speed) || 1 };
}

/**
 * Now: the `?at=` moment of the URL (still ticking from when the page opened), else the
 * server's rehearsal clock when it runs one, else the wall clock.
 */
export function pageNow() {
  const at = new URLSearchParams(location.search).get("at");
  const pinned = at ? Date.parse(at) : NaN;
  if (!Number.isNaN(pinned)) {
    openedAt ??= performance.now();
    return new Date(pinned + (performance.now() - openedAt));
  }
  if (serverClock) {
    return new Date(serverClock.virtual + (Date.now() - serverClock.real) * serverClock.speed);
  }
  return new Date();
}

/** The reader's own zone as the browser reports it. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/**
 * "14:05" in `zone`; with `day`, "Sat 22 Dec 14:05" (in `locale`'s words and order).
 * @param {Instant} at
 * @param {string} zone
 * @param {{ day?: boolean, locale?: string }} [options]
 */
export function timeIn(at, zone, { day = false, locale = "en-GB" } = {}) {
  /** @type {Intl.DateTimeFormatOptions} */
  const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (day) Object.assign(options, { weekday: "short", month: "short", day: "numeric" });
  return new Intl.DateTimeFormat(locale, options).format(toDate(at)).replace(/,/g, "");
}

/**
 * "14:05:09" in `zone`.
 * @param {Instant} at
 * @param {string} zone
 */
export function clockIn(at, zone) {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).format(toDate(at));
}

/**
 * The calendar day of `at` in `zone`, as "YYYY-MM-DD".
 * @param {Instant} at
 * @param {string} zone
 */
export function dayIn(at, zone) {
  const p = partsIn(at, zone);
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * The time of `at`, with its date only when that is not the day of `now` in `zone`
 * ("Next: Sat 22 Dec 09:00" when the next session is tomorrow, "Next: 14:00" today).
 * @param {Instant} at
 * @param {string} zone
 * @param {Instant} now
 * @param {string} [locale]
 */
export function timeOrDateIn(at, zone, now, locale = "en-GB") {
  return timeIn(at, zone, { day: dayIn(at, zone) !== dayIn(now, zone), locale });
}

/**
 * The named parts of `at` in `zone` (year, month, day, weekday, hour, minute: strings).
 * @param {Instant} at
 * @param {string} zone
 * @returns {Record<string, string>}
 */
export function partsIn(at, zone) {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", weekday: "short",
  });
  /** @type {Record<string, string>} */
  const parts = {};
  for (const { type, value } of format.formatToParts(toDate(at))) parts[type] = value;
  return parts;
}

/**
 * "Asia/Tokyo (UTC+09:00)": the zone and its offset at `at`.
 * @param {string} zone
 * @param {Instant} at
 */
export function zoneWithOffset(zone, at) {
  const format = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "longOffset" });
  const name = format.formatToParts(toDate(at)).find((p) => p.type === "timeZoneName");
  const offset = name ? name.value.replace("GMT", "UTC") : "UTC";
  return `${zone} (${offset === "UTC" ? "UTC+00:00" : offset})`;
}
