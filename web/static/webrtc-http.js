// @ts-check
// WHIP/WHEP client helpers (RFC 9725): one offer, one answer, a session URL to DELETE.

/** A failed WHIP/WHEP exchange: the HTTP status and the server's Retry-After, if any. */
export class ExchangeError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {number} retryAfter seconds, 0 when the server did not say
   */
  constructor(message, status, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/**
 * Parses `Link: <url>; rel="ice-server"; username=...; credential=...` headers.
 * @param {Response} response
 * @returns {RTCIceServer[]}
 */
export function iceServersFromLinks(response) {
  /** @type {RTCIceServer[]} */
  const servers = [];
  const header = response.headers.get("Link");
  if (!header) return servers;
  for (const part of header.split(/,(?=\s*<)/)) {
    const url = part.match(/<([^>]+)>/);
    if (!url || !/rel="ice-server"/.test(part)) continue;
    /** @type {RTCIceServer} */
    const server = { urls: url[1] };
    const user = part.match(/username="([^"]*)"/);
    const cred = part.match(/credential="([^"]*)"/);
    if (user) server.username = user[1];
    if (cred) server.credential = cred[1];
    servers.push(server);
  }
  return servers;
}

/**
 * The STUN/TURN servers for `endpoint`: its OPTIONS answer carries them as `Link`
 * headers, before the offer is made (the 201's Links would come too late to gather with).
 * None when the server cannot be asked: the connection then tries host candidates only.
 * @param {string} endpoint
 * @returns {Promise<RTCIceServer[]>}
 */
export async function fetchIceServers(endpoint) {
  try {
    const response = await fetch(endpoint, { method: "OPTIONS", credentials: "same-origin" });
    return response.ok ? iceServersFromLinks(response) : [];
  } catch {
    return [];
  }
}

/**
 * `?ice=relay` in the page's address: media only through TURN, as a venue whose network
 * blocks everything else would have it. Operators use it to check the fallback path.
 * @returns {RTCIceTransportPolicy}
 */
export function iceTransportPolicy() {
  return new URLSearchParams(window.location.search).get("ice") === "relay" ? "relay" : "all";
}

/**
 * Waits until ICE gathering completes (or `ms` pass), so the offer carries candidates.
 * @param {RTCPeerConnection} pc
 * @param {number} [ms]
 * @returns {Promise<void>}
 */
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

/**
 * Prefers `mimeType` on a video transceiver (the event has one codec).
 * @param {RTCRtpTransceiver} transceiver
 * @param {string} mimeType
 */
export function preferCodec(transceiver, mimeType) {
  const caps = RTCRtpReceiver.getCapabilities("video");
  if (!caps || !transceiver.setCodecPreferences) return;
  const wanted = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase()
    && (!/h264/i.test(mimeType) || /packetization-mode=1/.test(c.sdpFmtpLine || "")));
  const rest = caps.codecs.filter((c) => /rtx|red|ulpfec/i.test(c.mimeType));
  if (wanted.length) transceiver.setCodecPreferences([...wanted, ...rest]);
}

/**
 * Sends the local offer; resolves to the session URL. Throws an ExchangeError with the
 * server's text.
 * @param {RTCPeerConnection} pc
 * @param {string} endpoint
 * @param {string} [token]
 * @returns {Promise<string>}
 */
export async function exchange(pc, endpoint, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/sdp" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const offer = pc.localDescription ? pc.localDescription.sdp : "";
  // The invite cookie signs the page in; a Bearer token only when the page has one.
  const response = await fetch(endpoint, { method: "POST", headers, body: offer, credentials: "same-origin" });
  if (response.status !== 201) {
    throw new ExchangeError(`${response.status}: ${(await response.text()).trim()}`, response.status,
      Number(response.headers.get("Retry-After") || 0));
  }
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  const location = response.headers.get("Location");
  if (!location) throw new ExchangeError("the answer has no Location header", response.status, 0);
  return new URL(location, new URL(endpoint, window.location.href)).toString();
}
