// The signaling websocket for Q&A pages: reconnects, replays from the last event id,
// and keeps one room's state. Question text is data: callers render it with textContent.

const ANON_KEY = "vb_anon_token";

export class RoomState {
  constructor(room) {
    this.room = room;
    this.eventId = 0;
    this.questions = new Map();
    this.myVotes = new Set();
    this.state = { mode: "premoderated", stage: null, timer: { seconds: 0, started_at: null } };
    this.queue = [];
  }

  // Returns true when the frame changed what a page shows.
  apply(frame) {
    if (frame.room !== this.room) return false;
    switch (frame.type) {
      case "snapshot":
        if (frame.full) this.questions.clear();
        for (const q of frame.questions) this.questions.set(q.id, q);
        for (const id of frame.removed) this.questions.delete(id);
        this.myVotes = new Set(frame.my_votes);
        this.state = frame.state;
        if (frame.queue) this.queue = frame.queue;
        break;
      case "question":
        this.questions.set(frame.question.id, frame.question);
        break;
      case "question_removed":
        this.questions.delete(frame.id);
        break;
      case "room":
        this.state = { mode: frame.mode, stage: frame.stage, timer: frame.timer };
        break;
      default:
        return false;
    }
    this.eventId = Math.max(this.eventId, frame.event_id || 0);
    return true;
  }

  // The moderator's ordered queue: pinned first, then votes, then oldest.
  orderedQueue() {
    return [...this.questions.values()]
      .filter((q) => q.state === "approved")
      .sort((a, b) => (b.rank || 0) - (a.rank || 0) || b.votes - a.votes ||
        a.asked_at - b.asked_at);
  }
}

export class Connection {
  constructor({ room, onFrame, onStatus, present }) {
    this.room = room;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.present = present || null;
    this.state = new RoomState(room);
    this.pending = new Map();
    this.nextRef = 1;
    this.retry = 500;
    this.welcome = null;
    this.open();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const anon = localStorage.getItem(ANON_KEY);
    const query = anon ? `?token=${encodeURIComponent(anon)}` : "";
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
    this.ws = ws;
    this.onStatus("connecting");
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      this.onStatus("offline");
      for (const [, waiter] of this.pending) waiter.reject({ code: "offline", message: "connection lost" });
      this.pending.clear();
      if (event.code === 4401 && anon) localStorage.removeItem(ANON_KEY);
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  receive(frame) {
    if (frame.type === "welcome") {
      this.welcome = frame;
      if (frame.token) localStorage.setItem(ANON_KEY, frame.token);
      this.retry = 500;
      this.onStatus("online");
      this.send({ type: "join", room: this.room, last_event_id: this.state.eventId }).catch(() => {});
      if (this.present) this.send({ type: "present", ...this.present }).catch(() => {});
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.ref && this.pending.has(frame.ref)) {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      if (frame.type === "ack") waiter.resolve(frame); else waiter.reject(frame);
    }
    const changed = this.state.apply(frame);
    this.onFrame(frame, changed);
  }

  // Sends a message; resolves with its ack, rejects with its error frame.
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

// Builds an element with text content only: never innerHTML for anything from users.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const STATE_LABELS = {
  pending: "waiting for the moderator",
  approved: "approved",
  on_stage: "on stage",
  answered: "answered",
  dismissed: "dismissed",
  merged: "merged",
};
