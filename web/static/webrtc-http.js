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

// A page reloads itself for a new node at most this often (a node that keeps being
// blocked must not put the page in a reload loop).
const RELOAD_AT_MOST_EVERY_MS = 30000;
const RELOAD_AFTER_MS = 1000;
let reloadWatch = false;

/**
 * A page's Content-Security-Policy lists the nodes that were up when it loaded. Steered
 * (307) to a node that joined since, the browser blocks the request and every retry would
 * be blocked alike; reloading gets a policy naming the new node. Installed once per page.
 */
export function reloadWhenSteeredToANewNode() {
  if (reloadWatch) return;
  reloadWatch = true;
  document.addEventListener("securitypolicyviolation", (event) => {
    if (event.effectiveDirective !== "connect-src") return;
    // Chromium names the URL the page asked for, not the redirect's target: our own origin
    // can only be blocked when a request of ours was sent on to another node.
    let blocked;
    try {
      blocked = new URL(event.blockedURI);
    } catch {
      return;
    }
    const ours = blocked.origin === window.location.origin;
    if (ours && !/^\/(whep|whip)\//.test(blocked.pathname)) return;
    const key = "venuebridge-reloaded-for-node-at";
    const last = Number(sessionStorage.getItem(key) || "0");
    if (Date.now() - last < RELOAD_AT_MOST_EVERY_MS) return;
    sessionStorage.setItem(key, String(Date.now()));
    // A moment first: the node learns its peers' origins from the directory each heartbeat.
    setTimeout(() => window.location.reload(), RELOAD_AFTER_MS);
  });
}

/**
 * The STUN/TURN servers for `endpoint`: its OPTIONS answer carries them as `Link`
 * headers, before the offer is made (the 201's Links would come too late to gather with).
 * A node that would send the POST elsewhere (307, RFC 9725) sends the OPTIONS there too,
 * and fetch follows: the servers are those of the node that will serve, named by `origin`.
 * None when the server cannot be asked: the connection then tries host candidates only.
 * @param {string} endpoint
 * @returns {Promise<{ iceServers: RTCIceServer[], origin: string }>}
 */
export async function discoverIceServers(endpoint) {
  const entry = new URL(endpoint, window.location.href);
  try {
    const response = await fetch(entry, { method: "OPTIONS", credentials: "same-origin" });
    const origin = new URL(response.url || entry.href).origin;
    return { iceServers: response.ok ? iceServersFromLinks(response) : [], origin };
  } catch {
    return { iceServers: [], origin: entry.origin };
  }
}

/**
 * The STUN/TURN servers for `endpoint` (see discoverIceServers).
 * @param {string} endpoint
 * @returns {Promise<RTCIceServer[]>}
 */
export async function fetchIceServers(endpoint) {
  return (await discoverIceServers(endpoint)).iceServers;
}

/**
 * `endpoint` with the page's own `?region=` (a viewer's region: the server steers the
 * POST to a node there; there is no guessing from the address).
 * @param {string} endpoint
 * @returns {string}
 */
export function withPageRegion(endpoint) {
  const region = new URLSearchParams(window.location.search).get("region");
  if (!region) return endpoint;
  return `${endpoint}${endpoint.includes("?") ? "&" : "?"}region=${encodeURIComponent(region)}`;
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
 * Sends the local offer; resolves to the session URL and the origin of the node that
 * answered. Throws an ExchangeError with the server's text. A 307 to another node is
 * followed by fetch itself (the browser drops `Authorization` and cookies there; the
 * redirect carries a pass for this one request), so the session URL is resolved against
 * the FINAL response's URL: PATCH and DELETE go to the node that holds the session.
 * @param {RTCPeerConnection} pc
 * @param {string} endpoint
 * @param {string} [token]
 * @returns {Promise<{ session: string, origin: string }>}
 */
export async function offerTo(pc, endpoint, token) {
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
  const final = response.url || new URL(endpoint, window.location.href).href;
  return { session: new URL(location, final).toString(), origin: new URL(final).origin };
}

/**
 * Sends the local offer; resolves to the session URL (see offerTo).
 * @param {RTCPeerConnection} pc
 * @param {string} endpoint
 * @param {string} [token]
 * @returns {Promise<string>}
 */
export async function exchange(pc, endpoint, token) {
  return (await offerTo(pc, endpoint, token)).session;
}
