// @ts-check
// Talkback text chat between a venue's operators and the directors. A director's panel
// (venue = null) shows every venue's lines and picks the venue to answer; an operator's
// panel speaks for its own venue. Embeddable: new TalkbackPanel(root, socket, options).
import { errorMessage, find } from "../lib/dom.js";

/** @typedef {import("../lib/socket.js").Frame} Frame */
/** @typedef {{ id: string, name: string }} VenueName */

export class TalkbackPanel {
  /**
   * @param {HTMLElement} root holds [data-talkback-log], a form with a text field and, for a director, select[name=venue]
   * @param {import("../lib/socket.js").ReconnectingSocket} socket
   * @param {{ venue?: string | null, venues?: VenueName[] }} [options]
   */
  constructor(root, socket, { venue = null, venues = [] } = {}) {
    this.root = root;
    this.socket = socket;
    this.venue = venue;
    this.log = find(root, "[data-talkback-log]", HTMLElement);
    this.form = find(root, "form", HTMLFormElement);
    const input = this.form.querySelector("input[name=text], textarea[name=text]");
    if (!(input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement)) throw new Error("talkback needs a text field");
    this.input = input;
    const select = this.form.querySelector("select[name=venue]");
    this.select = select instanceof HTMLSelectElement ? select : null;
    const message = root.querySelector("[data-talkback-error]");
    this.message = message instanceof HTMLElement ? message : null;
    if (this.select && !this.select.options.length) {
      for (const v of venues) this.select.append(new Option(v.name, v.id));
    }
    /** @type {Map<string, string>} venue id -> name, for the log lines */
    this.names = new Map(venues.map((v) => [v.id, v.name]));
    for (const option of this.select ? this.select.options : []) this.names.set(option.value, option.text);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.say(); });
  }

  /**
   * Call with every server frame; talkback lines for this panel are added to the log.
   * @param {Frame} frame
   */
  receive(frame) {
    if (frame.type !== "talkback") return;
    if (this.venue && frame.venue !== this.venue) return;
    const venue = this.names.get(frame.venue) || frame.venue;
    const item = document.createElement("li");
    item.className = `talkback-line from-${frame.from}`;
    const who = document.createElement("span");
    who.className = "who";
    // An operator's own panel needs no venue name: every line is about their venue.
    if (this.venue) who.textContent = frame.from === "director" ? "Director" : "Operator";
    else who.textContent = frame.from === "director" ? `Director → ${venue}` : `${venue} operator`;
    const at = document.createElement("time");
    at.textContent = new Date(frame.at * 1000).toLocaleTimeString([], { hour12: false });
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = frame.text;
    item.append(at, who, text);
    this.log.append(item);
    this.log.scrollTop = this.log.scrollHeight;
    if (!this.venue && this.select && frame.from === "operator") this.select.value = frame.venue;
  }

  async say() {
    const text = this.input.value.trim();
    if (!text) return;
    /** @type {Record<string, unknown>} */
    const message = { type: "talkback", text };
    if (!this.venue && this.select) message.venue = this.select.value;
    try {
      await this.socket.send(message);
      this.input.value = "";
      if (this.message) this.message.textContent = "";
    } catch (error) {
      if (this.message) this.message.textContent = errorMessage(error) || "not sent";
    }
  }
}
