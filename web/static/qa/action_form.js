// @ts-check
// The moderator's in-place forms: dismiss with a reason, edit, translate, and merge by
// picking the target question by its text. Built once per opening; the page moves the
// node into the re-rendered question, so typing survives updates from the room.
import { otherLanguage } from "./client.js";
import { el, errorMessage } from "../lib/dom.js";

/** @typedef {import("./client.js").Question} Question */
/** @typedef {"dismiss" | "edit" | "translate" | "merge"} FormKind */
/**
 * @typedef {object} FormHandlers
 * @property {(fields: Record<string, string>) => Promise<boolean>} submit resolves true when the server took it
 * @property {() => void} cancel
 */

/** Reasons offered for a dismissal; any other text may be typed. */
const REASONS = ["Off topic", "Already answered", "Asked before", "Not a question", "Please keep it civil"];
const MERGE_TARGET_STATES = ["pending", "approved", "on_stage", "answered"];
const LANGUAGE_NAMES = /** @type {Record<string, string>} */ ({ en: "English", zh: "中文" });

/**
 * @param {string} text
 * @param {number} length
 */
function shorten(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/**
 * The questions `q` may be merged into, most voted first.
 * @param {Question} q
 * @param {Question[]} all
 */
export function mergeTargets(q, all) {
  return all.filter((other) => other.id !== q.id && MERGE_TARGET_STATES.includes(other.state))
    .sort((a, b) => b.votes - a.votes || a.asked_at - b.asked_at);
}

/**
 * The fields of one kind of form, and the message fields they become.
 * @param {FormKind} kind
 * @param {Question} q
 * @param {Question[]} all
 * @returns {{ title: string, fields: HTMLElement[], action: string, read: () => Record<string, string> } | null}
 */
function formParts(kind, q, all) {
  if (kind === "dismiss") {
    const reason = el("input", { name: "reason", required: "", maxlength: 200, list: `reasons-${q.id}`, placeholder: "Off topic", "aria-label": "Reason" });
    const options = el("datalist", { id: `reasons-${q.id}` }, ...REASONS.map((r) => el("option", { value: r })));
    return { title: "Dismiss: the reason is shown to the asker", fields: [reason, options], action: "Dismiss",
      read: () => ({ reason: reason.value.trim() }) };
  }
  if (kind === "edit") {
    const text = el("textarea", { name: "text", required: "", maxlength: 500, rows: 3, "aria-label": "Question text" });
    text.value = q.text;
    return { title: "Edit the question (the original is kept)", fields: [text], action: "Save", read: () => ({ text: text.value }) };
  }
  if (kind === "translate") {
    const language = otherLanguage(q);
    const text = el("textarea", { name: "text", required: "", maxlength: 500, rows: 3, lang: language, "aria-label": `Translation into ${LANGUAGE_NAMES[language]}` });
    text.value = q.translations[language] || "";
    return { title: `Translation into ${LANGUAGE_NAMES[language]}`, fields: [text], action: "Save translation",
      read: () => ({ language, text: text.value }) };
  }
  const targets = mergeTargets(q, all);
  if (!targets.length) return null;
  const select = el("select", { name: "into", required: "", "aria-label": "Merge into" },
    ...targets.map((t) => el("option", { value: t.id }, `${shorten(t.text, 90)} (▲ ${t.votes})`)));
  return { title: "Merge into (votes combine)", fields: [select], action: "Merge", read: () => ({ into: select.value }) };
}

/**
 * Builds the form of `kind` for question `q`.
 * @param {FormKind} kind
 * @param {Question} q
 * @param {Question[]} all every question of the room (merge targets)
 * @param {FormHandlers} handlers
 * @returns {HTMLFormElement}
 */
export function openActionForm(kind, q, all, handlers) {
  const parts = formParts(kind, q, all);
  const error = el("p", { class: "form-error", role: "alert" });
  const cancel = el("button", { type: "button", class: "cancel", onclick: () => handlers.cancel() }, "Cancel");
  const form = el("form", { class: `action-form action-${kind}`, "data-form": kind, autocomplete: "off" },
    el("p", { class: "action-title" }, parts ? parts.title : "Nothing to merge into: no other open or answered question."),
    ...(parts ? parts.fields : []),
    el("div", { class: "action-buttons" },
      parts ? el("button", { type: "submit" }, parts.action) : null, cancel),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!parts) return;
    error.textContent = "";
    try {
      await handlers.submit(parts.read());
    } catch (failure) {
      error.textContent = errorMessage(failure);
    }
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); handlers.cancel(); }
    // Enter saves; Shift+Enter still makes a new line in a text box.
    if (event.key === "Enter" && !event.shiftKey && event.target instanceof HTMLTextAreaElement) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return form;
}
