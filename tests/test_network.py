"""The connection pool's idle check (convoport._network): installed on the default transport
only, answering from the socket found once, and still seeing a server's close."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpcore
import httpx
import pytest

from convoport._network import CheapIdleCheck, _Stream, install, readable
from convoport.http import HttpClient

pytestmark = pytest.mark.anyio


def test_readable_answers_like_a_read_would() -> None:
    left, right = socket.socketpair()
    try:
        assert not readable(left)
        right.sendall(b"x")
        assert readable(left)
        left.recv(1)
        assert not readable(left)
        right.close()
        assert readable(left)  # the end of the stream is readable
    finally:
        left.close()
    assert readable(left)  # closed: fileno() is -1
    assert readable(None)


async def test_installed_on_the_default_transport_only() -> None:
    plain = HttpClient(provider="x", base_url="http://127.0.0.1:9")
    pool = plain.httpx_client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, CheapIdleCheck)
    assert not install(plain.httpx_client)  # never twice
    await plain.aclose()

    mocked = HttpClient(
        provider="x",
        base_url="http://127.0.0.1:9",
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
    )
    assert not install(mocked.httpx_client)
    await mocked.aclose()
    async with httpx.AsyncClient(proxy="http://127.0.0.1:9") as proxied:
        assert install(proxied)  # the direct transport; the proxy's own pool is left alone
        mounts: dict[Any, Any] = proxied._mounts
        for mount in mounts.values():
            if mount is not None:
                assert not isinstance(mount._pool._network_backend, CheapIdleCheck)


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    """The server answers once per connection, then closes it without saying so: the next
    request (a POST, which nothing retries) must go on a new connection."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = HttpClient(provider="x", base_url=f"http://127.0.0.1:{port}")
    try:
        for _ in range(3):
            response = await client.httpx_client.post(f"http://127.0.0.1:{port}/", content=b"hi")
            assert response.text == "ok"
            await asyncio.sleep(0.05)  # the close reaches this side
        assert connections == 3
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


class _FakeStream(httpcore.AsyncNetworkStream):
    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.calls: list[str] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.calls.append("read")
        return b"data"

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.calls.append("write")

    async def aclose(self) -> None:
        self.calls.append("aclose")

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self.calls.append("start_tls")
        return _FakeStream(None)

    def get_extra_info(self, info: str) -> Any:
        self.calls.append(info)
        return self.sock if info == "socket" else "inner"


async def test_the_stream_delegates_and_keeps_its_socket_over_tls() -> None:
    left, right = socket.socketpair()
    try:
        inner = _FakeStream(left)
        stream = _Stream(inner)
        assert await stream.read(10) == b"data"
        await stream.write(b"x")
        assert stream.get_extra_info("is_readable") is False
        right.sendall(b"!")
        assert stream.get_extra_info("is_readable") is True
        assert stream.get_extra_info("ssl_object") == "inner"
        tls = await stream.start_tls(None, "example.invalid")
        assert tls.get_extra_info("is_readable") is True  # the same socket under TLS
        await stream.aclose()
        assert inner.calls == ["socket", "read", "write", "ssl_object", "start_tls", "aclose"]
        # a stream without a socket asks the wrapped one
        bare = _FakeStream(None)
        assert _Stream(bare).get_extra_info("is_readable") == "inner"
    finally:
        left.close()
        right.close()
