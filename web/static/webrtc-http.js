// WHIP/WHEP client helpers (RFC 9725): one offer, one answer, a session URL to DELETE.

// Parses `Link: <url>; rel="ice-server"; username=...; credential=...` headers.
export function iceServersFromLinks(response) {
  const servers = [];
  const header = response.headers.get("Link");
  if (!header) return servers;
  for (const part of header.split(/,(?=\s*<)/)) {
    const url = part.match(/<([^>]+)>/);
    if (!url || !/rel="ice-server"/.test(part)) continue;
    const server = { urls: url[1] };
    const user = part.match(/username="([^"]*)"/);
    const cred = part.match(/credential="([^"]*)"/);
    if (user) server.username = user[1];
    if (cred) server.credential = cred[1];
    servers.push(server);
  }
  return servers;
}

// Waits until ICE gathering completes (or `ms` pass), so the offer carries candidates.
export function gathered(pc, ms = 2000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") done();
    });
  });
}

// Prefers `mimeType` on a video transceiver (the event has one codec).
export function preferCodec(transceiver, mimeType) {
  const caps = RTCRtpReceiver.getCapabilities("video");
  if (!caps || !transceiver.setCodecPreferences) return;
  const wanted = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase()
    && (!/h264/i.test(mimeType) || /packetization-mode=1/.test(c.sdpFmtpLine || "")));
  const rest = caps.codecs.filter((c) => /rtx|red|ulpfec/i.test(c.mimeType));
  if (wanted.length) transceiver.setCodecPreferences([...wanted, ...rest]);
}

// Sends the local offer; resolves to the session URL. Throws with the server's text.
export async function exchange(pc, endpoint, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { "Content-Type": "application/sdp" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(endpoint, { method: "POST", headers, body: pc.localDescription.sdp });
  if (response.status !== 201) {
    const error = new Error(`${response.status}: ${(await response.text()).trim()}`);
    error.status = response.status;
    error.retryAfter = Number(response.headers.get("Retry-After") || 0);
    throw error;
  }
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return new URL(response.headers.get("Location"), new URL(endpoint, window.location.href)).toString();
}

export function setStatus(element, state, text) {
  element.dataset.state = state;
  element.textContent = text;
}
