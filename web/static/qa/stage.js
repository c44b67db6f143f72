// /stage/{session}: the confidence monitor beside the speaker. Large type, no controls.
import { Connection } from "./client.js";

const root = document.getElementById("stage");
const connection = new Connection({
  room: root.dataset.room,
  onStatus: (s) => { document.getElementById("status").textContent = s === "online" ? "" : s; },
  onFrame: (frame, changed) => { if (changed) render(); },
});

function render() {
  const { stage } = connection.state.state;
  const q = stage ? connection.state.questions.get(stage) : null;
  document.getElementById("stage-empty").hidden = Boolean(q);
  document.getElementById("stage-text").textContent = q ? q.text : "";
  const other = q && (q.language === "zh" ? "en" : "zh");
  document.getElementById("stage-translation").textContent = q ? (q.translations[other] || "") : "";
  document.getElementById("stage-meta").textContent = q
    ? `${q.name || "Anonymous"}${q.origin === "sub_venue" ? ` · ${q.origin_venue} sub-venue` : ""} · ▲ ${q.votes}`
    : "";
  if (q) {
    document.getElementById("stage-text").lang = q.language;
    document.getElementById("stage-translation").lang = other;
  }
}

function tick() {
  const { timer } = connection.state.state;
  const box = document.getElementById("stage-timer");
  if (!timer || !timer.seconds || timer.started_at === null) {
    box.hidden = true;
  } else {
    const left = Math.max(0, Math.ceil(timer.started_at + timer.seconds - Date.now() / 1000));
    box.hidden = false;
    box.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    box.classList.toggle("over", left === 0);
  }
}
setInterval(tick, 250);
