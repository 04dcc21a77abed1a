"""The recorder tees: streamed response bodies reach the caller as they arrive, streamed
request bodies reach the vendor as they are produced, WebSocket sessions are recorded frame by
frame — and every recording replays."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from convoport.contracts.cassette import BinaryBody, MultipartBody, TextBody, loads_cassette
from convoport.contracts.transport import RecordingTransport, ReplayTransport
from convoport.contracts.ws import replay_transport, websocket_sessions
from convoport.multipart import FilePart, MultipartWriter
from convoport.redact import REDACTED, Redactor
from convoport.sandbox import InProcessTransport

pytestmark = pytest.mark.anyio

TOKEN = "tok-live-0123456789-secret"


async def test_an_event_stream_reaches_the_caller_before_it_ends() -> None:
    second = asyncio.Event()
    produced: list[str] = []

    async def events() -> AsyncIterator[bytes]:
        produced.append("first")
        yield b'event: status\ndata: {"phase": "start"}\n\n'
        await second.wait()  # the server sends more only once the caller saw the first
        produced.append("second")
        yield b"event: done\ndata: {}\n\n"

    async def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Stream(events())
        )

    recorder = RecordingTransport(httpx.MockTransport(vendor), stream_chunk_size=7)
    async with (
        httpx.AsyncClient(transport=recorder) as client,
        client.stream("GET", "https://api.example.com/events") as response,
    ):
        chunks = response.aiter_raw()
        first = await anext(chunks)
        assert first.startswith(b"event: status")
        assert produced == ["first"], "the recorder read ahead of the caller"
        assert recorder.open_exchanges == 1
        second.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert produced == ["first", "second"]
    (interaction,) = recorder.interactions
    body = interaction.response.body
    assert isinstance(body, TextBody)
    assert body.text == (first + rest).decode()
    assert interaction.response.chunk_size == 7
    cassette = loads_cassette(recorder.cassette({"scenario": "sse"}).dumps())
    replay = ReplayTransport(cassette)
    async with (
        httpx.AsyncClient(transport=replay) as client,
        client.stream("GET", "https://api.example.com/events") as response,
    ):
        pieces = [chunk async for chunk in response.aiter_raw()]
    assert b"".join(pieces) == first + rest
    assert len(pieces) > 1, "the replay streams the body in chunk_size pieces"
    replay.assert_all_used()


async def test_a_streamed_multipart_upload_is_digested_as_it_goes() -> None:
    audio = bytes(range(256)) * 512  # 128 KiB
    produced: list[int] = []

    async def file_chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(audio), 8192):
            produced.append(start)
            yield audio[start : start + 8192]

    started_with: list[int] = []

    async def vendor(request: httpx.Request) -> httpx.Response:
        started_with.append(len(produced))
        received = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        return httpx.Response(200, json={"received": len(received)})

    writer = MultipartWriter.from_fields(
        {"language": "en"},
        [
            FilePart(
                name="file",
                filename="call.wav",
                content=file_chunks(),
                content_type="audio/wav",
                size=len(audio),
            )
        ],
    )
    recorder = RecordingTransport(_Handler(vendor))  # MockTransport would read the body first
    async with httpx.AsyncClient(transport=recorder) as client:
        response = await client.post(
            "https://api.example.com/analyze", content=writer.stream(), headers=writer.headers()
        )
    assert response.status_code == 200
    assert started_with == [0], "the upload was buffered before the vendor read it"
    (interaction,) = recorder.interactions
    body = interaction.request.body
    assert isinstance(body, MultipartBody)
    assert body.fields == {"language": ("en",)}
    (digest,) = body.files["file"]
    assert digest.sha256 == hashlib.sha256(audio).hexdigest()
    assert digest.size == len(audio)
    assert digest.filename == "call.wav"
    assert interaction.request.headers["content-type"] == "multipart/form-data"


async def test_a_body_cut_short_keeps_its_declared_length() -> None:
    async def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "audio/wav", "content-length": "10"},
            stream=_Stream(_once(b"12345")),
        )

    recorder = RecordingTransport(httpx.MockTransport(vendor))
    async with (
        httpx.AsyncClient(transport=recorder) as client,
        client.stream("GET", "https://media.example.com/r/1") as response,
    ):
        data = b"".join([chunk async for chunk in response.aiter_raw()])
    assert data == b"12345"
    (interaction,) = recorder.interactions
    assert interaction.response.headers["content-length"] == "10"
    assert interaction.response.body == BinaryBody(data=b"12345")


async def test_websocket_frames_are_recorded_and_replay() -> None:
    async def session(ws: WebSocket) -> None:
        await ws.accept()
        hello = await ws.receive_json()
        await ws.send_json({"type": "ack", "echo": hello["type"], "token": TOKEN})
        audio = await ws.receive_bytes()
        await ws.send_text(f"got {len(audio)} bytes")
        await ws.send_bytes(b"\x00\x01\x02")
        await ws.close(code=1000)

    app = Starlette(routes=[WebSocketRoute("/live", session)])
    inner = InProcessTransport(app)
    recorder = RecordingTransport(inner, redactor=Redactor([TOKEN]))
    url = f"wss://api.example.com/live?token={TOKEN}"

    async def talk(transport: httpx.AsyncBaseTransport) -> list[object]:
        got: list[object] = []
        ws: AsyncWebSocketSession
        async with (
            httpx.AsyncClient(transport=transport) as client,
            aconnect_ws(url, client) as ws,
        ):
            await ws.send_json({"type": "hello"})
            got.append(await ws.receive_json())
            await ws.send_bytes(b"a" * 3200)
            got.append(await ws.receive_text())
            got.append(await ws.receive_bytes())
            with pytest.raises(Exception):  # noqa: B017 - the server closed the socket
                await ws.receive_text()
        return got

    recorded = await talk(recorder)
    await inner.aclose()
    cassette = loads_cassette(recorder.cassette({"scenario": "ws"}).dumps())
    assert TOKEN not in cassette.dumps()
    (ws_session,) = websocket_sessions(cassette)
    assert ws_session.url == f"wss://api.example.com/live?token={REDACTED}"
    kinds = [(f.dir, f.type) for f in ws_session.frames]
    assert kinds == [
        ("send", "text"),
        ("recv", "text"),
        ("send", "binary"),
        ("recv", "text"),
        ("recv", "binary"),
        ("recv", "close"),
    ]
    assert ws_session.frames[0].json == {"type": "hello"}
    assert ws_session.frames[1].json == {"type": "ack", "echo": "hello", "token": REDACTED}
    assert ws_session.frames[2].digest() == (hashlib.sha256(b"a" * 3200).hexdigest(), 3200)
    assert ws_session.frames[4].data == b"\x00\x01\x02"
    replay = replay_transport(cassette)
    replayed = await talk(replay)
    assert replayed[1:] == recorded[1:]
    assert replayed[0] == {"type": "ack", "echo": "hello", "token": REDACTED}
    replay.assert_all_used()
    assert json.loads(cassette.dumps())["websocket"][0]["frames"][-1]["data"]["code"] == 1000


class _Handler(httpx.AsyncBaseTransport):
    def __init__(self, handler: Callable[[httpx.Request], Awaitable[httpx.Response]]) -> None:
        self._handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._handler(request)


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
