// @ts-check
// The viewer page's second way to play: CMAF HLS (/hls/{channel}/master.m3u8) through the
// vendored hls.js, for when WebRTC cannot: the node answered the WHEP offer 503 (admission
// control: it is full) or the WebRTC connection failed (UDP blocked). HLS comes over plain
// HTTP, so an HTTP cache or CDN in front of the node carries the crowd. hls.js (540 KB) is
// loaded only when it is needed; Safari plays the playlist natively. The master playlist
// lists the live interpretations as audio renditions: `setAudioLanguage` follows the
// page's audio picker ("" is the floor). Its WebVTT subtitles are left off here: the page
// shows the session's captions in its own box.

const HLS_JS = "/static/vendor/hls.js-1.6.15/hls.min.js";
// After a fatal error (the node restarted, the stream ended) start again this much later.
const RESTART_MS = 3000;

/**
 * @typedef {object} HlsPlayer what we use of hls.js
 * @property {(url: string) => void} loadSource
 * @property {(video: HTMLMediaElement) => void} attachMedia
 * @property {(event: string, handler: (event: string, data: any) => void) => void} on
 * @property {() => void} destroy
 * @property {Date | null} playingDate
 * @property {number} latency
 * @property {Array<{lang?: string, name: string}>} audioTracks
 * @property {number} audioTrack
 */

/** @returns {Promise<any>} hls.js's constructor (window.Hls) */
function loadHlsJs() {
  const loaded = /** @type {any} */ (window).Hls;
  if (loaded) return Promise.resolve(loaded);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = HLS_JS;
    script.onload = () => resolve(/** @type {any} */ (window).Hls);
    script.onerror = () => reject(new Error("hls.js did not load"));
    document.head.append(script);
  });
}

export class HlsFallback {
  /**
   * @param {HTMLVideoElement} video
   * @param {string} channel
   * @param {(state: "starting" | "playing" | "error", detail: string) => void} onState
   */
  constructor(video, channel, onState) {
    this.video = video;
    this.url = `/hls/${encodeURIComponent(channel)}/master.m3u8`;
    /** The audio language asked for: "" is the floor (the video's own audio). */
    this.audioLanguage = "";
    this.onState = onState;
    /** @type {HlsPlayer | null} */
    this.hls = null;
  }

  async start() {
    this.onState("starting", "");
    this.video.srcObject = null;
    const Hls = await loadHlsJs().catch(() => null);
    if (Hls && Hls.isSupported()) {
      // Low-latency mode follows EXT-X-PART and blocking reloads when the playlist has them.
      const hls = /** @type {HlsPlayer} */ (new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 }));
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data || !data.fatal) return; // hls.js recovers from the others itself
        this.onState("error", String(data.details || "HLS error"));
        this.stop();
        setTimeout(() => void this.start(), RESTART_MS);
      });
      hls.on(Hls.Events.FRAG_BUFFERED, () => this.onState("playing", ""));
      hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => this.applyAudio());
      hls.attachMedia(this.video);
      hls.loadSource(this.url);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = this.url; // Safari's own HLS
      this.video.addEventListener("playing", () => this.onState("playing", ""), { once: true });
    } else {
      this.onState("error", "this browser plays neither WebRTC nor HLS");
      return;
    }
    void this.video.play().catch(() => {});
  }

  /**
   * Play `language`'s audio rendition ("" or one not live: the floor).
   * @param {string} language
   */
  setAudioLanguage(language) {
    this.audioLanguage = language;
    this.applyAudio();
  }

  applyAudio() {
    const hls = this.hls;
    if (!hls || !hls.audioTracks.length) return;
    const wanted = hls.audioTracks.findIndex((track) => (track.lang || "") === this.audioLanguage);
    const floor = hls.audioTracks.findIndex((track) => !track.lang);
    const index = wanted >= 0 ? wanted : floor;
    if (index >= 0 && hls.audioTrack !== index) hls.audioTrack = index;
  }

  stop() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.video.removeAttribute("src");
  }

  /** Seconds behind the live edge's wall clock (program date time), or null. */
  latency() {
    const date = this.hls ? this.hls.playingDate : null;
    return date ? (Date.now() - date.getTime()) / 1000 : null;
  }
}
