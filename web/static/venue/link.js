// A WHEP player or WHIP publisher that keeps itself connected: when the session fails,
// is ended by the server or the server restarts, it starts a new one with backoff
// (0.5 s doubling to 5 s) and reports its state; the page never needs a reload.
import { exchange, preferCodec } from "../webrtc-http.js";

const FIRST_DELAY = 500;
const MAX_DELAY = 5000;
const CHECK_EVERY = 1000;
const STALL_MS = 4000;

export class Link {
  // kind: "play" | "publish"; endpoint: /whep/... or /whip/...; stream(): MediaStream to send.
  constructor({ kind, endpoint, token = "", video = null, stream = null, codec = "", onState = () => {} }) {
    Object.assign(this, { kind, endpoint, token, video, codec, onState });
    this.streamSource = stream;
    this.pc = null;
    this.url = null;
    this.delay = FIRST_DELAY;
    this.wanted = false;
    this.timer = null;
    this.checker = null;
    this.attempt = 0;
    this.reconnects = 0;
    this.state = "idle";
  }

  start() {
    if (this.wanted) return;
    this.wanted = true;
    this.delay = FIRST_DELAY;
    this.connect();
  }

  async stop() {
    this.wanted = false;
    clearTimeout(this.timer);
    const url = this.url;
    this.teardown();
    this.setState("idle", "");
    if (url) await fetch(url, { method: "DELETE", headers: this.headers() }).catch(() => {});
  }

  // A hint that the server is back (its websocket reconnected): retry now, from the start
  // of the backoff, instead of waiting out a long delay.
  nudge() {
    if (!this.wanted || this.state === "live" || this.state === "connecting") return;
    clearTimeout(this.timer);
    this.delay = FIRST_DELAY;
    this.connect();
  }

  headers() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  teardown() {
    clearInterval(this.checker);
    this.checker = null;
    if (this.pc) this.pc.close();
    this.pc = null;
    this.url = null;
  }

  async connect() {
    const attempt = ++this.attempt;
    this.teardown();
    this.setState("connecting", "");
    const pc = new RTCPeerConnection();
    this.pc = pc;
    try {
      if (this.kind === "play") {
        pc.addTransceiver("video", { direction: "recvonly" });
        pc.addTransceiver("audio", { direction: "recvonly" });
        const media = new MediaStream();
        pc.addEventListener("track", (event) => {
          media.addTrack(event.track);
          if (this.video) this.video.srcObject = media;
        });
      } else {
        const stream = this.streamSource();
        for (const track of stream.getTracks()) {
          const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
          if (track.kind === "video" && this.codec) preferCodec(t, `video/${this.codec}`);
        }
      }
      pc.addEventListener("connectionstatechange", () => this.watchState(pc));
      const url = await exchange(pc, this.endpoint, this.token);
      if (attempt !== this.attempt || !this.wanted) return;
      this.url = url;
      this.delay = FIRST_DELAY;
      this.setState("live", "");
      this.lastBytes = -1;
      this.lastProgress = performance.now();
      this.checker = setInterval(() => this.check(pc, url), CHECK_EVERY);
    } catch (error) {
      if (attempt !== this.attempt || !this.wanted) return;
      const waiting = error.status === 409;
      this.retry(waiting ? "waiting" : "retrying", error.message || String(error));
    }
  }

  watchState(pc) {
    if (pc !== this.pc || !this.wanted) return;
    if (pc.connectionState === "failed" || pc.connectionState === "closed") {
      this.retry("retrying", `connection ${pc.connectionState}`);
    }
  }

  // Three signs a session is gone: a no-op PATCH on the session URL 404s (ended, or a restarted server
  // that never heard of it), the request fails (server down), or media stops moving.
  async check(pc, url) {
    if (pc !== this.pc || this.busy) return;
    this.busy = true;
    try {
      // An empty trickle fragment (RFC 8840) changes nothing but 404s for a dead session.
      const response = await fetch(url, {
        method: "PATCH", body: "",
        headers: { ...this.headers(), "Content-Type": "application/trickle-ice-sdpfrag" },
      });
      if (pc !== this.pc) return;
      if (response.status === 404) { this.retry("retrying", "the server ended the session"); return; }
      const bytes = await movedBytes(pc, this.kind);
      if (pc !== this.pc) return;
      if (bytes > this.lastBytes) {
        this.lastBytes = bytes;
        this.lastProgress = performance.now();
      } else if (this.kind === "play" && bytes > 0 && performance.now() - this.lastProgress > STALL_MS) {
        // Media flowed and stopped: the publisher went away or the path broke.
        this.retry("retrying", "no media for 4 s");
      }
    } catch (error) {
      if (pc === this.pc) this.retry("retrying", "the server is unreachable");
    } finally {
      this.busy = false;
    }
  }

  retry(state, detail) {
    if (!this.wanted) return;
    this.teardown();
    clearTimeout(this.timer);
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.reconnects += 1;
    this.setState(state, `${detail} · retry in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => { if (this.wanted) this.connect(); }, delay);
  }
}

async function movedBytes(pc, kind) {
  let bytes = 0;
  (await pc.getStats()).forEach((r) => {
    if (kind === "play" && r.type === "inbound-rtp") bytes += r.bytesReceived || 0;
    if (kind === "publish" && r.type === "outbound-rtp") bytes += r.bytesSent || 0;
  });
  return bytes;
}
