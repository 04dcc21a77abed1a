"""An ``httpx.AsyncClient`` on an emulator that checks every answer against the vendor's
OpenAPI document as it arrives.

``async with CheckedClient(harness.transport(), DOCUMENT, base_url=...) as http:`` gives the
client; each answer is read whole and checked with
:meth:`~tests.support.openapi.OpenAPIDocument.answer_errors`, its problems collected in
:attr:`CheckedClient.problems` (the test asserts there are none, or looks at them; with
``strict=True`` leaving the block asserts it), and the
``(method, path, status)`` of every answer kept in :attr:`CheckedClient.answered`.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from tests.support.openapi import OpenAPIDocument


class CheckedClient:
    """An ``httpx.AsyncClient`` over ``transport`` whose every answer is checked against
    ``document`` (an async context manager that gives the client and closes it)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        document: OpenAPIDocument,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> None:
        self.document = document
        #: Whether leaving the ``async with`` block fails when any answer had a problem.
        self.strict = strict
        #: One line per way an answer departed from the document, in arrival order.
        self.problems: list[str] = []
        #: ``(method, path, status)`` of every answer, in arrival order.
        self.answered: list[tuple[str, str, int]] = []
        self.client = httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            headers=dict(headers or {}),
            event_hooks={"response": [self._check]},
        )

    async def _check(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        path = request.url.path
        self.answered.append((request.method, path, response.status_code))
        self.problems += self.document.answer_errors(
            request.method,
            path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
        )

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        if self.strict and exc[0] is None:
            assert not self.problems, "\n".join(self.problems)


__all__ = ["CheckedClient"]
