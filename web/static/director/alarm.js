// @ts-check
// The director's alarm: a red banner for every lost source, naming the channel and the
// venues left without its picture, and (when switched on) a beep through WebAudio on each
// new loss and every few seconds while one lasts. The sound is off by default.
import { el } from "../lib/dom.js";
import { channelName, venueName } from "../lib/names.js";
import { lostSources } from "../lib/onair.js";

/** @typedef {import("../lib/frames.js").RoutingFrame} RoutingFrame */

const SOUND_KEY = "vb.director.alarm-sound";
const REPEAT_MS = 5000;

export class Alarm {
  /**
   * @param {HTMLElement} banner
   * @param {HTMLInputElement} soundBox
   */
  constructor(banner, soundBox) {
    this.banner = banner;
    this.soundBox = soundBox;
    /** @type {ReturnType<typeof lostSources>} */
    this.lost = [];
    /** @type {AudioContext | null} */
    this.audio = null;
    this.lastBeep = 0;
    soundBox.checked = localStorage.getItem(SOUND_KEY) === "1";
    soundBox.addEventListener("change", () => {
      localStorage.setItem(SOUND_KEY, soundBox.checked ? "1" : "");
      // Created on the click: browsers let a page make sound only after a gesture.
      if (soundBox.checked) this.context();
    });
    setInterval(() => this.render(), 1000);
  }

  /** @param {RoutingFrame} frame */
  update(frame) {
    const before = new Set(this.lost.map((l) => l.channel));
    this.lost = lostSources(frame);
    if (this.lost.some((l) => !before.has(l.channel))) this.lastBeep = 0;
    this.render();
  }

  render() {
    this.banner.hidden = this.lost.length === 0;
    this.banner.replaceChildren(...this.lost.map((loss) => {
      const since = loss.since ? Date.parse(loss.since) : NaN;
      const seconds = Number.isNaN(since) ? null : Math.max(0, Math.round((Date.now() - since) / 1000));
      const where = loss.venues.length
        ? `off air at ${loss.venues.map((v) => venueName(v)).join(", ")}`
        : "not on air anywhere";
      return el("p", { "data-channel": loss.channel },
        `SIGNAL LOST: ${channelName(loss.channel)}${seconds === null ? "" : ` for ${duration(seconds)}`} · ${where}`);
    }));
    if (this.lost.length && this.soundBox.checked && Date.now() - this.lastBeep >= REPEAT_MS) {
      this.lastBeep = Date.now();
      this.beep();
    }
  }

  context() {
    if (!this.audio) this.audio = new AudioContext();
    if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
    return this.audio;
  }

  // Two short tones, loud enough to turn a head in a control room.
  beep() {
    const audio = this.context();
    for (const [offset, pitch] of [[0, 880], [0.25, 660]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.value = 0.2;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + offset);
      tone.stop(audio.currentTime + offset + 0.18);
    }
  }
}

/**
 * "42 s", "3 min 05 s", "1 h 02 min".
 * @param {number} seconds
 */
export function duration(seconds) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${pad(Math.floor((seconds % 3600) / 60))} min`;
}
