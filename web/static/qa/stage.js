// @ts-check
// /stage/{session}: the confidence monitor beside the speaker. Large type, no controls.
import { Connection, otherLanguage } from "./client.js";
import { byId } from "../lib/dom.js";
import { venueName } from "../lib/names.js";
import { pageNow } from "../lib/time.js";
import { CaptionView } from "../lib/captions.js";

const root = byId("stage");
const connection = new Connection({
  room: root.dataset.room || "",
  onStatus: (s) => { byId("status").textContent = s === "online" ? "" : s; },
  onFrame: (frame, changed) => { captions.receive(frame); if (changed) render(); },
});
// Live captions under the question, in the language picked on the stage (or ?lang=).
const captions = new CaptionView(byId("captions"), { send: (message) => connection.send(message) });

function render() {
  const { stage } = connection.state.state;
  const q = stage ? connection.state.questions.get(stage) : undefined;
  const textBox = byId("stage-text");
  const translationBox = byId("stage-translation");
  byId("stage-empty").hidden = Boolean(q);
  textBox.textContent = q ? q.text : "";
  translationBox.textContent = q ? (q.translations[otherLanguage(q)] || "") : "";
  byId("stage-meta").textContent = q
    ? `${q.name || "Anonymous"}${q.origin === "sub_venue" ? ` · ${venueName(q.origin_venue) || "a sub-venue"}` : ""} · ▲ ${q.votes}`
    : "";
  if (q) {
    textBox.lang = q.language;
    translationBox.lang = otherLanguage(q);
  }
}

function tick() {
  const { timer } = connection.state.state;
  const box = byId("stage-timer");
  if (!timer || !timer.seconds || timer.started_at === null) {
    box.hidden = true;
  } else {
    const left = Math.max(0, Math.ceil(timer.started_at + timer.seconds - pageNow().getTime() / 1000));
    box.hidden = false;
    box.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    box.classList.toggle("over", left === 0);
  }
}
setInterval(tick, 250);
