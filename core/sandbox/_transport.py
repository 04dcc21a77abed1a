"""The in-process transport: an ASGI app served to an ``httpx`` client without a socket."""

from __future__ import annotations

import asyncio
import contextlib
import typing
from typing import Any, cast

import anyio
import anyio.streams.stapled  # (httpx-ws uses it without importing it)
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


#: Frames the in-process socket holds for the app before the client's send waits, and
#: messages it holds for the client before the app's send waits.
WS_CLIENT_FRAMES = 4
WS_APP_MESSAGES = 64


class _BoundedWebSocketStream(ASGIWebSocketAsyncNetworkStream):
    """httpx-ws's in-process WebSocket stream with back-pressure, as a socket's buffers give:
    the client's send waits once :data:`WS_CLIENT_FRAMES` frames are queued for the app, and
    the app's send once :data:`WS_APP_MESSAGES` messages are queued for the client, so neither
    side piles a long stream up in memory when the other is slower. (A WebSocket client reads
    in its own task, as every convoport live session does, so the two waits cannot block each
    other.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._receive_queue = anyio.streams.stapled.StapledObjectStream(
            *anyio.create_memory_object_stream[Any](max_buffer_size=WS_CLIENT_FRAMES)
        )
        self._send_queue = anyio.streams.stapled.StapledObjectStream(
            *anyio.create_memory_object_stream[Any](max_buffer_size=WS_APP_MESSAGES)
        )

    _app_done = False

    async def _run(self) -> None:
        try:
            await super()._run()
        finally:
            # The app is gone (it closed the socket, or failed): what the client still sends is
            # lost, as bytes written to a closed socket are, and a send waiting on the full
            # queue is woken up.
            self._app_done = True
            await self._receive_queue.receive_stream.aclose()

    async def send(self, message: Any) -> None:
        if self._app_done:
            return
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._receive_queue.send(message)

    async def aclose(self) -> None:
        # never wait to say goodbye: a full queue to an app that stopped reading is closed
        with contextlib.suppress(
            anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.WouldBlock
        ):
            self._receive_queue.send_stream.send_nowait({"type": "websocket.disconnect"})
        await self._receive_queue.aclose()
        await self._send_queue.aclose()


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
        stream = _BoundedWebSocketStream(
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
