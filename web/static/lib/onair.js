// @ts-check
// What the routing matrix says about a channel or a venue output: where a channel is on
// air (the tally), whether its source is lost, whether an output shows the slate. Pure
// functions of the `routing` frame, shared by the publish page, the director, the
// operator console and the viewer page, so they all say the same thing.

/** @typedef {import("./frames.js").RoutingFrame} RoutingFrame */
/** @typedef {import("./frames.js").RoutingRow} RoutingRow */
/** @typedef {import("./frames.js").ChannelHealth} ChannelHealth */

/**
 * What a venue output shows now, in one word:
 * live (its source, healthy), lost (its source stopped sending), slate (nothing routed,
 * black or the slate), unknown (no matrix row for it yet).
 * @typedef {"live" | "lost" | "slate" | "unknown"} OutputState
 */

/**
 * The ids of the venues whose output has `channel` on air (taken, not just requested).
 * @param {RoutingFrame | null} frame
 * @param {string} channel
 * @returns {string[]}
 */
export function venuesCarrying(frame, channel) {
  if (!frame) return [];
  return frame.venues.filter((row) => row.on_air && row.on_air.channel === channel).map((row) => row.venue);
}

/**
 * A channel's health; null when the server does not report health (or the channel).
 * @param {RoutingFrame | null} frame
 * @param {string | null | undefined} channel
 * @returns {ChannelHealth | null}
 */
export function channelHealth(frame, channel) {
  if (!frame || !frame.channels || !channel) return null;
  return frame.channels[channel] || null;
}

/**
 * True when the server reports `channel`'s source as lost.
 * @param {RoutingFrame | null} frame
 * @param {string | null | undefined} channel
 */
export function isLost(frame, channel) {
  const health = channelHealth(frame, channel);
  return health !== null && health.state === "lost";
}

/**
 * @param {RoutingFrame | null} frame
 * @param {string} venue
 * @returns {RoutingRow | null}
 */
export function venueRow(frame, venue) {
  return frame ? frame.venues.find((row) => row.venue === venue) || null : null;
}

/**
 * What the venue's output shows; a lost source wins over the slate that replaces it,
 * because "the signal is interrupted" says more than "nothing is routed".
 * @param {RoutingFrame | null} frame
 * @param {string} venue
 * @returns {{ state: OutputState, channel: string | null }}
 */
export function outputState(frame, venue) {
  const row = venueRow(frame, venue);
  if (!row) return { state: "unknown", channel: null };
  const channel = row.on_air ? row.on_air.channel : null;
  if (channel && isLost(frame, channel)) return { state: "lost", channel };
  if (row.slate || !channel) return { state: "slate", channel };
  return { state: "live", channel };
}

/**
 * Every lost channel with the venues it leaves without a picture, oldest loss first.
 * @param {RoutingFrame | null} frame
 * @returns {Array<{ channel: string, since: string | null, venues: string[] }>}
 */
export function lostSources(frame) {
  if (!frame || !frame.channels) return [];
  return Object.entries(frame.channels)
    .filter(([, health]) => health.state === "lost")
    .map(([channel, health]) => ({ channel, since: health.since, venues: venuesCarrying(frame, channel) }))
    .sort((a, b) => (a.since || "").localeCompare(b.since || ""));
}
