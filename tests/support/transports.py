"""Transports for adapter tests: seeing every request an adapter sends."""

from __future__ import annotations

from collections.abc import Callable

import httpx

#: A function answering one request (what ``httpx.MockTransport`` calls).
Handler = Callable[[httpx.Request], httpx.Response]


class Observed(httpx.AsyncBaseTransport):
    """Notes every request in :attr:`requests` (in the order sent, retries included), then
    passes it on to ``inner``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def observed_mock(handler: Handler) -> Observed:
    """An ``httpx.MockTransport`` on ``handler`` whose requests are noted."""
    return Observed(httpx.MockTransport(handler))


__all__ = ["Handler", "Observed", "observed_mock"]
