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
 * Sets every select under `root` to what the matrix says its venue plays.
 * @param {ParentNode} root
 * @param {RoutingFrame} frame
 */
export function showOutputLanguages(root, frame) {
  for (const row of frame.venues) {
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
