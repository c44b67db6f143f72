"""Source health in the routing frames a page receives, set by the test.

The pages read source health from the routing matrix (``channels[ch].state``, each
venue's ``slate``). This helper sits in the page's websocket (Playwright's
``route_web_socket``): frames pass through as the server sent them, and every ``routing``
frame gets the channel states the test set, with ``slate`` true where a venue's source is
lost. Health the server reports itself is kept for the channels the test leaves alone.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Page, WebSocketRoute


class FakeHealth:
    def __init__(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self._routes: list[tuple[WebSocketRoute, dict[str, Any]]] = []

    async def attach(self, page: Page) -> None:
        """Route the page's /ws through this helper (before the page opens it)."""

        def handle(route: WebSocketRoute) -> None:
            server = route.connect_to_server()
            last: dict[str, Any] = {}
            self._routes.append((route, last))

            def from_server(message: str | bytes) -> None:
                frame = json.loads(message)
                if isinstance(frame, dict) and frame.get("type") == "routing":
                    last["frame"] = frame
                    route.send(json.dumps(self.rewrite(frame)))
                else:
                    route.send(message)

            server.on_message(from_server)

        await page.route_web_socket(re.compile(r"/ws(\?.*)?$"), handle)

    def set(self, channel: str, state: str, source: str | None = "primary") -> None:
        """The state every page will see for ``channel``; pushes a new matrix to them."""
        self.channels[channel] = {
            "state": state,
            "since": datetime.now(UTC).isoformat(),
            "source": source if state != "idle" else None,
            "backup_ready": False,
        }
        for route, last in self._routes:
            if "frame" in last:
                route.send(json.dumps(self.rewrite(last["frame"])))

    def rewrite(self, frame: dict[str, Any]) -> dict[str, Any]:
        frame = json.loads(json.dumps(frame))
        channels = frame.setdefault("channels", {})
        channels.update(self.channels)
        for row in frame["venues"]:
            on_air = (row.get("on_air") or {}).get("channel")
            lost = on_air is not None and channels.get(on_air, {}).get("state") == "lost"
            row["slate"] = bool(row.get("slate")) or on_air is None or lost
        return frame
