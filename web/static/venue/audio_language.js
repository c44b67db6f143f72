// @ts-check
// The viewer's choice of audio language (the floor or an interpretation of it), sent to
// the server as the WHEP session's switch message: POST {session URL}/language with
// {"lang": code} (null: the floor). No renegotiation; the server falls back to the floor
// while nobody interprets into the chosen language. Remembered in localStorage and sent
// again after every reconnect (a new session starts on the floor).

const STORAGE_KEY = "vb.watch.audio-language";

/**
 * Wires `select` (options: "" for the floor, then language codes) to `player`.
 * @param {import("./link.js").Link} player
 * @param {HTMLSelectElement} select
 */
export function pickAudioLanguage(player, select) {
  const saved = localStorage.getItem(STORAGE_KEY) || "";
  if ([...select.options].some((o) => o.value === saved)) select.value = saved;
  const send = async () => {
    const url = player.url;
    if (!url) return;
    const response = await fetch(`${url}/language`, {
      method: "POST", credentials: "same-origin",
      headers: { ...player.headers(), "Content-Type": "application/json" },
      body: JSON.stringify({ lang: select.value || null }),
    }).catch(() => null);
    select.dataset.state = response && response.status === 204 ? "sent" : "failed";
  };
  select.addEventListener("change", () => {
    localStorage.setItem(STORAGE_KEY, select.value);
    void send();
  });
  // Each new session starts on the floor: say the choice again once it is live.
  const told = player.onState;
  player.onState = (state, detail) => {
    told(state, detail);
    if (state === "live" && select.value) void send();
  };
}
