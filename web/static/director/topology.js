// @ts-check
// The topology on the director's page: each venue's home node and whether it is up (from
// the routing matrix), and the nodes panel (GET /api/nodes: id, region, URL, heartbeat
// age, the channels each holds, the venues each is home to).
import { el } from "../lib/dom.js";

/** @typedef {import("../lib/frames.js").RoutingFrame} RoutingFrame */
/**
 * One entry of GET /api/nodes.
 * @typedef {{ id: string, region: string, url: string | null, age_seconds: number, channels: string[] }} NodeRow
 * @typedef {{ node: string, nodes: NodeRow[] }} NodeList
 */

/**
 * The "home" line under each venue's name in the matrix.
 * @param {RoutingFrame} matrix
 */
export function renderHomes(matrix) {
  for (const row of matrix.venues) {
    const line = document.querySelector(`[data-home="${CSS.escape(row.venue)}"]`);
    if (!(line instanceof HTMLElement)) continue;
    const home = row.home || null;
    const state = !home ? "here" : row.home_up === false ? "down" : row.home_up ? "up" : "unknown";
    line.dataset.state = state;
    line.textContent = !home ? "home: routing node"
      : `home ${home} · ${state === "down" ? "DOWN" : state === "up" ? "up" : "checking"}`;
  }
}

/** The nodes panel, refreshed by `poll`. */
export class NodesPanel {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    /** @type {RoutingFrame | null} */
    this.matrix = null;
    /** @type {NodeList | null} */
    this.list = null;
  }

  /** @param {RoutingFrame} matrix */
  update(matrix) {
    this.matrix = matrix;
    this.render();
  }

  async poll() {
    const note = this.root.querySelector("[data-nodes-note]");
    try {
      const response = await fetch("/api/nodes");
      if (response.ok) {
        this.list = await response.json();
        if (note) note.textContent = "";
      } else if (note) {
        note.textContent = response.status === 503
          ? "The node directory cannot be read now (Redis away); retrying."
          : `The node list was refused (${response.status}).`;
      }
    } catch {
      if (note) note.textContent = "This server does not answer; retrying.";
    }
    this.render();
  }

  render() {
    const body = this.root.querySelector("tbody");
    if (!body || !this.list) return;
    /** @type {Map<string, string[]>} */
    const homes = new Map();
    for (const row of this.matrix ? this.matrix.venues : []) {
      if (row.home) homes.set(row.home, [...(homes.get(row.home) || []), row.venue]);
    }
    const me = this.list.node;
    body.replaceChildren(...this.list.nodes.map((node) => el("tr", { "data-node": node.id },
      el("th", { scope: "row" }, node.id, node.id === me ? el("span", { class: "meta" }, "this node") : null),
      el("td", {}, node.region || "—"),
      el("td", {}, node.url || "—"),
      el("td", {}, `${node.age_seconds.toFixed(1)} s`),
      el("td", {}, node.channels.length ? node.channels.join(", ") : "—"),
      el("td", {}, (homes.get(node.id) || []).join(", ") || "—"))));
    // A home node the directory does not list is down: say so in the panel too.
    const listed = new Set(this.list.nodes.map((n) => n.id));
    for (const [node, venues] of homes) {
      if (listed.has(node)) continue;
      body.append(el("tr", { "data-node": node, class: "down" },
        el("th", { scope: "row" }, node, el("span", { class: "meta" }, "down")),
        el("td", {}, "—"), el("td", {}, "—"), el("td", {}, "no heartbeat"), el("td", {}, "—"),
        el("td", {}, venues.join(", "))));
    }
  }
}
