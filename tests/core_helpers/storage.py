"""A fake storage host for pre-signed links (an ``httpx.MockTransport`` handler).

It serves one file at ``https://storage.example/bucket/file.bin?X-Amz-Signature=<sig>&...``.
Signatures are valid until expired; it can cut a body after N bytes (ending early or with a
read error, optionally expiring the link at that moment), answer scripted statuses first,
honour or ignore ``Range``, redirect through another host, and records every request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import attrs
import httpx

STORAGE = "https://storage.example/bucket/file.bin"
REDIRECTOR = "https://redirect.example/go"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class _Body(httpx.AsyncByteStream):
    def __init__(self, data: bytes, *, fail: bool, piece: int) -> None:
        self.data, self.fail, self.piece = data, fail, piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.piece):
            yield self.data[start : start + self.piece]
        if self.fail:
            raise httpx.ReadError("connection reset")

    async def aclose(self) -> None:
        pass


@attrs.define
class Cut:
    """The ``n``-th body response sends ``after`` bytes, then ends (``error``: a read error
    instead of a clean early end); ``expire`` also expires the link then."""

    after: int
    error: bool = False
    expire: bool = False


@attrs.define
class FakeStorage:
    data: bytes
    ranges: bool = True
    cuts: list[Cut] = attrs.field(factory=list)
    script: list[httpx.Response] = attrs.field(factory=list)
    redirect: bool = False
    piece: int = 7
    etag: str | None = '"v1"'
    requests: list[httpx.Request] = attrs.field(factory=list)
    valid: set[str] = attrs.field(factory=set)
    minted: int = 0
    connect_errors: int = 0
    gone_status: int = 403

    def link(self, *, lifetime: float = 3600) -> tuple[str, datetime]:
        """A freshly signed link and its expiry."""
        self.minted += 1
        sig = f"sig{self.minted:04d}deadbeefcafe"
        self.valid.add(sig)
        base = REDIRECTOR if self.redirect else STORAGE
        return (
            f"{base}?X-Amz-Credential=AKIDEXAMPLE%2F{self.minted}&X-Amz-Expires=60"
            f"&X-Amz-Signature={sig}",
            NOW + timedelta(seconds=lifetime),
        )

    async def refresh(self) -> tuple[str, datetime | None]:
        return self.link()

    def expire_all(self) -> None:
        self.valid.clear()

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.connect_errors:
            self.connect_errors -= 1
            raise httpx.ConnectError("no route", request=request)
        if request.url.host == "redirect.example":
            target = httpx.URL(STORAGE).copy_with(query=request.url.query)
            return httpx.Response(302, headers={"location": str(target)})
        if self.script:
            return self.script.pop(0)
        sig = request.url.params.get("X-Amz-Signature")
        if sig not in self.valid:
            return httpx.Response(
                self.gone_status,
                content=(
                    "<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"
                    f"<SignatureProvided>{sig}</SignatureProvided></Error>"
                ).encode(),
                headers={"content-type": "application/xml"},
            )
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        status = 200
        headers = {"content-type": "audio/wav"}
        if self.etag:
            headers["etag"] = self.etag
        if match and self.ranges:
            start = int(match.group(1))
            if start >= len(self.data):
                return httpx.Response(416, headers={"content-range": f"bytes */{len(self.data)}"})
            status = 206
            headers["content-range"] = f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"
        body = self.data[start:]
        headers["content-length"] = str(len(body))
        fail = False
        if self.cuts:
            cut = self.cuts.pop(0)
            body, fail = body[: cut.after], cut.error
            if cut.expire:
                self.valid.discard(sig)
        return httpx.Response(
            status, headers=headers, stream=_Body(body, fail=fail, piece=self.piece)
        )
