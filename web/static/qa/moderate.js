// @ts-check
// /moderate/{session}: the queue and every moderation action, usable from the keyboard.
// Dismiss, edit, translate and merge open a small form inside the question itself.
import { Connection, STATE_LABELS, otherLanguage } from "./client.js";
import { openActionForm } from "./action_form.js";
import { byId, el, errorMessage } from "../lib/dom.js";
import { channelName, sessionName, venueName } from "../lib/names.js";

/** @typedef {import("./client.js").Question} Question */
/** @typedef {import("./action_form.js").FormKind} FormKind */

const root = byId("moderate");
const room = root.dataset.room || "";
const message = byId("form-message");
/** @type {string | null} */
let selected = null;
/** @type {{ question: string, node: HTMLFormElement } | null} the form open on a question */
let openForm = null;

const connection = new Connection({
  room,
  onStatus: (s) => { byId("status").textContent = s; },
  onFrame: (frame, changed) => {
    if (frame.type === "welcome") connection.send({ type: "watch_presence" }).catch(() => {});
    if (frame.type === "presence") showPresence(frame);
    if (changed) render();
  },
});

/** @type {Record<string, string>} */
const ORIGINS = { remote: "watching online", in_room: "in the hall", sub_venue: "relayed from a sub-venue" };

/**
 * Who is connected, in words: one line per kind, names instead of ids.
 * @param {import("../lib/socket.js").Frame} p
 */
function showPresence(p) {
  /** @type {Array<[string, Record<string, number>, (id: string) => string]>} */
  const tables = [
    ["Viewers by channel", p.viewers_by_channel || {}, channelName],
    ["Viewers by venue", p.viewers_by_venue || {}, venueName],
    ["Operators online", p.operators_by_venue || {}, venueName],
    ["Moderators", p.moderators_by_room || {}, sessionName],
  ];
  const rows = tables.map(([label, counts, name]) => {
    const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([id, n]) => `${name(id)}: ${n}`);
    return el("div", {}, el("dt", {}, label), el("dd", {}, parts.join(" · ") || "none"));
  });
  byId("presence").replaceChildren(
    el("div", {}, el("dt", {}, "Connections"), el("dd", {}, p.connections ?? 0)), ...rows);
}

/**
 * @param {string} type
 * @param {Record<string, unknown>} [fields]
 */
async function act(type, fields = {}) {
  message.textContent = "";
  try {
    await connection.send({ type, room, ...fields });
  } catch (error) {
    message.textContent = `${type}: ${errorMessage(error)}`;
  }
}

/**
 * Opens the in-place form of `kind` on question `id` (or closes it when it is open).
 * @param {FormKind} kind
 * @param {string} id
 */
function showForm(kind, id) {
  const q = connection.state.questions.get(id);
  if (!q) return;
  const node = openActionForm(kind, q, [...connection.state.questions.values()], {
    // A refusal stays in the form, next to what the moderator typed.
    submit: async (fields) => {
      await connection.send({ type: kind, room, question: id, ...fields });
      closeForm();
      return true;
    },
    cancel: () => closeForm(),
  });
  openForm = { question: id, node };
  selected = id;
  render();
  const first = node.querySelector("textarea, input, select");
  if (first instanceof HTMLElement) first.focus();
}

function closeForm() {
  const id = openForm && openForm.question;
  openForm = null;
  render();
  if (id) root.querySelector(`.question[data-id="${CSS.escape(id)}"]`)?.closest("li")?.focus();
}

/** @type {Record<string, (id: string) => void>} */
const actions = {
  a: (q) => { act("approve", { question: q }); },
  d: (q) => showForm("dismiss", q),
  e: (q) => showForm("edit", q),
  m: (q) => showForm("merge", q),
  t: (q) => showForm("translate", q),
  s: (q) => { act("stage", { question: q }); },
  x: (q) => { act("answered", { question: q }); },
  p: (q) => { act("prioritize", { question: q }); },
};

// The actions that make sense in each state (the server checks again).
/** @type {Record<string, Array<[string, string]>>} */
const ACTIONS_BY_STATE = {
  pending: [["a", "Approve"], ["d", "Dismiss"], ["e", "Edit"], ["m", "Merge"], ["t", "Translate"]],
  approved: [["s", "Stage"], ["p", "To front"], ["x", "Answered"], ["e", "Edit"], ["t", "Translate"],
    ["m", "Merge"], ["d", "Dismiss"]],
  on_stage: [["x", "Answered"], ["u", "Unstage"], ["e", "Edit"], ["t", "Translate"]],
  answered: [["t", "Translate"]],
  dismissed: [],
  merged: [],
};

/** @param {Question} q */
function origin(q) {
  const where = ORIGINS[q.origin] || q.origin;
  if (q.origin === "sub_venue" && q.origin_venue) return `relayed from ${venueName(q.origin_venue)}`;
  return where;
}

/** @param {string | null | undefined} id */
function questionText(id) {
  const q = id ? connection.state.questions.get(id) : undefined;
  return q ? `“${q.text.length > 60 ? `${q.text.slice(0, 60)}…` : q.text}”` : "another question";
}

/** @param {Question} q */
function item(q) {
  const buttons = ACTIONS_BY_STATE[q.state].map(([key, label]) =>
    el("button", { type: "button", class: "action", "data-action": key, onclick: () => run(key, q.id) }, label));
  const other = otherLanguage(q);
  const form = openForm && openForm.question === q.id ? openForm.node : null;
  return el("li", {
    class: `question state-${q.state}${selected === q.id ? " selected" : ""}`, "data-id": q.id, tabindex: "0",
    onfocus: () => { selected = q.id; highlight(); },
  },
  el("span", { class: "votes", title: "votes" }, q.votes),
  el("div", { class: "body" },
    el("p", { class: "text", lang: q.language }, q.text),
    q.translations[other] ? el("p", { class: "translation", lang: other }, q.translations[other]) : null,
    el("p", { class: "meta" }, `${q.name || "Anonymous"} · ${origin(q)} · ${STATE_LABELS[q.state]}`,
      q.dismiss_reason ? ` — ${q.dismiss_reason}` : "",
      q.merged_into ? ` into ${questionText(q.merged_into)}` : "",
      q.edits && q.edits.length ? ` · edited ${q.edits.length}×` : ""),
    q.suspect ? el("p", { class: "suspect", role: "note" },
      `⚠ Suspicious votes: ${q.suspect_reason || "many votes in a burst from one address"}`) : null,
    buttons.length ? el("div", { class: "actions" }, ...buttons) : null,
    form));
}

/**
 * @param {string} key
 * @param {string} id
 */
function run(key, id) {
  if (key === "u") act("unstage"); else actions[key](id);
}

function order() {
  const qs = [...connection.state.questions.values()];
  return {
    pending: qs.filter((q) => q.state === "pending").sort((a, b) => a.asked_at - b.asked_at),
    queue: connection.state.orderedQueue(),
    stage: qs.filter((q) => q.state === "on_stage" || q.state === "answered")
      .sort((a, b) => Number(b.state === "on_stage") - Number(a.state === "on_stage")
        || (b.answered_at || 0) - (a.answered_at || 0)),
    closed: qs.filter((q) => q.state === "dismissed" || q.state === "merged"),
  };
}

function render() {
  // The open form moves into the re-rendered question: keep its focus and caret.
  const active = document.activeElement;
  const typing = openForm && active && openForm.node.contains(active) ? active : null;
  const caret = typing instanceof HTMLInputElement || typing instanceof HTMLTextAreaElement
    ? [typing.selectionStart, typing.selectionEnd] : null;
  if (openForm && !connection.state.questions.has(openForm.question)) openForm = null;
  const cols = order();
  for (const [name, questions] of Object.entries(cols)) {
    byId(`col-${name}`).replaceChildren(...questions.map(item));
  }
  byId("n-pending").textContent = `(${cols.pending.length})`;
  byId("n-queue").textContent = `(${cols.queue.length})`;
  byId("open-mode", HTMLInputElement).checked = connection.state.state.mode === "open";
  highlight();
  if (typing instanceof HTMLElement && typing.isConnected) {
    typing.focus();
    if (caret && (typing instanceof HTMLInputElement || typing instanceof HTMLTextAreaElement)) {
      typing.setSelectionRange(caret[0], caret[1]);
    }
  }
}

function highlight() {
  for (const node of root.querySelectorAll(".question")) {
    if (node instanceof HTMLElement) node.classList.toggle("selected", node.dataset.id === selected);
  }
}

function visibleIds() {
  return [...root.querySelectorAll(".question")].map((node) => node instanceof HTMLElement ? node.dataset.id || "" : "");
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof Element && target.matches("input, textarea, select")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const ids = visibleIds();
  if (event.key === "j" || event.key === "k") {
    const at = selected === null ? -1 : ids.indexOf(selected);
    const next = event.key === "j" ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0);
    selected = ids[next] ?? null;
    if (selected) root.querySelector(`.question[data-id="${CSS.escape(selected)}"]`)?.closest("li")?.focus();
    highlight();
  } else if (event.key === "n") {
    act("next");
  } else if (event.key === "u") {
    act("unstage");
  } else if (actions[event.key] && selected) {
    event.preventDefault(); // the key must not also land in the form it opens
    actions[event.key](selected);
  }
});

byId("open-mode", HTMLInputElement).addEventListener("change", (event) => {
  const box = /** @type {HTMLInputElement} */ (event.target);
  act("set_mode", { mode: box.checked ? "open" : "premoderated" });
});
byId("timer-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  act("set_timer", { seconds: Number(byId("timer", HTMLInputElement).value) });
});
byId("timer-clear").addEventListener("click", () => act("set_timer", { seconds: 0 }));
