// A signaling websocket that reconnects by itself: send() resolves with the ack frame
// (or rejects with the error frame); onWelcome runs after every (re)connect.

export class Signal {
  constructor({ onFrame, onWelcome, onStatus }) {
    this.onFrame = onFrame || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.onStatus = onStatus || (() => {});
    this.pending = new Map();
    this.nextRef = 1;
    this.retry = 500;
    this.open();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws = ws;
    this.onStatus("connecting");
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = () => {
      this.onStatus("offline");
      for (const [, waiter] of this.pending) waiter.reject({ code: "offline", message: "connection lost" });
      this.pending.clear();
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 5000);
    };
  }

  receive(frame) {
    if (frame.type === "welcome") {
      this.retry = 500;
      this.onStatus("online");
      this.onWelcome(frame);
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.ref && this.pending.has(frame.ref)) {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      if (frame.type === "ack") waiter.resolve(frame); else waiter.reject(frame);
    }
    this.onFrame(frame);
  }

  send(message) {
    const ref = `r${this.nextRef++}`;
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
