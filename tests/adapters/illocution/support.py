"""Shared test support: a fake clock, transports that capture or pace exchanges, and the
drivers of the Illocution-specific cassette scenarios (the kit's own scenarios live in
``convoport.contracts.scenarios``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import httpx

from convoport import serde
from convoport.adapters.illocution.adapter import IllocutionAdapter
from convoport.adapters.illocution.live import IllocutionLiveSession
from convoport.client import AsyncClient
from convoport.contracts.cassette import (
    Interaction,
    JsonBody,
    RecordedRequest,
    RecordedResponse,
    TextBody,
)
from convoport.contracts.scenarios import generate_audio, outcome_of_error
from convoport.contracts.transport import ReplayTransport, classify_body
from convoport.errors import ConvoportError
from convoport.live import LiveOptions

ADAPTER_DIR = Path(__file__).resolve().parents[3] / "adapters" / "illocution"
CASSETTES = ADAPTER_DIR / "cassettes"
EXPECTED = ADAPTER_DIR / "expected"
BASE_URL = "https://api.illocution.ai"
PIECE = 32_000
SSE_CHUNK = 61

Outcome = dict[str, Any]


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polls state owned by other tasks
            await asyncio.sleep(0.002)


def adapter_of(client: AsyncClient) -> IllocutionAdapter:
    adapter = client.adapter
    assert isinstance(adapter, IllocutionAdapter)
    return adapter


# -- scenario drivers ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Hooks:
    """What a driver calls at the scenario's pause point (``args["pause_after_pieces"]``)."""

    pause: Callable[[IllocutionLiveSession, Mapping[str, Any]], Awaitable[None]] | None = None


def keepalive_pause(clock: FakeClock) -> Callable[..., Awaitable[None]]:
    async def pause(live: IllocutionLiveSession, args: Mapping[str, Any]) -> None:
        before = live.keepalives_sent
        clock.advance(float(args["silence_seconds"]))
        await wait_until(lambda: live.keepalives_sent > before)

    return pause


async def drive_live(
    client: AsyncClient, args: Mapping[str, Any], hooks: Hooks | None = None
) -> tuple[Outcome, Any]:
    """Start, send the audio in 32,000-byte pieces (pausing or cancelling where the args
    say), finalize, read every event, wait for the result."""
    hooks = hooks or Hooks()
    audio = generate_audio(args.get("audio", {}))
    options = serde.structure(args.get("options", {}), LiveOptions)
    kinds: list[str] = []
    try:
        async with await client.start_live(options) as live:
            assert isinstance(live, IllocutionLiveSession)
            cancelled = False
            pieces = [audio[i : i + PIECE] for i in range(0, len(audio), PIECE)]
            for n, piece in enumerate(pieces, 1):
                await live.send_audio(piece)
                if n == args.get("pause_after_pieces") and hooks.pause is not None:
                    await hooks.pause(live, args)
                if n == args.get("cancel_after_pieces"):
                    await live.cancel()
                    cancelled = True
                    break
            if not cancelled:
                await live.finalize()
            async for event in live.events():
                kinds.append(event.kind)
            result = await live.wait()
    except ConvoportError as exc:
        return outcome_of_error(exc), exc
    return {"result": serde.unstructure(result), "events": kinds}, result


# -- transports --------------------------------------------------------------------------------


class _HeldStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, ready: Callable[[], bool]) -> None:
        self._inner = inner
        self._ready = ready

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await wait_until(self._ready, timeout=10.0)
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class PacedReplay(httpx.AsyncBaseTransport):
    """Replay whose event stream delivers its body only once every other recorded interaction
    has been used (a server sends the terminal event after the client's last request; a plain
    replay would deliver it at once)."""

    def __init__(self, replay: ReplayTransport) -> None:
        self.replay = replay

    def _others_used(self) -> bool:
        return all(i.request.url.endswith("/events") for i in self.replay.unused())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.replay.handle_async_request(request)
        if not request.url.path.endswith("/events") or response.status_code != 200:
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_HeldStream(response.stream, self._others_used),
            request=request,
        )


class _CapturedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, done: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._done = done
        self._data = bytearray()
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._data += chunk
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._done(bytes(self._data))
        await self._inner.aclose()


_REQUEST_HEADERS = ("accept",)


class CaptureTransport(httpx.AsyncBaseTransport):
    """Wraps the emulator's transport and keeps each exchange as a cassette interaction, in
    request order. An event stream is kept as text (delivered in ``SSE_CHUNK`` pieces on
    replay). A dropped answer is kept as the gateway's 504, which is what a client behind a
    proxy sees when the upstream stored the request and the answer was lost."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        on_response: Callable[[httpx.Request, httpx.Response], Awaitable[None]] | None = None,
    ) -> None:
        self.inner = inner
        self.on_response = on_response
        self.slots: list[Interaction | None] = []

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        missing = [i for i, slot in enumerate(self.slots) if slot is None]
        assert not missing, f"exchanges still open: {missing}"
        return tuple(slot for slot in self.slots if slot is not None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        ctype = request.headers.get("content-type")
        headers = {k: request.headers[k] for k in _REQUEST_HEADERS if k in request.headers}
        if ctype and ctype.startswith("application/json"):
            headers["content-type"] = ctype
        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            headers=headers,
            body=classify_body(ctype, content, request=True),
        )
        index = len(self.slots)
        self.slots.append(None)

        def store(response: RecordedResponse) -> None:
            self.slots[index] = Interaction(request=recorded, response=response)

        try:
            response = await self.inner.handle_async_request(request)
        except httpx.RemoteProtocolError:
            store(
                RecordedResponse(
                    status=504,
                    headers={"content-type": "application/json"},
                    body=JsonBody(value={"detail": "Gateway Timeout"}),
                )
            )
            raise
        if self.on_response is not None:
            await self.on_response(request, response)
        rtype = response.headers.get("content-type", "")
        stored_headers = {"content-type": rtype} if rtype else {}
        if "retry-after" in response.headers:
            stored_headers["retry-after"] = response.headers["retry-after"]
        if rtype.startswith("text/event-stream"):
            assert isinstance(response.stream, httpx.AsyncByteStream)

            def done(data: bytes) -> None:
                store(
                    RecordedResponse(
                        status=response.status_code,
                        headers=stored_headers,
                        body=TextBody(text=data.decode()),
                        chunk_size=SSE_CHUNK,
                    )
                )

            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_CapturedStream(response.stream, done),
                request=request,
            )
        body = await response.aread()
        classified = classify_body(rtype, body, request=False)
        assert not isinstance(classified, type(None)) or not body
        store(
            RecordedResponse(
                status=response.status_code,
                headers=stored_headers,
                body=classified,  # type: ignore[arg-type]
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = [
    "BASE_URL",
    "CASSETTES",
    "EXPECTED",
    "CaptureTransport",
    "FakeClock",
    "Hooks",
    "PacedReplay",
    "adapter_of",
    "drive_live",
    "keepalive_pause",
    "wait_until",
]
