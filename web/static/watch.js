// The bare player page: /whep/{channel}, retried while the channel is not live.
import { exchange, setStatus } from "./webrtc-http.js";

const status = document.getElementById("status");
const player = document.getElementById("player");
const channel = status.dataset.channel;

async function play() {
  const pc = new RTCPeerConnection();
  window.vbPc = pc;
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (event) => {
    stream.addTrack(event.track);
    player.srcObject = stream;
  });
  pc.addEventListener("connectionstatechange", () => {
    setStatus(status, pc.connectionState, `Connection ${pc.connectionState}.`);
  });
  try {
    await exchange(pc, `/whep/${encodeURIComponent(channel)}`);
    setStatus(status, "playing", "Playing.");
  } catch (error) {
    pc.close();
    if (error.status === 409) {
      setStatus(status, "waiting", "Not live yet; retrying…");
      setTimeout(play, 1000 * (error.retryAfter || 5));
      return;
    }
    setStatus(status, "error", `Could not play: ${error.message}`);
  }
}

play();
