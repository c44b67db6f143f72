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
 * @property {"on" | "off" | "paused"} automation
 * @property {boolean} [held_by_director]
 * @property {string | null} [on_air_since]
 * @property {boolean} [slate] the output shows the slate: nothing routed, black, or its source lost
 * @property {string | null} [off_air_since] since when the output has not shown its source
 * @property {string | null} [home] the node serving the venue's output; null: the routing node
 * @property {boolean | null} [home_up] whether that node is up; null: not known yet, or the routing node
 * @property {string | null} [language] the language track the output plays; null: the floor
 */

/**
 * A source's health as the media plane reports it (issue 11).
 * @typedef {object} ChannelHealth
 * @property {"live" | "lost" | "idle"} state live: media flowing; lost: none for a moment
 *   while a publisher is (or just was) connected; idle: no publisher
 * @property {string | null} since
 * @property {"primary" | "backup" | null} source which publisher feeds the outputs now
 * @property {boolean} backup_ready a live backup publisher is connected
 * @property {Record<string, string>} [interpreters] language -> the interpreter on air now
 * @property {string | null} [floor_language] the language the floor speaks now
 */

/**
 * The routing matrix. `channels` comes with source health; a server without it leaves
 * it out and the pages read every source as healthy.
 * @typedef {{ type: "routing", venues: RoutingRow[], channels?: Record<string, ChannelHealth> }} RoutingFrame
 */

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
