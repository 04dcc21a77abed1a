"""Shared test support: a fake clock, a transport that paces replayed event streams, and the
driver of the Illocution-specific scenarios (the kit's own scenarios live in
``convoport.contracts.scenarios``; recording is the kit's ``RecordingTransport``, which streams
SSE, so no capture transport of our own is needed)."""

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
from convoport.contracts.scenarios import generate_audio
from convoport.contracts.transport import ReplayTransport
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
) -> dict[str, Any]:
    """Start, send the audio in 32,000-byte pieces (pausing or cancelling where the args
    say), finalize, read every event, wait for the result: ``{"result": IngestResult,
    "events": [kinds]}`` (a convoport error propagates)."""
    hooks = hooks or Hooks()
    audio = generate_audio(args.get("audio", {}))
    options = serde.structure(args.get("options", {}), LiveOptions)
    kinds: list[str] = []
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
    return {"result": result, "events": kinds}


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


__all__ = [
    "BASE_URL",
    "CASSETTES",
    "EXPECTED",
    "PIECE",
    "SSE_CHUNK",
    "FakeClock",
    "Hooks",
    "PacedReplay",
    "adapter_of",
    "drive_live",
    "keepalive_pause",
    "wait_until",
]
