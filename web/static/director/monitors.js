// @ts-check
// The director's monitors: a small muted WHEP player per live source and per venue output
// that has something routed (plain players of what the server forwards: nothing is
// transcoded for them), each with its tally and health, and for a source the publisher
// on air (primary or backup) with "use backup" / "use primary" when failover waits for
// the director. Players start only while there is something to see and stop after.
import { Link } from "../venue/link.js";
import { channelName, venueName } from "../lib/names.js";
import { channelHealth, outputState, venueRow, venuesCarrying } from "../lib/onair.js";

/** @typedef {import("../lib/frames.js").RoutingFrame} RoutingFrame */
/** @typedef {(message: Record<string, unknown>) => Promise<unknown>} Send */

/**
 * @param {Element} tile
 * @param {string} selector
 * @returns {HTMLElement}
 */
function part(tile, selector) {
  const node = tile.querySelector(selector);
  if (!(node instanceof HTMLElement)) throw new Error(`a monitor has no ${selector}`);
  return node;
}

export class Monitors {
  /**
   * @param {HTMLElement} root the monitors section
   * @param {{ failover: string, send: Send, onError: (text: string) => void }} options
   */
  constructor(root, { failover, send, onError }) {
    this.root = root;
    this.failover = failover;
    this.send = send;
    this.onError = onError;
    /** @type {Map<string, Link>} "channel:<id>" or "venue:<id>" -> its player */
    this.links = new Map();
    root.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button[data-use-source]") : null;
      if (!(button instanceof HTMLButtonElement)) return;
      const channel = button.closest("[data-channel]")?.getAttribute("data-channel");
      this.send({ type: "use_source", channel, source: button.dataset.useSource })
        .catch((error) => this.onError(`Could not switch the source: ${error.message || error}`));
    });
  }

  /**
   * @param {RoutingFrame | null} frame
   * @param {Set<string>} publishing channels with a live publisher (/api/streams), for
   *   servers whose matrix does not report source health
   */
  update(frame, publishing) {
    for (const tile of this.root.querySelectorAll("[data-monitor=channel]")) {
      if (tile instanceof HTMLElement) this.showSource(tile, frame, publishing);
    }
    for (const tile of this.root.querySelectorAll("[data-monitor=venue]")) {
      if (tile instanceof HTMLElement) this.showOutput(tile, frame);
    }
  }

  /**
   * @param {HTMLElement} tile
   * @param {RoutingFrame | null} frame
   * @param {Set<string>} publishing
   */
  showSource(tile, frame, publishing) {
    const channel = tile.dataset.channel || "";
    const health = channelHealth(frame, channel);
    const state = health ? health.state : publishing.has(channel) ? "live" : "idle";
    const live = state !== "idle";
    tile.hidden = !live;
    tile.dataset.state = state;
    this.play(tile, `channel:${channel}`, `/whep/${encodeURIComponent(channel)}`, live);
    const pill = part(tile, "[data-health]");
    pill.dataset.state = state;
    pill.textContent = state === "lost" ? "SIGNAL LOST" : state;
    const venues = venuesCarrying(frame, channel);
    this.tally(tile, venues.length ? `on air at ${venues.map((v) => venueName(v)).join(", ")}` : "not on air", venues.length > 0);
    const source = part(tile, "[data-source]");
    source.textContent = health && health.source
      ? `${health.source === "backup" ? "BACKUP" : "primary"} on air${health.backup_ready && health.source !== "backup" ? " · backup ready" : ""}`
      : "";
    const button = tile.querySelector("button[data-use-source]");
    if (button instanceof HTMLButtonElement) {
      const offer = this.failover === "confirm" && health
        ? (health.source === "backup" ? "primary" : health.backup_ready ? "backup" : "") : "";
      button.hidden = !offer;
      button.dataset.useSource = offer;
      button.textContent = offer ? `Use ${offer}` : "";
    }
  }

  /**
   * @param {HTMLElement} tile
   * @param {RoutingFrame | null} frame
   */
  showOutput(tile, frame) {
    const venue = tile.dataset.venue || "";
    const row = venueRow(frame, venue);
    const output = outputState(frame, venue);
    const routed = Boolean(row && ((row.on_air && row.on_air.channel) || row.slate));
    tile.dataset.state = output.state;
    this.play(tile, `venue:${venue}`, `/whep/venue/${encodeURIComponent(venue)}`, routed);
    const pill = part(tile, "[data-health]");
    pill.dataset.state = output.state;
    const words = { live: "on air", lost: "SIGNAL LOST", slate: "slate", unknown: "…" };
    pill.textContent = words[output.state];
    const showing = output.channel ? channelName(output.channel) : "nothing routed";
    this.tally(tile, output.state === "slate" && !output.channel ? "slate: nothing routed" : `shows ${showing}`,
      output.state === "live");
  }

  /**
   * @param {HTMLElement} tile
   * @param {string} text
   * @param {boolean} onAir
   */
  tally(tile, text, onAir) {
    const line = part(tile, "[data-tally]");
    line.textContent = text;
    line.dataset.onAir = String(onAir);
    tile.dataset.onAir = String(onAir);
  }

  /**
   * Starts or stops the tile's player. `?monitor=1` marks it as the director's monitor
   * rather than an audience (the server may leave it out of the counts).
   * @param {HTMLElement} tile
   * @param {string} key
   * @param {string} endpoint
   * @param {boolean} wanted
   */
  play(tile, key, endpoint, wanted) {
    const link = this.links.get(key);
    if (wanted && !link) {
      const video = tile.querySelector("video");
      const player = new Link({ kind: "play", endpoint: `${endpoint}?monitor=1`, video });
      this.links.set(key, player);
      player.start();
    } else if (!wanted && link) {
      this.links.delete(key);
      link.stop();
    }
  }

  /** After the server came back: every player retries now. */
  nudge() {
    for (const link of this.links.values()) link.nudge();
  }
}
