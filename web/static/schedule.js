// Schedule page: re-render every <time> in the zone the reader picks.
// Event time, any venue's time, or the browser's own zone; the choice is remembered.

const STORAGE_KEY = "venuebridge.schedule.zone";

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function partsIn(zone, date) {
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", weekday: "short",
  });
  const out = {};
  for (const { type, value } of fmt.formatToParts(date)) out[type] = value;
  return out;
}

function offsetLabel(zone, date) {
  const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "longOffset" });
  const name = fmt.formatToParts(date).find((p) => p.type === "timeZoneName");
  const offset = name ? name.value.replace("GMT", "UTC") : "UTC";
  return `${zone} (${offset === "UTC" ? "UTC+00:00" : offset})`;
}

function formatTime(date, zone, eventDay) {
  const p = partsIn(zone, date);
  const text = `${p.hour}:${p.minute}`;
  const day = `${p.year}-${p.month}-${p.day}`;
  if (day === eventDay) return text;
  const short = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, weekday: "short", day: "2-digit", month: "short",
  }).format(date).replace(",", "");
  return `${short} ${text}`;
}

function render(zone) {
  let first = null;
  for (const section of document.querySelectorAll("section.day")) {
    const eventDay = section.dataset.day;
    for (const el of section.querySelectorAll("time[datetime]")) {
      const date = new Date(el.getAttribute("datetime"));
      first = first || date;
      el.textContent = formatTime(date, zone, eventDay);
    }
  }
  const label = document.getElementById("zone-label");
  if (label) label.textContent = offsetLabel(zone, first || new Date());
  document.body.dataset.zone = zone;
}

function selectByKey(select, key) {
  const index = [...select.options].findIndex((o) => o.dataset.key === key);
  if (index >= 0) select.selectedIndex = index;
  return index >= 0;
}

function init() {
  const form = document.getElementById("zone-switch");
  const select = document.getElementById("zone");
  if (!form || !select) return;
  const browserOption = select.querySelector('option[data-key="browser"]');
  if (browserOption) browserOption.textContent = `My time zone · ${browserZone()}`;
  // A remembered choice wins; a venue's page otherwise starts in that venue's time.
  const saved = localStorage.getItem(STORAGE_KEY);
  if (!(saved && selectByKey(select, saved)) && form.dataset.default) {
    selectByKey(select, form.dataset.default);
  }
  const apply = (remember) => {
    const zone = select.value === "browser" ? browserZone() : select.value;
    const option = select.selectedOptions[0];
    if (remember && option) localStorage.setItem(STORAGE_KEY, option.dataset.key);
    render(zone);
  };
  select.addEventListener("change", () => apply(true));
  form.addEventListener("submit", (e) => e.preventDefault());
  apply(false);
}

init();
