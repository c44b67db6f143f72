// @ts-check
// The director's relay-links panel: one row per channel this node pulls from an upstream
// node (GET /api/streams "relays"), with the long link's health in words and numbers:
// round trip, loss, NACKs and repairs, keyframes asked for because of loss, freeze time.
import { el } from "../lib/dom.js";
import { channelName } from "../lib/names.js";

/**
 * One relay link as /api/streams reports it.
 * @typedef {{ channel: string, upstream: string | null, state: string, attempts: number,
 *   last_error: string | null, rtt_s: number | null, loss_fraction: number,
 *   packets_lost: number, nacks_sent: number, retransmissions: number,
 *   keyframe_requests_sent: number, keyframes_for_loss: number, freeze_s: number,
 *   freezes: number }} RelayLink
 */

/** @param {number} fraction */
function percent(fraction) {
  return `${(fraction * 100).toFixed(1)} %`;
}

/** @param {RelayLink} link */
function healthOf(link) {
  if (link.state !== "live") return "red";
  if (link.loss_fraction > 0.1 || (link.rtt_s || 0) > 0.4) return "amber";
  return "green";
}

/**
 * @param {RelayLink} link
 * @returns {HTMLTableRowElement}
 */
function row(link) {
  const light = healthOf(link);
  const state = link.state === "live" ? "live" : `${link.state}${link.last_error ? ` (${link.last_error})` : ""}`;
  const cells = [
    el("th", { scope: "row" }, el("span", { class: `light light-${light}`, "data-level": light, title: light }), ` ${channelName(link.channel)}`),
    el("td", {}, link.upstream || "—"),
    el("td", {}, state),
    el("td", {}, link.rtt_s === null ? "—" : `${Math.round(link.rtt_s * 1000)} ms`),
    el("td", {}, `${percent(link.loss_fraction)} · ${link.packets_lost} lost`),
    el("td", {}, `${link.nacks_sent} / ${link.retransmissions}`),
    el("td", {}, `${link.keyframe_requests_sent} (${link.keyframes_for_loss} for loss)`),
    el("td", {}, `${link.freeze_s.toFixed(1)} s in ${link.freezes}`),
  ];
  const tr = /** @type {HTMLTableRowElement} */ (el("tr", { "data-channel": link.channel }, ...cells));
  return tr;
}

/**
 * Show ``links`` in ``panel`` (its tbody); the panel hides when this node pulls nothing.
 * @param {HTMLElement} panel
 * @param {RelayLink[] | undefined} links
 */
export function renderLinks(panel, links) {
  const list = links || [];
  panel.hidden = list.length === 0;
  const body = panel.querySelector("tbody");
  if (body) body.replaceChildren(...list.map(row));
}
