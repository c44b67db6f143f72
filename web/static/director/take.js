// @ts-check
// Preset-then-take: a click on a crosspoint only selects it (one preset per venue, shown
// highlighted); TAKE sends every preset at once. A take that changes what a venue has on
// air (to black or to another source) first asks in an in-page dialog.
import { el } from "../lib/dom.js";
import { channelName, venueName } from "../lib/names.js";
import { venueRow } from "../lib/onair.js";

/** @typedef {import("../lib/frames.js").RoutingFrame} RoutingFrame */
/** @typedef {{ venue: string, from: string, to: string | null }} Cut */

export class Presets {
  constructor() {
    /** @type {Map<string, string | null>} venue -> the channel to take (null: black) */
    this.routes = new Map();
  }

  /**
   * A click on a crosspoint: selects it, or unselects it when it was the venue's preset.
   * @param {string} venue
   * @param {string | null} channel
   */
  toggle(venue, channel) {
    if (this.routes.has(venue) && this.routes.get(venue) === channel) this.routes.delete(venue);
    else this.routes.set(venue, channel);
  }

  /**
   * @param {string} venue
   * @param {string | null} channel
   */
  has(venue, channel) {
    return this.routes.has(venue) && this.routes.get(venue) === channel;
  }

  clear() {
    this.routes.clear();
  }

  get size() {
    return this.routes.size;
  }

  /** @returns {Array<[string, string | null]>} */
  entries() {
    return [...this.routes.entries()];
  }
}

/**
 * The presets that would take a venue off what it has on air now.
 * @param {Array<[string, string | null]>} routes
 * @param {RoutingFrame | null} frame
 * @returns {Cut[]}
 */
export function cutsOnAir(routes, frame) {
  /** @type {Cut[]} */
  const cuts = [];
  for (const [venue, channel] of routes) {
    const row = venueRow(frame, venue);
    const onAir = row && row.on_air ? row.on_air.channel : null;
    if (onAir && onAir !== channel) cuts.push({ venue, from: onAir, to: channel });
  }
  return cuts;
}

/**
 * "Hall 1 → Hall 2" or "Hall 1 → black".
 * @param {string | null} channel
 */
export function routeName(channel) {
  return channel ? channelName(channel) : "black";
}

/**
 * Asks in the page's <dialog> whether to take `cuts`; true when the director confirms.
 * @param {HTMLDialogElement} dialog
 * @param {HTMLElement} list where the cuts are listed
 * @param {Cut[]} cuts
 * @returns {Promise<boolean>}
 */
export function confirmCuts(dialog, list, cuts) {
  list.replaceChildren(...cuts.map((cut) => el("li", { class: "cuts" },
    `${venueName(cut.venue)}: ${routeName(cut.from)} (on air) → ${routeName(cut.to)}`)));
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "take"), { once: true });
    dialog.showModal();
  });
}
