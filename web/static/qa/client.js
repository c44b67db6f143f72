// @ts-check
// The Q&A side of the signaling websocket: one room's state, kept by joining with the
// last event id after every (re)connect so the server replays only what was missed.
// Question text is data: callers render it with textContent (lib/dom.js `el`).
import { ReconnectingSocket, RequestError } from "../lib/socket.js";

/** @typedef {import("../lib/socket.js").Frame} Frame */
/** @typedef {import("../lib/socket.js").SocketStatus} SocketStatus */
/** @typedef {"pending" | "approved" | "on_stage" | "answered" | "dismissed" | "merged"} QuestionState */

/**
 * A question as the server shows it to this client (moderators see more fields).
 * @typedef {object} Question
 * @property {string} id
 * @property {string} text
 * @property {string} language
 * @property {string} [name]
 * @property {string} origin "remote" | "in_room" | "sub_venue"
 * @property {string | null} [origin_venue]
 * @property {QuestionState} state
 * @property {number} votes
 * @property {number} asked_at
 * @property {number | null} [answered_at]
 * @property {Record<string, string>} translations
 * @property {number} [rank]
 * @property {boolean} [mine]
 * @property {boolean} [voted] whether this client voted for it, when the server says so
 * @property {string | null} [dismiss_reason]
 * @property {string | null} [merged_into]
 * @property {unknown[]} [edits]
 * @property {boolean} [suspect] moderators only: its votes came in a burst from one address
 * @property {string | null} [suspect_reason]
 */

/**
 * @typedef {object} RoomSettings
 * @property {string} mode "premoderated" | "open"
 * @property {string | null} stage the question on stage
 * @property {{ seconds: number, started_at: number | null }} timer
 */

const ANON_KEY = "vb_anon_token";

/**
 * The other of the two languages: the one a question's translation is in.
 * @param {Question} q
 */
export function otherLanguage(q) {
  return q.language === "zh" ? "en" : "zh";
}

export class RoomState {
  /** @param {string} room */
  constructor(room) {
    this.room = room;
    this.eventId = 0;
    /** @type {Map<string, Question>} */
    this.questions = new Map();
    /** @type {Set<string>} the questions this client has voted for */
    this.myVotes = new Set();
    /** @type {RoomSettings} */
    this.state = { mode: "premoderated", stage: null, timer: { seconds: 0, started_at: null } };
    /** @type {string[]} */
    this.queue = [];
  }

  /**
   * Folds one server frame in; true when it changed what a page shows.
   * @param {Frame} frame
   */
  apply(frame) {
    if (frame.room !== this.room) return false;
    switch (frame.type) {
      case "snapshot":
        if (frame.full) this.questions.clear();
        for (const q of /** @type {Question[]} */ (frame.questions)) this.questions.set(q.id, q);
        for (const id of /** @type {string[]} */ (frame.removed)) this.questions.delete(id);
        this.myVotes = new Set(frame.my_votes);
        this.state = frame.state;
        if (frame.queue) this.queue = frame.queue;
        break;
      case "question": {
        /** @type {Question} */
        const q = frame.question;
        this.questions.set(q.id, q);
        if (q.voted === true) this.myVotes.add(q.id);
        if (q.voted === false) this.myVotes.delete(q.id);
        break;
      }
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

  /** The moderator's ordered queue: moved to the front first, then votes, then oldest. */
  orderedQueue() {
    return [...this.questions.values()]
      .filter((q) => q.state === "approved")
      .sort((a, b) => (b.rank || 0) - (a.rank || 0) || b.votes - a.votes || a.asked_at - b.asked_at);
  }
}

/**
 * @typedef {object} ConnectionOptions
 * @property {string} room
 * @property {(frame: Frame, changed: boolean) => void} onFrame
 * @property {(status: SocketStatus) => void} [onStatus]
 * @property {{ channel?: string, venue?: string }} [present] what the page shows, for presence
 * @property {Array<Record<string, unknown>>} [also] more messages to send after every welcome
 */

export class Connection {
  /** @param {ConnectionOptions} options */
  constructor({ room, onFrame, onStatus, present, also = [] }) {
    this.room = room;
    this.state = new RoomState(room);
    /** @type {string | null} the anonymous token this connection was opened with */
    this.anonymous = null;
    this.socket = new ReconnectingSocket({
      token: () => { this.anonymous = localStorage.getItem(ANON_KEY); return this.anonymous || ""; },
      onStatus,
      resume: () => [
        { type: "join", room, last_event_id: this.state.eventId },
        ...(present ? [{ type: "present", ...present }] : []),
        ...also,
      ],
      onFrame: (frame) => {
        if (frame.type === "welcome" && frame.token) localStorage.setItem(ANON_KEY, frame.token);
        onFrame(frame, this.state.apply(frame));
      },
      onUnauthorized: () => {
        // A remembered anonymous token the server no longer knows (a new signing key):
        // forget it and come back as a new anonymous viewer. A real token stays refused.
        if (!this.anonymous) return;
        localStorage.removeItem(ANON_KEY);
        this.socket.restart();
      },
    });
  }

  /** The last welcome frame: the role and identity the server gave this page. */
  get welcome() {
    return this.socket.welcome;
  }

  /**
   * Sends a message; resolves with its ack, rejects with a RequestError.
   * @param {Record<string, unknown>} message
   */
  send(message) {
    return this.socket.send(message);
  }

  /**
   * Votes for a question (or withdraws, `on` false) and marks it as ours at once, from
   * the ack, instead of waiting for the next snapshot.
   * @param {string} question
   * @param {boolean} on
   */
  async vote(question, on) {
    try {
      await this.send({ type: "vote", room: this.room, question, on });
    } catch (error) {
      // The server already has it the way we want it: the mark was stale, not the vote.
      const code = error instanceof RequestError ? error.code : "";
      if (code !== "already_voted" && code !== "not_voted") throw error;
      on = code === "already_voted";
    }
    if (on) this.state.myVotes.add(question); else this.state.myVotes.delete(question);
  }
}

/** @type {Record<QuestionState, string>} */
export const STATE_LABELS = {
  pending: "waiting for the moderator",
  approved: "approved",
  on_stage: "on stage",
  answered: "answered",
  dismissed: "dismissed",
  merged: "merged",
};
