"""The Gladia emulator over a real socket, counting the requests it is answering at once.

``python tests/cluster/_serve.py PORT SESSIONS LATENCY_MS`` serves the emulator (seed 3) on
127.0.0.1:PORT. ``GET /__test__/inflight`` answers ``{"max": M, "now": N, "served": S}``: the
most session requests (every request but the listing's) it answered at once since the last
``DELETE /__test__/inflight``, how many it answers now, and how many it served. Requests to
``/__test__/`` are not counted.
"""

from __future__ import annotations

import json
import sys
from typing import Any

LISTING = "/v2/live"


class Inflight:
    """ASGI middleware keeping the counts."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.max = 0
        self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/__test__/inflight":
            if scope["method"] == "DELETE":
                self.max = self.served = 0
            body = json.dumps({"max": self.max, "now": self.now, "served": self.served})
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
            return
        if path.rstrip("/") == LISTING:
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.max = max(self.max, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1
            self.served += 1


def main() -> None:
    import uvicorn

    from convoport.adapters.gladia.emulator import GladiaEmulator
    from convoport.sandbox import HarnessSettings

    port, sessions, latency = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    settings = HarnessSettings(sessions=sessions, seed=3, latency_ms=latency)
    harness = GladiaEmulator.from_settings(settings)
    uvicorn.run(Inflight(harness.app), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
