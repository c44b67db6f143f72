// @ts-check
// /qa/{session}: ask, vote (once; tap again to withdraw), see approved and answered.
// In the page's language (?lang=, the saved choice, the browser's: venue/i18n.js).
import { Connection, otherLanguage } from "./client.js";
import { byId, el, errorMessage } from "../lib/dom.js";
import { venueName } from "../lib/names.js";
import { chosenLanguage, translate } from "../venue/i18n.js";

/** @typedef {import("./client.js").Question} Question */

const root = byId("qa");
const room = root.dataset.room || "";
const list = byId("questions");
const mine = byId("mine");
const form = byId("ask-form", HTMLFormElement);
const text = byId("ask-text", HTMLTextAreaElement);
const message = byId("form-message");
let sort = "votes";
let lang = chosenLanguage();
let t = translate(lang);
/** @type {import("../lib/socket.js").SocketStatus} */
let status = "connecting";
// A question is most often asked in the language the page is read in.
byId("ask-language", HTMLSelectElement).value = lang;

function showStatus() {
  byId("status").dataset.state = status;
  byId("status").textContent = t(`socket_${status}`);
}
showStatus();

const connection = new Connection({
  room,
  onStatus: (s) => { status = s; showStatus(); },
  onFrame: (frame, changed) => {
    if (frame.type === "welcome" && frame.role === "operator") {
      const relayed = document.querySelector('#ask-origin option[value="sub_venue"]');
      if (relayed instanceof HTMLOptionElement) relayed.hidden = false;
    }
    if (frame.type === "notice" && frame.kind === "dismissed") {
      message.textContent = `${t("not_taken")} ${frame.reason}`;
    }
    if (changed) render();
  },
});

/** @param {Question} q */
function questionItem(q) {
  const voted = connection.state.myVotes.has(q.id);
  const canVote = q.state === "approved" || q.state === "on_stage";
  const vote = el("button", {
    class: `vote${voted ? " voted" : ""}`, type: "button", "aria-pressed": String(voted),
    disabled: !canVote, "aria-label": t(voted ? "withdraw_vote" : "vote_for"),
    onclick: () => toggleVote(q.id, !voted),
  }, "▲ ", el("span", { class: "count" }, q.votes));
  const other = otherLanguage(q);
  return el("li", { class: `question state-${q.state}`, "data-id": q.id },
    vote,
    el("div", { class: "body" },
      el("p", { class: "text", lang: q.language }, q.text),
      q.translations[other] ? el("p", { class: "translation", lang: other }, q.translations[other]) : null,
      el("p", { class: "meta" },
        q.name || t("anonymous"),
        q.origin === "sub_venue" ? ` · ${t("via")} ${venueName(q.origin_venue) || t("a_sub_venue")}` : "",
        q.state !== "approved" ? ` · ${t(q.state === "answered" ? "answered_state" : q.state)}` : "",
        q.dismiss_reason ? ` — ${q.dismiss_reason}` : "",
        q.merged_into ? ` into ${q.merged_into}` : "")));
}

function render() {
  const all = [...connection.state.questions.values()];
  const shown = all.filter((q) => ["approved", "on_stage", "answered"].includes(q.state));
  shown.sort(sort === "votes"
    ? (a, b) => Number(a.state === "answered") - Number(b.state === "answered") || b.votes - a.votes || a.asked_at - b.asked_at
    : (a, b) => b.asked_at - a.asked_at);
  list.replaceChildren(...shown.map(questionItem));
  byId("empty").hidden = shown.length > 0;
  const own = all.filter((q) => q.mine && !shown.includes(q));
  byId("mine-section").hidden = own.length === 0;
  mine.replaceChildren(...own.map(questionItem));
}

/**
 * @param {string} id
 * @param {boolean} on
 */
async function toggleVote(id, on) {
  try {
    await connection.vote(id, on);
    render();
  } catch (error) {
    message.textContent = errorMessage(error);
  }
}

text.addEventListener("input", () => {
  byId("counter").textContent = `${text.value.trim().length} / 500`;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  try {
    await connection.send({
      type: "ask", room, text: text.value,
      name: byId("ask-name", HTMLInputElement).value,
      language: byId("ask-language", HTMLSelectElement).value,
      origin: byId("ask-origin", HTMLSelectElement).value,
    });
    text.value = "";
    text.dispatchEvent(new Event("input"));
    message.textContent = t(connection.state.state.mode === "open" ? "thanks_open" : "thanks_moderated");
  } catch (error) {
    message.textContent = errorMessage(error);
  }
});

for (const button of document.querySelectorAll("button[data-sort]")) {
  if (!(button instanceof HTMLButtonElement)) continue;
  button.addEventListener("click", () => {
    sort = button.dataset.sort || "votes";
    for (const b of document.querySelectorAll("[data-sort]")) b.setAttribute("aria-pressed", String(b === button));
    render();
  });
}

byId("language").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  t = translate(lang, true);
  byId("ask-language", HTMLSelectElement).value = lang;
  message.textContent = "";
  showStatus();
  render();
});
