"""A loopback Gladia emulator for the benchmarks (``python bench/_serve.py --port P ...``).

Serves :class:`convoport.adapters.gladia.emulator.GladiaEmulator` with uvicorn on 127.0.0.1
only, plus two things the benchmarks need and the emulator does not have:

* ``GET /__bench__/requests`` — the requests served so far, counted by kind (``list``, ``job``,
  ``file``, ``other``); ``DELETE`` resets the counts;
* ``GET /__bench__/cpu`` — the emulator process's CPU seconds so far (``{"cpu": ...}``);
* ``--big-bytes N`` — the first finished job's ``/file`` answers a generated WAV of N bytes,
  streamed in 1 MiB blocks (nothing held in memory), for the media throughput benchmark.

It exits by itself after ``--ttl`` seconds (default 900) if nobody stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import threading
import time
from typing import Any

_FILE = re.compile(r"^/v2/live/([^/]+)/file$")
_JOB = re.compile(r"^/v2/live/[^/]+$")
_BLOCK = bytes(range(256)) * 4096  # 1 MiB


def wav_header(data_bytes: int, *, rate: int = 16000, channels: int = 1) -> bytes:
    """A 44-byte PCM WAV header for ``data_bytes`` of 16-bit audio."""
    block = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


async def _send_json(send: Any, data: Any) -> None:
    """Answers with ``data`` as a 200 JSON body (raw ASGI)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(data).encode()})


class Bench:
    """ASGI middleware: request counts, and the big recording."""

    def __init__(self, app: Any, big_bytes: int, big_id: str | None) -> None:
        self.app = app
        self.big_bytes = big_bytes
        self.big_id = big_id
        self.counts: dict[str, int] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/__bench__/cpu":
            await _send_json(send, {"cpu": time.process_time()})
            return
        if path == "/__bench__/requests":
            if scope["method"] == "DELETE":
                self.counts.clear()
            await _send_json(send, self.counts)
            return
        if path == "/v2/live":
            kind = "list" if scope["method"] == "GET" else "other"
        elif _FILE.match(path):
            kind = "file"
        elif _JOB.match(path):
            kind = "job"
        else:
            kind = "other"
        self.counts[kind] = self.counts.get(kind, 0) + 1
        found = _FILE.match(path)
        if self.big_bytes and found and found.group(1) == self.big_id:
            await self._big(send)
            return
        await self.app(scope, receive, send)

    async def _big(self, send: Any) -> None:
        data = self.big_bytes - 44
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(self.big_bytes).encode()),
                    (b"content-disposition", f'attachment; filename="{self.big_id}.wav"'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": wav_header(data), "more_body": True})
        left = data
        while left > 0:
            piece = _BLOCK if left >= len(_BLOCK) else _BLOCK[:left]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": left > 0})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--big-bytes", type=int, default=0)
    parser.add_argument("--ttl", type=float, default=900.0)
    args = parser.parse_args()

    import uvicorn

    from convoport.adapters.gladia.emulator import GladiaEmulator
    from convoport.sandbox import HarnessSettings

    harness = GladiaEmulator(
        settings=HarnessSettings(sessions=args.sessions, seed=args.seed, latency_ms=args.latency_ms)
    )
    big_id = next((j.id for j in harness.jobs("done")), None) if args.big_bytes else None
    app = Bench(harness.app, args.big_bytes, big_id)
    timer = threading.Timer(args.ttl, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
