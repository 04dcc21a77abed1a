"""Fault injection for emulators: latency, 5xx, 429 with ``Retry-After``, dropped connections."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@attrs.define(kw_only=True)
class Faults:
    """Fault-injection knobs (mutable, so a test can change them while an emulator runs).

    * ``latency`` — seconds added before every REST answer;
    * ``error_rate`` — probability (0..1) of answering a REST request with ``error_status``;
    * ``rate_limit_rate`` — probability of answering 429 with ``Retry-After: retry_after``
      (seconds);
    * ``drop_rate`` — probability of dropping the connection instead of answering (the
      client sees a transport error, as when a response is lost);
    * ``fail_next`` — the next N REST requests answer ``error_status`` (deterministic);
    * ``rate_limit_next`` — the next N REST requests answer 429 (deterministic);
    * ``drop_ws_after_frames`` — close live WebSockets abnormally after this many client
      frames (once per session, then cleared);
    * ``paths`` — when set, faults apply only to paths starting with one of these prefixes;
    * ``seed`` — the RNG seed; ``injected`` counts what was injected, by kind (``"error"``,
      ``"rate_limit"``, ``"drop"``, and whatever an emulator adds, such as ``"ws_drop"``).

    One decision per request, in this order: ``fail_next``, ``rate_limit_next``, then one roll
    of the seeded RNG against ``drop_rate``, ``error_rate``, ``rate_limit_rate`` (stacked), so
    a run with the same seed and the same requests injects the same faults.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after: float = 0.05
    drop_rate: float = 0.0
    fail_next: int = 0
    rate_limit_next: int = 0
    drop_ws_after_frames: int | None = None
    paths: tuple[str, ...] = ()
    seed: int = 1234
    injected: dict[str, int] = attrs.field(factory=dict)
    _rng: random.Random = attrs.field(init=False, factory=random.Random)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        self._rng.seed(self.seed)

    def applies_to(self, path: str) -> bool:
        """Whether faults apply to a request for ``path``."""
        return not self.paths or any(path.startswith(p) for p in self.paths)

    def decide(self) -> str | None:
        """One decision for one request: ``"error"``, ``"rate_limit"``, ``"drop"`` or None."""
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.count("error")
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return self.count("rate_limit")
            roll = self._rng.random()
            if roll < self.drop_rate:
                return self.count("drop")
            roll -= self.drop_rate
            if roll < self.error_rate:
                return self.count("error")
            roll -= self.error_rate
            if roll < self.rate_limit_rate:
                return self.count("rate_limit")
            return None

    def count(self, kind: str) -> str:
        """Counts one injected fault of ``kind`` in :attr:`injected`; returns ``kind``."""
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def take_ws_drop(self, frames: int) -> bool:
        """Whether a live socket that has received ``frames`` client frames is to be dropped
        now (``drop_ws_after_frames``: once, then the knob is cleared and counted as
        ``"ws_drop"``)."""
        with self._lock:
            if self.drop_ws_after_frames is None or frames < self.drop_ws_after_frames:
                return False
            self.drop_ws_after_frames = None
        self.count("ws_drop")
        return True


class DroppedConnection(Exception):
    """Raised inside the in-process transport to simulate a lost response (the client sees
    ``httpx.RemoteProtocolError``); over a real socket the server closes the connection."""


#: ``(status, path) -> (body bytes, content type)``: renders an injected error.
ErrorBody = Callable[[int, str], tuple[bytes, str]]


def _default_error_body(status: int, path: str) -> tuple[bytes, str]:
    return b'{"message": "injected fault"}', "application/json"


class FaultMiddleware:
    """ASGI middleware applying :class:`Faults` to HTTP requests (WebSockets pass through;
    their drops are the emulator's job). ``error_body(status, path)`` renders the vendor's
    error envelope so injected errors look like real ones (an :class:`EmulatorHarness`
    passes its ``error_body`` hook)."""

    def __init__(self, app: ASGIApp, faults: Faults, error_body: ErrorBody | None = None) -> None:
        self.app = app
        self.faults = faults
        self.error_body = error_body or _default_error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.applies_to(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        decision = self.faults.decide()
        if decision == "drop":
            raise DroppedConnection("emulator dropped the connection")
        if decision in ("error", "rate_limit"):
            status = 429 if decision == "rate_limit" else self.faults.error_status
            body, ctype = self.error_body(status, scope.get("path", ""))
            headers = [
                (b"content-type", ctype.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            if decision == "rate_limit":
                headers.append((b"retry-after", f"{self.faults.retry_after:g}".encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class SocketDrops:
    """ASGI middleware for serving an emulator over a real socket (``convoport emulate``): a
    :class:`DroppedConnection` raised before the response started sends a response head
    promising a body (``content-length: 1``) and then aborts, so the server closes the
    connection mid-response and the client sees a lost answer, as it does in-process
    (``httpx.RemoteProtocolError``), not a 500. :func:`quiet_dropped_connections` keeps
    the server's log free of these deliberate aborts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except DroppedConnection:
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1")],
                    }
                )
            raise


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DroppedConnection)


def quiet_dropped_connections(logger: str = "uvicorn.error") -> None:
    """Stops ``logger`` from printing the tracebacks of deliberate :class:`DroppedConnection`
    aborts (other errors still print)."""
    target = logging.getLogger(logger)
    if not any(isinstance(f, _DropFilter) for f in target.filters):
        target.addFilter(_DropFilter())


async def send_json(
    send: Send, status: int, data: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Sends a JSON response from raw ASGI code (middleware, error handlers)."""
    body = json.dumps(data).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


__all__ = [
    "DroppedConnection",
    "ErrorBody",
    "FaultMiddleware",
    "Faults",
    "SocketDrops",
    "quiet_dropped_connections",
    "send_json",
]
