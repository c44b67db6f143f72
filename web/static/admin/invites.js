// @ts-check
// The invite page works without this module (server-rendered forms). With it, the form
// shows only the scope field the chosen role uses, and each link gets a copy button.
import { byId } from "../lib/dom.js";

/** Shows the fieldset of the chosen role's scope, hides (and disables) the others. */
function showScope() {
  const role = byId("invite-role", HTMLSelectElement).value;
  for (const fieldset of document.querySelectorAll("fieldset.scope")) {
    if (!(fieldset instanceof HTMLFieldSetElement)) continue;
    const used = fieldset.dataset.role === role;
    fieldset.hidden = !used;
    // A disabled fieldset's fields are not sent: a stale venue never rides along.
    fieldset.disabled = !used;
  }
}

/**
 * Copies the link in the button's row; without the clipboard API (plain http, not
 * localhost), selects the link's field instead so the person can copy it themselves.
 * @param {HTMLButtonElement} button
 */
async function copyLink(button) {
  const field = button.parentElement?.querySelector("input.invite-link");
  if (!(field instanceof HTMLInputElement)) return;
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    field.select();
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy link"; }, 2500);
}

byId("invite-role", HTMLSelectElement).addEventListener("change", showScope);
showScope();
for (const button of document.querySelectorAll("button.copy")) {
  if (!(button instanceof HTMLButtonElement)) continue;
  button.hidden = false;
  button.addEventListener("click", () => { void copyLink(button); });
}
for (const form of document.querySelectorAll("form.revoke-form")) {
  form.addEventListener("submit", (event) => {
    const row = form.closest("tr");
    const label = row?.querySelector(".title")?.textContent || "this invite";
    if (!window.confirm(`Revoke the invite for ${label}? Its link stops working and its open pages are cut off.`)) {
      event.preventDefault();
    }
  });
}
