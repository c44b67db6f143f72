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

function init() {
  const form = document.getElementById("zone-switch");
  const select = document.getElementById("zone");
  if (!form || !select) return;
  const apply = () => {
    const option = select.selectedOptions[0];
    const zone = select.value === "browser" ? browserZone() : select.value;
    if (option) localStorage.setItem(STORAGE_KEY, String(select.selectedIndex));
    render(zone);
  };
  const browserOption = select.querySelector('option[data-kind="browser"]');
  if (browserOption) browserOption.textContent = `My time zone · ${browserZone()}`;
  const saved = Number(localStorage.getItem(STORAGE_KEY));
  if (Number.isInteger(saved) && saved > 0 && saved < select.options.length) {
    select.selectedIndex = saved;
  }
  select.addEventListener("change", apply);
  form.addEventListener("submit", (e) => e.preventDefault());
  apply();
}

init();
