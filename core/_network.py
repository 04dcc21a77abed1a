"""A cheaper idle-connection check for httpcore's connection pool.

Before each request httpcore's pool asks every idle connection whether the server closed it
(``get_extra_info("is_readable")``: a zero-timeout ``poll`` of its socket). Under AnyIO that
question first rebuilds the stream's whole attribute table, with a ``getpeername`` system
call, to find the socket again: about 100 us of CPU per idle connection per request, which at
16 requests in flight was a fifth of a migration's CPU. The streams here find the socket once,
when the connection opens, and answer the same question with the same ``poll``; everything
else goes to the stream httpcore made.

:func:`install` puts this in front of the network backend of a client's default transport
(the one httpx builds when no transport is given) and leaves anything else as it is: a custom
transport, a proxy's pool, or an httpx whose internals are not the ones this was written for.
"""

from __future__ import annotations

import select
import sys
from collections.abc import Iterable
from typing import Any, Protocol

import httpcore
import httpx


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


def readable(sock: _HasFileno | None) -> bool:
    """Whether a read on ``sock`` would return at once (data, or the end of the stream): the
    test httpcore makes, without blocking. A closed or missing socket counts as readable, as
    its next read returns the end."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's stream with its socket found once."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: Any = None) -> None:
        self._inner = inner
        found = inner.get_extra_info("socket") if sock is None else sock
        # a socket.socket, or asyncio's TransportSocket around one
        self._sock: _HasFileno | None = found if callable(getattr(found, "fileno", None)) else None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # TLS runs over the same socket
        tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Stream(tls, self._sock)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._sock is not None:
            return readable(self._sock)
        return self._inner.get_extra_info(info)


class CheapIdleCheck(httpcore.AsyncNetworkBackend):
    """A network backend whose streams answer the pool's idle check cheaply; connecting,
    reading, writing, TLS and sleeping are the wrapped backend's."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def install(client: httpx.AsyncClient) -> bool:
    """Puts :class:`CheapIdleCheck` in front of the network backend of ``client``'s default
    transport, before its first request. False, changing nothing, when that transport is not
    httpx's own over httpcore's connection pool."""
    transport = getattr(client, "_transport", None)
    if type(transport) is not httpx.AsyncHTTPTransport:
        return False
    pool = getattr(transport, "_pool", None)
    if type(pool) is not httpcore.AsyncConnectionPool:
        return False
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.AsyncNetworkBackend) or isinstance(backend, CheapIdleCheck):
        return False
    pool._network_backend = CheapIdleCheck(backend)
    return True
