// Talkback text chat between a venue's operators and the directors. A director's panel
// (venue = null) shows every venue's lines and picks the venue to answer; an operator's
// panel speaks for its own venue. Embeddable: new TalkbackPanel(root, socket, options).
export class TalkbackPanel {
  constructor(root, socket, { venue = null, venues = [] } = {}) {
    this.root = root;
    this.socket = socket;
    this.venue = venue;
    this.log = root.querySelector("[data-talkback-log]");
    this.form = root.querySelector("form");
    this.input = this.form.querySelector("input[name=text], textarea[name=text]");
    this.select = this.form.querySelector("select[name=venue]");
    this.message = root.querySelector("[data-talkback-error]");
    if (this.select && !this.select.options.length) {
      for (const v of venues) this.select.append(new Option(v.name, v.id));
    }
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.say(); });
  }

  // Call with every server frame.
  receive(frame) {
    if (frame.type !== "talkback") return;
    if (this.venue && frame.venue !== this.venue) return;
    const item = document.createElement("li");
    item.className = `talkback-line from-${frame.from}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = frame.from === "director" ? `Director → ${frame.venue}` : `${frame.venue} operator`;
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
    const message = { type: "talkback", text };
    if (!this.venue && this.select) message.venue = this.select.value;
    try {
      await this.socket.send(message);
      this.input.value = "";
      if (this.message) this.message.textContent = "";
    } catch (error) {
      if (this.message) this.message.textContent = error.message || "not sent";
    }
  }
}
