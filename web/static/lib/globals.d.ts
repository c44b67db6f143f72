// Handles the pages leave on `window` for the browser tests and for debugging in the
// console. Declarations only: the pages themselves are plain JavaScript.
export {};

declare global {
  interface Window {
    vbPc?: RTCPeerConnection | null;
    vbPlayer?: import("../venue/link.js").Link;
    vbHls?: import("../venue/hls_fallback.js").HlsFallback;
    vbConsole?: { projector: import("../venue/link.js").Link; returnFeed: import("../venue/link.js").Link; socket: import("./socket.js").ReconnectingSocket };
    vbInterpret?: { floor: import("../venue/link.js").Link; voice: import("../venue/link.js").Link };
    vbPublish?: { link: import("../venue/link.js").Link; socket: import("./socket.js").ReconnectingSocket };
    vbDirector?: { socket: import("./socket.js").ReconnectingSocket; monitors: Map<string, import("../venue/link.js").Link> };
    vbWall?: { links: Record<string, import("../venue/link.js").Link>; socket: import("./socket.js").ReconnectingSocket };
  }
}
