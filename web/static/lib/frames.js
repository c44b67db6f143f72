// @ts-check
// The shapes of the server frames that several pages read (docs/control-plane.md).
// Types only: nothing here runs.

/**
 * One crosspoint state: what a venue output shows (on air) or was asked to show.
 * @typedef {object} Crosspoint
 * @property {string | null} channel null: nothing (black)
 * @property {string | null} [session] the scheduled session it airs, if any
 * @property {string} by who routed it
 */

/**
 * @typedef {object} RoutingRow
 * @property {string} venue
 * @property {Crosspoint | null} requested
 * @property {Crosspoint | null} on_air
 * @property {"on" | "off"} automation
 * @property {boolean} [held_by_director]
 */

/** @typedef {{ type: "routing", venues: RoutingRow[] }} RoutingFrame */

/**
 * Counts of who is connected, summed over the nodes.
 * @typedef {object} PresenceFrame
 * @property {"presence"} type
 * @property {number} connections
 * @property {Record<string, number>} viewers_by_channel
 * @property {Record<string, number>} viewers_by_venue
 * @property {Record<string, number>} operators_by_venue
 * @property {Record<string, number>} moderators_by_room
 */

export {};
