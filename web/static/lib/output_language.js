// @ts-check
// The language a venue output plays (the floor or an interpretation track), as a select
// per venue: the director's matrix has one per row, the operator console one for its
// venue. The select shows what the server's routing matrix says; a change is sent as
// `set_output_language` and, if refused, the select goes back to the matrix's value.
import { errorMessage } from "./dom.js";

/** @typedef {import("./frames.js").RoutingFrame} RoutingFrame */

/**
 * @param {ParentNode} root
 * @param {string} venue
 * @returns {HTMLSelectElement | null}
 */
function selectOf(root, venue) {
  const node = root.querySelector(`select.output-language[data-venue="${CSS.escape(venue)}"]`);
  return node instanceof HTMLSelectElement ? node : null;
}

/**
 * What the room hears, in words: the interpreter on air in the output's language on the
 * channel it shows, or the floor when nobody is (or no language is chosen).
 * @param {RoutingFrame} frame
 * @param {import("./frames.js").RoutingRow} row
 * @returns {string}
 */
export function heardNote(frame, row) {
  const point = row.on_air || row.requested;
  const channel = point ? point.channel : null;
  if (!channel) return "";
  if (!row.language) return "the floor";
  const health = frame.channels ? frame.channels[channel] : undefined;
  if (health && health.floor_language === row.language) return "the floor";
  const name = health && health.interpreters ? health.interpreters[row.language] : undefined;
  return name ? `${name} on air` : `no ${row.language} interpreter on air: the floor is heard`;
}

/**
 * Sets every select under `root` to what the matrix says its venue plays, and the note
 * beside it (`[data-language-note]`) to what the room hears.
 * @param {ParentNode} root
 * @param {RoutingFrame} frame
 */
export function showOutputLanguages(root, frame) {
  for (const row of frame.venues) {
    const note = root.querySelector(`[data-language-note][data-venue="${CSS.escape(row.venue)}"]`);
    if (note) {
      note.textContent = heardNote(frame, row);
      if (note instanceof HTMLElement) note.dataset.state = note.textContent.startsWith("no ") ? "floor" : "";
    }
    const select = selectOf(root, row.venue);
    if (!select || select.dataset.sending) continue;
    const value = row.language || "";
    if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
    select.value = value;
    select.dataset.language = value;
  }
}

/**
 * Sends a change of any select under `root`; `onError` hears why a refusal happened.
 * @param {ParentNode & EventTarget} root
 * @param {(message: Record<string, unknown>) => Promise<unknown>} send
 * @param {(text: string) => void} onError
 */
export function watchOutputLanguages(root, send, onError) {
  root.addEventListener("change", async (event) => {
    const select = event.target instanceof HTMLSelectElement && event.target.matches("select.output-language")
      ? event.target : null;
    if (!select) return;
    const venue = select.dataset.venue || "";
    select.dataset.sending = "1";
    try {
      await send({ type: "set_output_language", venue, language: select.value || null });
      select.dataset.language = select.value;
      onError("");
    } catch (error) {
      select.value = select.dataset.language || "";
      onError(`Could not change the language: ${errorMessage(error)}`);
    } finally {
      delete select.dataset.sending;
    }
  });
}
