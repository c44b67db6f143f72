// /qa/{session}: ask, vote (once; tap again to withdraw), see approved and answered.
import { Connection, STATE_LABELS, el } from "./client.js";

const root = document.getElementById("qa");
const list = document.getElementById("questions");
const mine = document.getElementById("mine");
const form = document.getElementById("ask-form");
const text = document.getElementById("ask-text");
const message = document.getElementById("form-message");
let sort = "votes";

const connection = new Connection({
  room: root.dataset.room,
  onStatus: (s) => { document.getElementById("status").textContent = s; },
  onFrame: (frame, changed) => {
    if (frame.type === "welcome" && frame.role === "operator") {
      document.querySelector('#ask-origin option[value="sub_venue"]').hidden = false;
    }
    if (frame.type === "notice" && frame.kind === "dismissed") {
      message.textContent = `Your question was not taken: ${frame.reason}`;
    }
    if (changed) render();
  },
});

function questionItem(q) {
  const voted = connection.state.myVotes.has(q.id);
  const canVote = q.state === "approved" || q.state === "on_stage";
  const vote = el("button", {
    class: `vote${voted ? " voted" : ""}`, type: "button", "aria-pressed": String(voted),
    disabled: !canVote, "aria-label": voted ? "Withdraw vote" : "Vote",
    onclick: () => toggleVote(q.id, !voted),
  }, "▲ ", el("span", { class: "count" }, q.votes));
  const other = q.language === "zh" ? "en" : "zh";
  return el("li", { class: `question state-${q.state}`, "data-id": q.id },
    vote,
    el("div", { class: "body" },
      el("p", { class: "text", lang: q.language }, q.text),
      q.translations[other] ? el("p", { class: "translation", lang: other }, q.translations[other]) : null,
      el("p", { class: "meta" },
        q.name || "Anonymous",
        q.origin === "sub_venue" ? ` · via ${q.origin_venue} sub-venue` : "",
        q.state !== "approved" ? ` · ${STATE_LABELS[q.state]}` : "",
        q.dismiss_reason ? ` — ${q.dismiss_reason}` : "",
        q.merged_into ? ` into ${q.merged_into}` : "")));
}

function render() {
  const all = [...connection.state.questions.values()];
  const shown = all.filter((q) => ["approved", "on_stage", "answered"].includes(q.state));
  shown.sort(sort === "votes"
    ? (a, b) => (a.state === "answered") - (b.state === "answered") || b.votes - a.votes || a.asked_at - b.asked_at
    : (a, b) => b.asked_at - a.asked_at);
  list.replaceChildren(...shown.map(questionItem));
  document.getElementById("empty").hidden = shown.length > 0;
  const own = all.filter((q) => q.mine && !shown.includes(q));
  document.getElementById("mine-section").hidden = own.length === 0;
  mine.replaceChildren(...own.map(questionItem));
}

async function toggleVote(id, on) {
  try {
    await connection.send({ type: "vote", room: root.dataset.room, question: id, on });
    if (on) connection.state.myVotes.add(id); else connection.state.myVotes.delete(id);
    render();
  } catch (error) {
    message.textContent = error.message;
  }
}

text.addEventListener("input", () => {
  document.getElementById("counter").textContent = `${text.value.trim().length} / 500`;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  try {
    await connection.send({
      type: "ask", room: root.dataset.room, text: text.value,
      name: document.getElementById("ask-name").value,
      language: document.getElementById("ask-language").value,
      origin: document.getElementById("ask-origin").value,
    });
    text.value = "";
    text.dispatchEvent(new Event("input"));
    message.textContent = connection.state.state.mode === "open"
      ? "Thanks! Your question is in the list."
      : "Thanks! A moderator will look at your question.";
  } catch (error) {
    message.textContent = error.message;
  }
});

for (const button of document.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    sort = button.dataset.sort;
    for (const b of document.querySelectorAll("[data-sort]")) b.setAttribute("aria-pressed", String(b === button));
    render();
  });
}
