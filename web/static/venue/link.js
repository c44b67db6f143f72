// @ts-check
// A WHEP player or WHIP publisher that keeps itself connected: when the session fails,
// is ended by the server or the server restarts, it starts a new one with backoff
// (0.5 s doubling to 5 s) and reports its state; the page never needs a reload.
// Requests carry the page's cookie (the invite link's sign-in) and a Bearer token only
// when the page was given one (a stream key). The endpoint may answer 307 to another node
// (webrtc-http.js follows it); every new attempt starts at the ENTRY endpoint again, so a
// node that died is left behind: the entry node sends the page to one that is up.
import { ExchangeError, discoverIceServers, iceTransportPolicy, offerTo, preferCodec, reloadWhenSteeredToANewNode } from "../webrtc-http.js";

/** @typedef {"idle" | "connecting" | "live" | "waiting" | "retrying" | "error"} LinkState */

/**
 * @typedef {object} LinkOptions
 * @property {"play" | "publish"} kind
 * @property {string} endpoint /whep/... or /whip/...
 * @property {string} [token]
 * @property {HTMLMediaElement | null} [video] where a player shows (or plays) what it receives
 * @property {boolean} [audioOnly] a player that asks for audio only (an interpreter's floor)
 * @property {boolean} [lowLatency] a player that keeps no jitter buffer it can avoid
 * @property {(() => MediaStream | null) | null} [stream] what a publisher sends
 * @property {string} [codec] the video codec a publisher prefers
 * @property {(state: LinkState, detail: string) => void} [onState]
 */

const FIRST_DELAY = 500;
const MAX_DELAY = 5000;
const CHECK_EVERY = 1000;
const STALL_MS = 4000;
// ICE may say "disconnected" for a moment and recover by itself; longer is a lost path.
const DISCONNECTED_MS = 3000;

export class Link {
  /** @param {LinkOptions} options */
  constructor({
    kind, endpoint, token = "", video = null, stream = null, codec = "", onState = () => {},
    audioOnly = false, lowLatency = false,
  }) {
    this.kind = kind;
    this.audioOnly = audioOnly;
    this.lowLatency = lowLatency;
    this.endpoint = endpoint;
    this.token = token;
    this.video = video;
    this.codec = codec;
    this.onState = onState;
    this.streamSource = stream;
    reloadWhenSteeredToANewNode();
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {string | null} */
    this.url = null;
    this.delay = FIRST_DELAY;
    this.wanted = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.checker = undefined;
    this.attempt = 0;
    this.reconnects = 0;
    this.busy = false;
    this.lastBytes = -1;
    this.lastProgress = 0;
    /** @type {LinkState} */
    this.state = "idle";
    /** HTTP status of the last refused offer (503: the node is full), 0 when none */
    this.lastStatus = 0;
    /** @type {number} performance.now() of the next attempt while waiting to retry */
    this.retryAt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.disconnectTimer = undefined;
  }

  /** Whole seconds until the next attempt (0 when none is scheduled). */
  retryIn() {
    return Math.max(0, Math.ceil((this.retryAt - performance.now()) / 1000));
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
    // DELETE before closing the connection: closed first, the server may end the session
    // on its own and answer the DELETE 404. Bounded, so a dead server cannot hold us.
    if (url) {
      await fetch(url, {
        method: "DELETE", headers: this.headers(), credentials: "same-origin", signal: AbortSignal.timeout(2000),
      }).catch(() => {});
    }
    this.teardown();
    this.setState("idle", "");
  }

  // A hint that the server is back (its websocket reconnected): retry now, from the start
  // of the backoff, instead of waiting out a long delay.
  nudge() {
    if (!this.wanted || this.state === "live" || this.state === "connecting") return;
    clearTimeout(this.timer);
    this.delay = FIRST_DELAY;
    this.connect();
  }

  /** @returns {Record<string, string>} */
  headers() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  /**
   * @param {LinkState} state
   * @param {string} detail
   */
  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  teardown() {
    clearTimeout(this.disconnectTimer);
    clearInterval(this.checker);
    this.checker = undefined;
    if (this.pc) this.pc.close();
    this.pc = null;
    this.url = null;
  }

  async connect() {
    const attempt = ++this.attempt;
    this.retryAt = 0;
    this.teardown();
    this.setState("connecting", "");
    const { iceServers, origin } = await discoverIceServers(this.endpoint);
    if (attempt !== this.attempt || !this.wanted) return;
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: iceTransportPolicy() });
    this.pc = pc;
    try {
      if (this.kind === "play") {
        if (!this.audioOnly) pc.addTransceiver("video", { direction: "recvonly" });
        const audio = pc.addTransceiver("audio", { direction: "recvonly" });
        if (this.lowLatency) playAsSoonAsPossible(audio.receiver);
        const media = new MediaStream();
        pc.addEventListener("track", (event) => {
          media.addTrack(event.track);
          if (this.video) this.video.srcObject = media;
        });
      } else {
        const stream = this.streamSource ? this.streamSource() : null;
        if (!stream) throw new Error("no camera or microphone to send");
        for (const track of stream.getTracks()) {
          const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
          if (track.kind === "video" && this.codec) preferCodec(t, `video/${this.codec}`);
        }
      }
      pc.addEventListener("connectionstatechange", () => this.watchState(pc));
      const answered = await offerTo(pc, this.endpoint, this.token);
      const url = answered.session;
      if (attempt !== this.attempt || !this.wanted) return;
      if (answered.origin !== origin) {
        // Steered to another node than the OPTIONS was (the nodes changed in between):
        // its ICE servers may differ. Start again; the entry node answers both alike now.
        void fetch(url, { method: "DELETE", headers: this.headers(), credentials: "same-origin" }).catch(() => {});
        throw new Error("sent to another node than expected; starting again");
      }
      this.url = url;
      this.delay = FIRST_DELAY;
      this.setState("live", "");
      this.lastBytes = -1;
      this.lastProgress = performance.now();
      this.checker = setInterval(() => this.check(pc, url), CHECK_EVERY);
    } catch (error) {
      if (attempt !== this.attempt || !this.wanted) return;
      const status = error instanceof ExchangeError ? error.status : 0;
      this.lastStatus = status;
      // fetch() rejects with a TypeError when it cannot reach the server at all.
      const detail = error instanceof TypeError ? "the server is unreachable"
        : error instanceof Error ? error.message : String(error);
      if (status === 401 || status === 403) {
        // Retrying soon cannot help; keep trying slowly in case the sign-in is renewed.
        this.delay = MAX_DELAY;
        this.retry("error", detail);
        return;
      }
      this.retry(status === 409 ? "waiting" : "retrying", detail);
    }
  }

  /** @param {RTCPeerConnection} pc */
  watchState(pc) {
    if (pc !== this.pc || !this.wanted) return;
    if (pc.connectionState === "failed" || pc.connectionState === "closed") {
      this.retry("retrying", `connection ${pc.connectionState}`);
    } else if (pc.connectionState === "disconnected") {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = setTimeout(() => {
        if (pc === this.pc && pc.connectionState === "disconnected") this.retry("retrying", "connection lost");
      }, DISCONNECTED_MS);
    }
  }

  // Three signs a session is gone: a no-op PATCH on the session URL 404s (ended, or a restarted server
  // that never heard of it), the request fails (server down), or media stops moving.
  /**
   * @param {RTCPeerConnection} pc
   * @param {string} url
   */
  async check(pc, url) {
    if (pc !== this.pc || this.busy) return;
    this.busy = true;
    try {
      // An empty trickle fragment (RFC 8840) changes nothing but 404s for a dead session.
      const response = await fetch(url, {
        method: "PATCH", body: "", credentials: "same-origin",
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
    } catch {
      if (pc === this.pc) this.retry("retrying", "the server is unreachable");
    } finally {
      this.busy = false;
    }
  }

  /**
   * @param {LinkState} state
   * @param {string} detail
   */
  retry(state, detail) {
    if (!this.wanted) return;
    this.teardown();
    clearTimeout(this.timer);
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.reconnects += 1;
    this.retryAt = performance.now() + delay;
    this.setState(state, `${detail} · retry in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => { this.retryAt = 0; if (this.wanted) this.connect(); }, delay);
  }
}

/**
 * Ask the receiver to play out at once (no extra jitter buffer): Chromium's
 * `jitterBufferTarget` (standard) and its older `playoutDelayHint`, both in place.
 * @param {RTCRtpReceiver} receiver
 */
function playAsSoonAsPossible(receiver) {
  const tunable = /** @type {RTCRtpReceiver & { jitterBufferTarget?: number | null, playoutDelayHint?: number }} */ (receiver);
  try {
    tunable.jitterBufferTarget = 0;
  } catch { /* not supported: the default buffer */ }
  try {
    tunable.playoutDelayHint = 0;
  } catch { /* not supported */ }
}

/**
 * Media bytes the connection has received (play) or sent (publish) so far.
 * @param {RTCPeerConnection} pc
 * @param {"play" | "publish"} kind
 */
async function movedBytes(pc, kind) {
  let bytes = 0;
  (await pc.getStats()).forEach((r) => {
    if (kind === "play" && r.type === "inbound-rtp") bytes += r.bytesReceived || 0;
    if (kind === "publish" && r.type === "outbound-rtp") bytes += r.bytesSent || 0;
  });
  return bytes;
}
