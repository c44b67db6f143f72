// @ts-check
// Link health from getStats: bitrate, fps, RTT, loss, jitter, and a traffic light.

/** @typedef {{ bytes: number, lost: number, packets: number, at: number }} Counters */
/**
 * @typedef {object} Health
 * @property {number} bitrate kbit/s
 * @property {number} fps
 * @property {number | null} rtt ms
 * @property {number} loss percent
 * @property {number | null} jitter ms
 * @property {Counters | null} raw the counters this sample read
 */

/**
 * One sample; `previous` is the last sample's raw counters (for rates).
 * @param {RTCPeerConnection | null} pc
 * @param {"play" | "publish"} kind
 * @param {Counters | null} previous
 * @returns {Promise<Health>}
 */
export async function sampleHealth(pc, kind, previous) {
  /** @type {Health} */
  const out = { bitrate: 0, fps: 0, rtt: null, loss: 0, jitter: null, raw: null };
  if (!pc) return out;
  const stats = await pc.getStats();
  let bytes = 0; let lost = 0; let packets = 0; let at = 0;
  stats.forEach((/** @type {Record<string, any>} */ r) => {
    if (kind === "play" && r.type === "inbound-rtp") {
      bytes += r.bytesReceived || 0; lost += r.packetsLost || 0; packets += r.packetsReceived || 0;
      at = r.timestamp;
      if (r.kind === "video") { out.fps = r.framesPerSecond || 0; out.jitter = (r.jitter || 0) * 1000; }
    }
    if (kind === "publish" && r.type === "outbound-rtp") {
      bytes += r.bytesSent || 0; packets += r.packetsSent || 0; at = r.timestamp;
      if (r.kind === "video") out.fps = r.framesPerSecond || 0;
    }
    if (kind === "publish" && r.type === "remote-inbound-rtp") {
      lost += r.packetsLost || 0;
      if (r.kind === "video" && r.jitter !== undefined) out.jitter = r.jitter * 1000;
      if (r.roundTripTime !== undefined) out.rtt = r.roundTripTime * 1000;
    }
    if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime !== undefined) {
      out.rtt = r.currentRoundTripTime * 1000;
    }
  });
  out.raw = { bytes, lost, packets, at };
  if (previous && at > previous.at) {
    out.bitrate = ((bytes - previous.bytes) * 8) / (at - previous.at); // kbit/s (ms clock)
    const newPackets = packets - previous.packets + (lost - previous.lost);
    out.loss = newPackets > 0 ? (100 * Math.max(0, lost - previous.lost)) / newPackets : 0;
  }
  return out;
}

/**
 * green: fine; amber: watch it; red: the audience notices. `live` false is grey.
 * @param {Health} h
 * @param {boolean} live
 */
export function grade(h, live) {
  if (!live) return "off";
  if (h.bitrate < 50 || h.fps < 5 || h.loss > 5 || (h.rtt !== null && h.rtt > 400)) return "red";
  if (h.fps < 15 || h.loss > 1 || (h.rtt !== null && h.rtt > 150)
      || (h.jitter !== null && h.jitter > 30)) return "amber";
  return "green";
}

/** @type {Health} */
const EMPTY = { bitrate: 0, fps: 0, rtt: null, loss: 0, jitter: null, raw: null };

/** @type {(value: number | null | undefined, unit: string, digits?: number) => string} */
const fmt = (value, unit, digits = 0) =>
  (value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)} ${unit}`);

/**
 * Keeps a small panel (<dl data-health>) up to date for one Link, once a second.
 * @param {import("./link.js").Link} link
 * @param {HTMLElement} panel
 */
export function watchHealth(link, panel) {
  /** @type {Counters | null} */
  let previous = null;
  /** @type {Record<string, HTMLElement>} */
  const fields = {};
  for (const node of panel.querySelectorAll("[data-stat]")) {
    if (node instanceof HTMLElement && node.dataset.stat) fields[node.dataset.stat] = node;
  }
  const light = panel.querySelector("[data-light]");
  const tick = async () => {
    const live = Boolean(link.state === "live" && link.pc);
    const h = live ? await sampleHealth(link.pc, link.kind, previous) : EMPTY;
    const rated = live && previous !== null;
    previous = live ? h.raw : null;
    /** @type {(k: string, v: string) => void} */
    const set = (k, v) => { if (fields[k]) fields[k].textContent = v; };
    set("bitrate", live ? fmt(h.bitrate, "kbit/s") : "–");
    set("fps", live ? fmt(h.fps, "fps") : "–");
    set("rtt", fmt(h.rtt, "ms"));
    set("loss", live ? fmt(h.loss, "%", 1) : "–");
    set("jitter", fmt(h.jitter, "ms", 1));
    const level = rated ? grade(h, true) : (live ? "amber" : "off");
    if (light instanceof HTMLElement) light.dataset.level = level;
    panel.dataset.level = level;
  };
  return setInterval(() => { tick().catch(() => {}); }, 1000);
}
