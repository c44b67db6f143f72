// The schedule in a chosen time zone, with "on air now / next". `?at=ISO` pins the clock
// (rehearsals and tests); otherwise it is the real time.
export function now() {
  const at = new URLSearchParams(location.search).get("at");
  const pinned = at ? Date.parse(at) : NaN;
  if (Number.isNaN(pinned)) return new Date();
  // A pinned clock still ticks from the moment the page opened.
  return new Date(pinned + (performance.now() - (now.opened ??= performance.now())));
}

export async function loadSchedule(venue) {
  const query = venue ? `?venue=${encodeURIComponent(venue)}` : "";
  const response = await fetch(`/api/schedule${query}`);
  if (!response.ok) throw new Error(`schedule: ${response.status}`);
  return response.json();
}

export function onAirAndNext(sessions, at) {
  const t = at.getTime();
  const onAir = sessions.filter((s) => Date.parse(s.start) <= t && t < Date.parse(s.end));
  const next = sessions
    .filter((s) => Date.parse(s.start) > t)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))[0] || null;
  return { onAir, next };
}

export function timeIn(iso, zone, withDay = false, locale = undefined) {
  const options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withDay) Object.assign(options, { weekday: "short", month: "short", day: "numeric" });
  return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
}

export function clock(at, zone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).format(at);
}

// Fills <ol> with one <li> per session (text only), marking on-air and next.
export function renderSchedule(list, sessions, zone, at, labels = {}) {
  const { onAir, next } = onAirAndNext(sessions, at);
  const airing = new Set(onAir.map((s) => s.id));
  list.replaceChildren();
  for (const s of sessions) {
    const item = document.createElement("li");
    item.dataset.session = s.id;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = `${timeIn(s.start, zone, true, labels.locale)}–${timeIn(s.end, zone, false, labels.locale)}`;
    const title = document.createElement("span");
    title.className = "what";
    title.textContent = s.title;
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
