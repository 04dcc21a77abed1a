"""Batch analysis: the recording is streamed as a multipart body, never read whole."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from convoport.adapters.illocution.emulator import IllocutionEmulator, multipart_parts
from convoport.connect import connect
from convoport.errors import AuthenticationError
from convoport.live import LiveOptions
from convoport.media import MediaSource
from convoport.model import SessionStatus
from convoport.sandbox import make_wav, tone_pcm


class _SpyStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, spy: Spy) -> None:
        self.inner = inner
        self.spy = spy

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.inner:
            self.spy.largest = max(self.spy.largest, len(piece))
            self.spy.total += len(piece)
            yield piece


class Spy(httpx.AsyncBaseTransport):
    """Records what kind of body each request had and the largest piece sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.streams: list[httpx.AsyncByteStream | httpx.SyncByteStream] = []
        self.headers: list[httpx.Headers] = []
        self.largest = 0
        self.total = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.streams.append(request.stream)
        self.headers.append(request.headers)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        request.stream = _SpyStream(request.stream, self)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _ten_megabytes(tmp_path: Path) -> Path:
    second = tone_pcm(1.0, silence_every=1.0)
    path = tmp_path / "archived-call.wav"
    path.write_bytes(make_wav(second * 330))  # 330 s, 10.56 MB
    return path


@pytest.mark.anyio
async def test_a_10_mb_file_is_streamed(tmp_path: Path) -> None:
    path = _ten_megabytes(tmp_path)
    size = path.stat().st_size
    assert size > 10_000_000
    emulator = IllocutionEmulator(seed=1)
    spy = Spy(emulator.transport())
    async with connect("illocution", transport=spy, **emulator.connect_options()) as client:
        result = await client.analyze(path)
    (stream,) = spy.streams
    assert not isinstance(stream, httpx.ByteStream)  # an iterator, not bytes in memory
    assert spy.largest <= 1 << 16  # never more than one read of the file at a time
    (headers,) = spy.headers
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(headers["content-length"]) == spy.total
    assert "transfer-encoding" not in headers
    assert emulator.bytes_received(result.session.id) == size
    assert result.bytes_sent == size
    assert result.session.status is SessionStatus.COMPLETED
    assert len(result.transcript.utterances) == 330
    assert result.transcript.session_id == result.session.id
    assert result.summary is not None
    assert result.summary.format == "markdown"
    assert result.session.provider_data["moments"][0]["start"] == 2.0


@pytest.mark.anyio
async def test_a_stream_of_unknown_size_is_sent_chunked() -> None:
    emulator = IllocutionEmulator(seed=2)
    audio = make_wav(tone_pcm(3.0, silence_every=1.0))

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(audio), 10_000):
            yield audio[i : i + 10_000]

    spy = Spy(emulator.transport())
    async with connect("illocution", transport=spy, **emulator.connect_options()) as client:
        result = await client.analyze(MediaSource.of(pieces(), filename="call.wav"))
    (headers,) = spy.headers
    assert "content-length" not in headers
    assert headers["transfer-encoding"] == "chunked"
    assert emulator.bytes_received(result.session.id) == len(audio)
    assert len(result.transcript.utterances) == 3


@pytest.mark.anyio
async def test_raw_pcm_gets_an_exact_wav_header_and_form_fields_are_sent() -> None:
    emulator = IllocutionEmulator(seed=3)
    pcm = tone_pcm(2.0, sample_rate=8000, silence_every=1.0)
    async with connect("illocution", transport=emulator.transport(),
                       **emulator.connect_options()) as client:  # fmt: skip
        result = await client.analyze(
            pcm, LiveOptions(encoding="pcm", sample_rate=8000, provider_options={"goal": "x"})
        )
    assert emulator.bytes_received(result.session.id) == len(pcm) + 44
    assert result.bytes_sent == len(pcm)
    assert len(result.transcript.utterances) == 2


@pytest.mark.anyio
async def test_batch_auth_failure() -> None:
    emulator = IllocutionEmulator(seed=4)
    async with connect("illocution", transport=emulator.transport(), api_key="nope",
                       base_url="https://api.illocution.ai") as client:  # fmt: skip
        with pytest.raises(AuthenticationError):
            await client.analyze(b"RIFF....")


def _body(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _splits(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.mark.anyio
@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
async def test_the_emulators_streaming_multipart_parser(size: int) -> None:
    payload = bytes(range(256)) * 50 + b"\r\n--b0undaX\r\n--b0undar"
    body = _body([("chunk_seq", None, b"12"), ("chunk", "c-0", payload)])

    async def source() -> AsyncIterator[bytes]:
        for piece in _splits(body, size):
            yield piece

    got: dict[str, bytes] = {}
    async for headers, piece in multipart_parts("multipart/form-data; boundary=b0undary", source()):
        name = headers["content-disposition"].split('name="')[1].split('"')[0]
        got[name] = got.get(name, b"") + (piece or b"")
    assert got == {"chunk_seq": b"12", "chunk": payload}
