"""``HttpClient.request(data=..., files=...)`` writes through ``convoport.multipart`` and sends
what httpx itself would (same parts, same bytes but for the random boundary)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from convoport import multipart as mp
from convoport.http import HttpClient, multipart_body


def _capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        return httpx.Response(200, json={})

    return seen, httpx.MockTransport(handler)


def test_files_and_data_bytes_equal_httpx_encoding() -> None:
    seen, transport = _capture()
    http = HttpClient(provider="t", base_url="https://api.example", transport=transport)
    data = {"chunk_seq": "7", "flag": True, "many": ["a", "b"]}
    files: dict[str, Any] = {
        "chunk": ("chunk-7", b"\x00\x01--x\r\n", "application/octet-stream"),
        "w": b"hi",
    }
    asyncio.run(http.request("POST", "/up", data=data, files=files, retry=False))
    [request] = seen
    boundary = mp.boundary_of(request.headers["content-type"])
    assert boundary is not None
    reference = httpx.Request("POST", "https://x/", data=data, files=files)
    ref_boundary = mp.boundary_of(reference.headers["content-type"])
    assert ref_boundary is not None
    assert request.content == reference.read().replace(ref_boundary.encode(), boundary.encode())
    assert request.headers["content-length"] == str(len(request.content))
    parts = mp.parse(request.headers["content-type"], request.content)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("chunk_seq", None, None),
        ("flag", None, None),
        ("many", None, None),
        ("many", None, None),
        ("chunk", "chunk-7", "application/octet-stream"),
        ("w", "upload", "application/octet-stream"),
    ]


def test_streamed_file_part_and_guessed_type() -> None:
    seen, transport = _capture()
    http = HttpClient(provider="t", base_url="https://api.example", transport=transport)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"RIFF"
        yield b"data"

    part = mp.FilePart(name="ignored", filename="a.wav", content=chunks(), content_type=None)
    asyncio.run(http.request("POST", "/up", files=[("file", part), ("t", ("n.txt", "x"))]))
    [request] = seen
    assert "content-length" not in request.headers
    parts = mp.parse(request.headers["content-type"], request.content)
    assert [(p.name, p.filename, p.content_type, p.data) for p in parts] == [
        ("file", "a.wav", None, b"RIFFdata"),
        ("t", "n.txt", "text/plain", b"x"),
    ]
    with pytest.raises(TypeError, match="content must be bytes"):
        multipart_body(None, {"f": ("a", 3)})
