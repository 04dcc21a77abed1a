"""The in-process transport: an ASGI app served to an ``httpx`` client without a socket."""

from __future__ import annotations

import asyncio
import contextlib
import typing
from typing import Any, cast

import anyio.streams.stapled  # noqa: F401  (httpx-ws uses it without importing it)
import httpx
from httpx_ws.transport import ASGIWebSocketAsyncNetworkStream
from starlette.types import ASGIApp

from convoport.sandbox._asgi import StreamingASGITransport


class _Spawner:
    """What httpx-ws's in-process stream needs of a task group (``start_soon``), backed by
    plain asyncio tasks, so no task group has to outlive a request."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def start_soon(self, fn: Any, *args: Any, name: Any = None) -> None:
        task = asyncio.get_running_loop().create_task(fn(*args))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def is_websocket_request(request: httpx.Request) -> bool:
    """Whether ``request`` is a WebSocket upgrade (``ws``/``wss`` URL or ``Upgrade`` header)."""
    return (
        request.url.scheme in ("ws", "wss")
        or request.headers.get("upgrade", "").lower() == "websocket"
    )


class InProcessTransport(httpx.AsyncBaseTransport):
    """Serves an ASGI app in-process: HTTP with streamed request and response bodies (an SSE
    stream stays open while other requests go on), WebSocket upgrades through httpx-ws's
    in-process stream. Unlike ``httpx_ws.transport.ASGIWebSocketTransport`` it needs no
    ``async with`` (each socket runs in its own task), so it works inside any
    ``httpx.AsyncClient``. An emulator's ``DroppedConnection`` becomes the
    ``httpx.RemoteProtocolError`` a client sees when a response is lost. ``accept_timeout`` is
    seconds to wait for the app to accept a WebSocket."""

    def __init__(self, app: ASGIApp, *, accept_timeout: float = 10.0) -> None:
        self.app = app
        self._http = StreamingASGITransport(app)
        self._spawner = _Spawner()
        self._accept_timeout = accept_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_websocket_request(request):
            return await self._websocket(request)
        return await self._http.handle_async_request(request)

    async def _websocket(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        subprotocols = [
            p.strip()
            for p in request.headers.get("sec-websocket-protocol", "").split(",")
            if p.strip()
        ]
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "root_path": "",
            "scheme": request.url.scheme,
            "query_string": request.url.query,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "client": ("127.0.0.1", 123),
            "server": (request.url.host, request.url.port),
            "subprotocols": subprotocols,
            "extensions": {"websocket.http.response": {}},
        }
        stream = ASGIWebSocketAsyncNetworkStream(
            cast(Any, self.app), scope, cast(Any, self._spawner), self._accept_timeout
        )
        _, accept = await stream.__aenter__()
        lines = accept.decode("utf-8").splitlines()
        headers = [
            typing.cast(tuple[str, str], tuple(line.split(": ", 1)))
            for line in lines[1:]
            if line.strip()
        ]
        return httpx.Response(
            101, headers=headers, extensions={"network_stream": stream}, request=request
        )

    async def aclose(self) -> None:
        for task in list(self._spawner.tasks):
            task.cancel()
        for task in list(self._spawner.tasks):
            with contextlib.suppress(BaseException):
                await task


def emulator_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An in-process transport for ``app`` (see :class:`InProcessTransport`): what
    ``connect(..., sandbox=True)`` and the kit's emulator mode use."""
    return InProcessTransport(app)


__all__ = ["InProcessTransport", "emulator_transport", "is_websocket_request"]
