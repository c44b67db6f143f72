// @ts-check
// Schedule page: re-render every <time> in the zone the reader picks.
// Event time, any venue's time, or the browser's own zone; the choice is remembered.
import { browserZone, dayIn, partsIn, timeIn, zoneWithOffset } from "./lib/time.js";
import { rememberAskedLanguage } from "./venue/i18n.js";

const STORAGE_KEY = "venuebridge.schedule.zone";

/**
 * "14:05", or "Sat 22 Dec 14:05" when the time falls on another day than the event day
 * its section is about.
 * @param {Date} date
 * @param {string} zone
 * @param {string} eventDay YYYY-MM-DD
 */
function formatTime(date, zone, eventDay) {
  const p = partsIn(date, zone);
  const text = `${p.hour}:${p.minute}`;
  if (dayIn(date, zone) === eventDay) return text;
  return timeIn(date, zone, { day: true });
}

/** @param {string} zone */
function render(zone) {
  /** @type {Date | null} */
  let first = null;
  for (const section of document.querySelectorAll("section.day")) {
    if (!(section instanceof HTMLElement)) continue;
    const eventDay = section.dataset.day || "";
    for (const el of section.querySelectorAll("time[datetime]")) {
      const date = new Date(el.getAttribute("datetime") || "");
      first = first || date;
      el.textContent = formatTime(date, zone, eventDay);
    }
  }
  const label = document.getElementById("zone-label");
  if (label) label.textContent = zoneWithOffset(zone, first || new Date());
  document.body.dataset.zone = zone;
}

/**
 * @param {HTMLSelectElement} select
 * @param {string} key
 */
function selectByKey(select, key) {
  const index = [...select.options].findIndex((o) => o.dataset.key === key);
  if (index >= 0) select.selectedIndex = index;
  return index >= 0;
}

function init() {
  const form = document.getElementById("zone-switch");
  const select = document.getElementById("zone");
  if (!(form instanceof HTMLFormElement) || !(select instanceof HTMLSelectElement)) return;
  const browserOption = select.querySelector('option[data-key="browser"]');
  if (browserOption instanceof HTMLOptionElement) {
    browserOption.textContent = `${browserOption.dataset.label || "My time zone"} · ${browserZone()}`;
  }
  // A remembered choice wins; a venue's page otherwise starts in that venue's time.
  const saved = localStorage.getItem(STORAGE_KEY);
  if (!(saved && selectByKey(select, saved)) && form.dataset.default) {
    selectByKey(select, form.dataset.default);
  }
  /** @param {boolean} remember */
  const apply = (remember) => {
    const zone = select.value === "browser" ? browserZone() : select.value;
    const option = select.selectedOptions[0];
    if (remember && option && option.dataset.key) localStorage.setItem(STORAGE_KEY, option.dataset.key);
    render(zone);
  };
  select.addEventListener("change", () => apply(true));
  form.addEventListener("submit", (e) => e.preventDefault());
  apply(false);
}

init();
// The server drew the page in ?lang= when given (the link to the other language): keep it.
rememberAskedLanguage();
