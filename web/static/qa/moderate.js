// /moderate/{session}: the queue and every moderation action, usable from the keyboard.
import { Connection, STATE_LABELS, el } from "./client.js";

const root = document.getElementById("moderate");
const room = root.dataset.room;
const message = document.getElementById("form-message");
let selected = null;

const connection = new Connection({
  room,
  onStatus: (s) => { document.getElementById("status").textContent = s; },
  onFrame: (frame, changed) => {
    if (frame.type === "welcome") connection.send({ type: "watch_presence" }).catch(() => {});
    if (frame.type === "presence") document.getElementById("presence").textContent = presenceText(frame);
    if (changed) render();
  },
});

function presenceText(p) {
  const lines = [`connections: ${p.connections}`];
  for (const [name, table] of [["viewers by channel", p.viewers_by_channel],
    ["viewers by venue", p.viewers_by_venue], ["operators by venue", p.operators_by_venue],
    ["moderators by room", p.moderators_by_room]]) {
    const parts = Object.entries(table).map(([k, v]) => `${k} ${v}`);
    lines.push(`${name}: ${parts.join(", ") || "none"}`);
  }
  return lines.join("\n");
}

async function act(type, fields = {}) {
  message.textContent = "";
  try {
    await connection.send({ type, room, ...fields });
  } catch (error) {
    message.textContent = `${type}: ${error.message}`;
  }
}

const actions = {
  a: (q) => act("approve", { question: q }),
  d: (q) => { const reason = prompt("Reason for dismissing (the asker is told):", "Off topic"); if (reason) act("dismiss", { question: q, reason }); },
  e: (q) => { const text = prompt("Edit question:", connection.state.questions.get(q).text); if (text) act("edit", { question: q, text }); },
  m: (q) => { const into = prompt("Merge into which question id?", ""); if (into) act("merge", { question: q, into }); },
  t: (q) => { const cur = connection.state.questions.get(q); const lang = cur.language === "zh" ? "en" : "zh";
    const text = prompt(`Translation (${lang}):`, cur.translations[lang] || ""); if (text) act("translate", { question: q, language: lang, text }); },
  s: (q) => act("stage", { question: q }),
  x: (q) => act("answered", { question: q }),
  p: (q) => act("prioritize", { question: q }),
};

// The actions that make sense in each state (the server checks again).
const ACTIONS_BY_STATE = {
  pending: [["a", "Approve"], ["d", "Dismiss"], ["e", "Edit"], ["m", "Merge"], ["t", "Translate"]],
  approved: [["s", "Stage"], ["p", "To front"], ["x", "Answered"], ["e", "Edit"], ["t", "Translate"],
    ["m", "Merge"], ["d", "Dismiss"]],
  on_stage: [["x", "Answered"], ["u", "Unstage"], ["e", "Edit"], ["t", "Translate"]],
  answered: [["t", "Translate"]],
  dismissed: [],
  merged: [],
};

function item(q) {
  const buttons = ACTIONS_BY_STATE[q.state].map(([key, label]) =>
    el("button", { type: "button", class: "action", "data-action": key, onclick: () => run(key, q.id) }, label));
  const other = q.language === "zh" ? "en" : "zh";
  return el("li", {
    class: `question state-${q.state}${selected === q.id ? " selected" : ""}`, "data-id": q.id, tabindex: "0",
    onfocus: () => { selected = q.id; highlight(); },
  },
  el("span", { class: "votes" }, q.votes),
  el("div", { class: "body" },
    el("p", { class: "text", lang: q.language }, q.text),
    q.translations[other] ? el("p", { class: "translation", lang: other }, q.translations[other]) : null,
    el("p", { class: "meta" }, `${q.id} · ${q.name || "Anonymous"} · ${q.origin}`,
      q.origin_venue ? ` (${q.origin_venue})` : "", ` · ${STATE_LABELS[q.state]}`,
      q.dismiss_reason ? ` — ${q.dismiss_reason}` : "", q.merged_into ? ` → ${q.merged_into}` : "",
      q.edits && q.edits.length ? ` · edited ${q.edits.length}×` : ""),
    buttons.length ? el("div", { class: "actions" }, ...buttons) : null));
}

function run(key, id) {
  if (key === "u") act("unstage"); else actions[key](id);
}

function order() {
  const qs = [...connection.state.questions.values()];
  return {
    pending: qs.filter((q) => q.state === "pending").sort((a, b) => a.asked_at - b.asked_at),
    queue: connection.state.orderedQueue(),
    stage: qs.filter((q) => q.state === "on_stage" || q.state === "answered")
      .sort((a, b) => (b.state === "on_stage") - (a.state === "on_stage") || b.answered_at - a.answered_at),
    closed: qs.filter((q) => q.state === "dismissed" || q.state === "merged"),
  };
}

function render() {
  const cols = order();
  for (const name of Object.keys(cols)) {
    document.getElementById(`col-${name}`).replaceChildren(...cols[name].map(item));
  }
  document.getElementById("n-pending").textContent = `(${cols.pending.length})`;
  document.getElementById("n-queue").textContent = `(${cols.queue.length})`;
  document.getElementById("open-mode").checked = connection.state.state.mode === "open";
  highlight();
}

function highlight() {
  for (const node of root.querySelectorAll(".question")) node.classList.toggle("selected", node.dataset.id === selected);
}

function visibleIds() {
  return [...root.querySelectorAll(".question")].map((node) => node.dataset.id);
}

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const ids = visibleIds();
  if (event.key === "j" || event.key === "k") {
    const at = ids.indexOf(selected);
    const next = event.key === "j" ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0);
    selected = ids[next] ?? null;
    root.querySelector(`.question[data-id="${selected}"]`)?.focus();
    highlight();
  } else if (event.key === "n") {
    act("next");
  } else if (event.key === "u") {
    act("unstage");
  } else if (actions[event.key] && selected) {
    actions[event.key](selected);
  }
});

document.getElementById("open-mode").addEventListener("change", (event) => {
  act("set_mode", { mode: event.target.checked ? "open" : "premoderated" });
});
document.getElementById("timer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("set_timer", { seconds: Number(document.getElementById("timer").value) });
});
document.getElementById("timer-clear").addEventListener("click", () => act("set_timer", { seconds: 0 }));
