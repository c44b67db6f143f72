// @ts-check
/**
 * The recording player of /records/play: plays an airing's recorded pieces one after
 * another, each from its offset in its file to where the venue stopped seeing it.
 */

/** @typedef {{url: string, from: number, to: number, start: string}} Piece */

const video = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
const state = document.getElementById("player-state");

/** @param {string} text */
function say(text) {
  if (state) state.textContent = text;
}

if (video) {
  const player = video;
  /** @type {Piece[]} */
  const playlist = JSON.parse(player.dataset.playlist || "[]");
  let current = -1;

  /** @param {number} index */
  const load = (index) => {
    current = index;
    const piece = playlist[index];
    // The media fragment starts Chromium at the offset; currentTime is set again once
    // the metadata is in, for players that ignore fragments.
    player.src = `${piece.url}#t=${piece.from}`;
    player.dataset.piece = String(index);
    say(`Piece ${index + 1} of ${playlist.length}, from ${piece.from.toFixed(2)} s in its file`);
  };

  player.addEventListener("loadedmetadata", () => {
    const piece = playlist[current];
    if (Math.abs(player.currentTime - piece.from) > 0.25) player.currentTime = piece.from;
    player.play().catch(() => say("Press play to start the recording."));
  });
  player.addEventListener("timeupdate", () => {
    const piece = playlist[current];
    if (piece && player.currentTime >= piece.to) {
      if (current + 1 < playlist.length) load(current + 1);
      else {
        player.pause();
        say("End of the airing.");
      }
    }
  });
  player.addEventListener("error", () => say("The recording could not be played."));
  if (playlist.length) load(0);
}
