"""An in-process httpx transport that *streams* ASGI responses.

``httpx.ASGITransport`` (and httpx-ws's ``ASGIWebSocketTransport``, which inherits its HTTP
handling) runs the app to completion and buffers the whole body before returning the response.
An SSE stream that only ends when the session does — while the same client keeps POSTing
chunks — deadlocks there. This transport runs the app in a task, returns the response as soon
as ``http.response.start`` arrives and hands body pieces over as the app sends them. The
request body is fed to the app as it is read (a streamed upload stays streamed).

Closing the response (the client stops reading) sends ``http.disconnect`` to the app and
cancels it if it does not stop. ``DroppedConnection`` raised by the app (or by
``FaultMiddleware``) becomes ``httpx.RemoteProtocolError``, before or during the body, as a lost
connection would.

:func:`convoport.sandbox.emulator_transport` serves HTTP through it and WebSocket upgrades
through httpx-ws (see :class:`convoport.sandbox.InProcessTransport`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from convoport.sandbox._faults import DroppedConnection

_END = object()


class _Body(httpx.AsyncByteStream):
    def __init__(
        self,
        queue: asyncio.Queue[Any],
        task: asyncio.Task[None],
        disconnected: asyncio.Event,
        request: httpx.Request,
    ) -> None:
        self._queue = queue
        self._task = task
        self._disconnected = disconnected
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                if isinstance(item, DroppedConnection):
                    raise httpx.RemoteProtocolError(str(item), request=self._request)
                raise httpx.ReadError(f"the app failed: {item!r}", request=self._request)
            yield item

    async def aclose(self) -> None:
        self._disconnected.set()
        if not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=1.0)
            except (TimeoutError, Exception):
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Serves an ASGI app in-process with streamed request and response bodies."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }
        body_iter = request.stream.__aiter__()
        request_done = False
        disconnected = asyncio.Event()
        loop = asyncio.get_running_loop()
        started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = loop.create_future()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        finished = False

        async def receive() -> Message:
            nonlocal request_done
            if request_done or disconnected.is_set():
                await disconnected.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await body_iter.__anext__()
            except StopAsyncIteration:
                request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": bytes(chunk), "more_body": True}

        async def send(message: Message) -> None:
            nonlocal finished
            if disconnected.is_set():
                raise OSError("the client disconnected")
            if message["type"] == "http.response.start":
                if not started.done():
                    started.set_result((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body" and not finished:
                body = message.get("body", b"")
                if body and request.method != "HEAD":
                    queue.put_nowait(bytes(body))
                if not message.get("more_body", False):
                    finished = True
                    queue.put_nowait(_END)

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except asyncio.CancelledError:
                if not started.done():
                    started.cancel()
                queue.put_nowait(_END)
                raise
            except BaseException as exc:
                if not started.done():
                    started.set_exception(exc)
                else:
                    queue.put_nowait(exc)
                    queue.put_nowait(_END)
                return
            if not started.done():
                started.set_exception(RuntimeError("the app returned without a response"))
            queue.put_nowait(_END)

        task = asyncio.create_task(run())
        try:
            status, headers = await started
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None
        except asyncio.CancelledError:
            task.cancel()
            raise
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(queue, task, disconnected, request),
            request=request,
        )


__all__ = ["StreamingASGITransport"]
