// The signaling websocket for the console, wall and viewer pages: reconnects with backoff
// (0.5 s doubling to 5 s) and says `present` again after every reconnect.
export class Socket {
  constructor({ token = "", present = null, onFrame = () => {}, onStatus = () => {}, onWelcome = () => {} }) {
    Object.assign(this, { token, present, onFrame, onStatus, onWelcome });
    this.pending = new Map();
    this.nextRef = 1;
    this.delay = 500;
    this.open();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.token ? `?token=${encodeURIComponent(this.token)}` : "";
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
    this.ws = ws;
    this.onStatus("connecting");
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.onStatus("offline");
      for (const [, waiter] of this.pending) waiter.reject({ code: "offline", message: "connection lost" });
      this.pending.clear();
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  receive(frame) {
    if (frame.type === "welcome") {
      this.delay = 500;
      this.welcome = frame;
      this.onStatus("online");
      if (this.present) this.send({ type: "present", ...this.present }).catch(() => {});
      this.onWelcome(frame);
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.ref && this.pending.has(frame.ref)) {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      if (frame.type === "ack") waiter.resolve(frame); else waiter.reject(frame);
    }
    this.onFrame(frame);
  }

  // Resolves with the ack, rejects with the error frame.
  send(message) {
    const ref = `s${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject({ code: "offline", message: "not connected" });
        return;
      }
      this.pending.set(ref, { resolve, reject });
      this.ws.send(JSON.stringify({ v: 1, ref, ...message }));
    });
  }
}
