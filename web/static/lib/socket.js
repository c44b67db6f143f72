// @ts-check
// The one reconnecting client of the signaling websocket (/ws), shared by every page.
// Reconnects with capped exponential backoff and jitter, ignores events from a socket it
// has already replaced, stops on 4401 (a bad token: retrying cannot help) and, after each
// welcome, sends what the page asks to resume (the Q&A client's join with last_event_id).
import { setServerClock } from "./time.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
/** The server closes with this code when the token is missing, invalid or expired. */
export const CLOSE_UNAUTHORIZED = 4401;

/**
 * A frame from the server. Every frame has a `type`; the rest depends on it.
 * @typedef {{ type: string, ref?: string, [field: string]: any }} Frame
 */

/** @typedef {"connecting" | "online" | "offline" | "unauthorized"} SocketStatus */

/**
 * @typedef {object} SocketOptions
 * @property {string | (() => string)} [token] token for `?token=`, or a function read at each connect
 * @property {(frame: Frame) => void} [onFrame] every frame, after the socket's own handling
 * @property {(status: SocketStatus) => void} [onStatus]
 * @property {(welcome: Frame) => void} [onWelcome] after each welcome and the resume messages
 * @property {(error: RequestError) => void} [onUnauthorized] the server refused the token (4401); the socket has stopped
 * @property {() => Array<Record<string, unknown>>} [resume] messages to send after every welcome
 */

/** A request the server refused (an `error` frame), or one that could not be sent. */
export class RequestError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * The next reconnect delay: doubles up to the cap; the wait is drawn from its upper half
 * so that many pages dropped together do not all come back in the same instant.
 * @param {number} attempt 0 for the first reconnect
 * @param {() => number} [random]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return ceiling / 2 + random() * (ceiling / 2);
}

export class ReconnectingSocket {
  /** @param {SocketOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Frame | null} the last welcome: who the server says we are */
    this.welcome = null;
    /** @type {Map<string, {resolve: (frame: Frame) => void, reject: (error: RequestError) => void}>} */
    this.pending = new Map();
    this.nextRef = 1;
    this.failures = 0;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {RequestError | null} the error frame sent just before a 4401 close */
    this.lastRefusal = null;
    this.open();
  }

  /** @param {SocketStatus} status */
  status(status) {
    if (this.options.onStatus) this.options.onStatus(status);
  }

  open() {
    clearTimeout(this.timer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const { token } = this.options;
    const value = typeof token === "function" ? token() : token || "";
    const query = value ? `?token=${encodeURIComponent(value)}` : "";
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
    this.ws = ws;
    this.status("connecting");
    // A replaced socket may still deliver a late message or close: only the current counts.
    ws.onmessage = (event) => { if (ws === this.ws) this.receive(JSON.parse(event.data)); };
    ws.onclose = (event) => { if (ws === this.ws) this.closed(event.code); };
  }

  /** @param {number} code */
  closed(code) {
    this.ws = null;
    this.failPending("offline", "connection lost");
    if (code === CLOSE_UNAUTHORIZED) {
      this.stopped = true;
      this.status("unauthorized");
      const error = this.lastRefusal || new RequestError("unauthorized", "the token was not accepted");
      if (this.options.onUnauthorized) this.options.onUnauthorized(error);
      return;
    }
    if (this.stopped) return;
    this.status("offline");
    this.timer = setTimeout(() => this.open(), backoffDelay(this.failures));
    this.failures += 1;
  }

  /** Connects again now, with a fresh backoff (e.g. after the page replaced a bad token). */
  restart() {
    this.stopped = false;
    this.failures = 0;
    this.lastRefusal = null;
    const old = this.ws;
    this.ws = null;
    if (old) old.close();
    this.failPending("offline", "reconnecting");
    this.open();
  }

  /**
   * @param {string} code
   * @param {string} message
   */
  failPending(code, message) {
    for (const [, waiter] of this.pending) waiter.reject(new RequestError(code, message));
    this.pending.clear();
  }

  /** @param {Frame} frame */
  receive(frame) {
    if (frame.type === "welcome") {
      this.failures = 0;
      this.welcome = frame;
      // Every time the server sends is on its clock: in a rehearsal, the page runs it too.
      setServerClock(/** @type {{ rehearsal?: import("./time.js").ServerClock | null }} */ (frame).rehearsal);
      this.status("online");
      const resume = this.options.resume ? this.options.resume() : [];
      for (const message of resume) this.send(message).catch(() => {});
      if (this.options.onWelcome) this.options.onWelcome(frame);
    }
    if (frame.type === "error" && !frame.ref) this.lastRefusal = new RequestError(frame.code, frame.message);
    const waiter = frame.ref ? this.pending.get(frame.ref) : undefined;
    if (waiter && frame.ref && (frame.type === "ack" || frame.type === "error")) {
      this.pending.delete(frame.ref);
      if (frame.type === "ack") waiter.resolve(frame);
      else waiter.reject(new RequestError(frame.code, frame.message));
    }
    if (this.options.onFrame) this.options.onFrame(frame);
  }

  /**
   * Sends a message; resolves with its ack, rejects with a RequestError.
   * @param {Record<string, unknown>} message
   * @returns {Promise<Frame>}
   */
  send(message) {
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new RequestError("offline", "not connected"));
        return;
      }
      this.pending.set(ref, { resolve, reject });
      ws.send(JSON.stringify({ v: 1, ref, ...message }));
    });
  }
}
