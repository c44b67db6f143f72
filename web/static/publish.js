// @ts-check
// The bare publisher page: camera + microphone to /whip/{channel}.
import { exchange, preferCodec } from "./webrtc-http.js";
import { byId, errorMessage, setStatus } from "./lib/dom.js";

const form = byId("publish", HTMLFormElement);
const status = byId("status");
const preview = byId("preview", HTMLVideoElement);
const stopButton = byId("stop", HTMLButtonElement);
const tokenField = byId("token", HTMLInputElement);
/** @type {{ pc: RTCPeerConnection, url: string, stream: MediaStream } | null} */
let session = null;

/** @param {string} token */
async function start(token) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 1280, height: 720, frameRate: 30 }, audio: true,
  });
  preview.srcObject = stream;
  const pc = new RTCPeerConnection();
  window.vbPc = pc;
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    if (track.kind === "video") preferCodec(transceiver, `video/${form.dataset.codec}`);
  }
  pc.addEventListener("connectionstatechange", () => {
    setStatus(status, pc.connectionState, `Connection ${pc.connectionState}.`);
  });
  const url = await exchange(pc, `/whip/${encodeURIComponent(form.dataset.channel || "")}`, token);
  session = { pc, url, stream };
  stopButton.disabled = false;
  setStatus(status, "publishing", "Publishing.");
}

async function stop() {
  if (!session) return;
  const { pc, url, stream } = session;
  session = null;
  await fetch(url, { method: "DELETE" });
  pc.close();
  stream.getTracks().forEach((t) => t.stop());
  stopButton.disabled = true;
  setStatus(status, "idle", "Not publishing.");
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start(tokenField.value).catch((error) => {
    setStatus(status, "error", `Could not publish: ${errorMessage(error)}`);
  });
});
stopButton.addEventListener("click", () => { stop(); });

// ?token=... fills the field; ?autostart=1 starts at once (kiosk and tests).
const params = new URLSearchParams(location.search);
tokenField.value = params.get("token") || tokenField.value;
if (params.get("autostart") === "1") form.requestSubmit();
