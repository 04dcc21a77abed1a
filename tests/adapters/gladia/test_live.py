"""Live ingest end to end: the emulator with forced drops, and scripted servers for the rest."""

from __future__ import annotations

import asyncio
import io
import json
import math
import wave
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import convoport
from convoport import LiveOptions, SessionStatus, serde
from convoport.adapters.gladia.emulator import GladiaEmulator
from convoport.adapters.gladia.live import GladiaLiveSession, frame_slices
from convoport.contracts.cassette import load_cassette
from convoport.contracts.transport import CassetteMismatch
from convoport.contracts.ws import CassetteTransport, InProcessTransport
from convoport.errors import LiveSessionError
from convoport.live import ErrorEvent, LiveEvent
from convoport.sandbox import Faults, make_wav, tone_pcm
from tests.adapters.gladia.payloads import done_job
from tests.adapters.gladia.scenarios import CASSETTES

FAST: dict[str, Any] = {"live_poll_interval": 0.01, "ws_backoff_base": 0.01, "ws_backoff_max": 0.02}


def wav_pcm(seconds: float, *, rate: int, channels: int) -> tuple[bytes, bytes]:
    """A generated WAV file and the PCM frames inside it (read back with ``wave``)."""
    wav = make_wav(
        tone_pcm(seconds, sample_rate=rate, channels=channels, silence_every=1.0),
        sample_rate=rate,
        channels=channels,
    )
    with wave.open(io.BytesIO(wav)) as w:
        return wav, w.readframes(w.getnframes())


async def stream(live: GladiaLiveSession, data: bytes, piece: int) -> list[LiveEvent]:
    for i in range(0, len(data), piece):
        await live.send_audio(data[i : i + piece])
    await live.finalize()
    return [event async for event in live.events()]


@pytest.mark.anyio
@pytest.mark.parametrize(("channels", "drop_after"), [(1, 3), (2, 2), (2, 5)])
async def test_wav_through_a_dropped_socket_loses_no_byte(channels: int, drop_after: int) -> None:
    harness = GladiaEmulator(faults=Faults(drop_ws_after_frames=drop_after))
    _, pcm = wav_pcm(5.3, rate=16000, channels=channels)
    async with convoport.connect(
        "gladia", transport=harness.transport(), **harness.connect_options(), **FAST
    ) as client:
        options = LiveOptions(sample_rate=16000, channels=channels)
        async with await client.start_live(options) as live:
            assert isinstance(live, GladiaLiveSession)
            events = await stream(live, pcm, 16000)
            result = await live.wait()
    assert harness.faults.injected.get("ws_drop") == 1
    assert live.reconnects == 1
    assert harness.bytes_received(live.session_id) == len(pcm) == result.bytes_sent
    assert live.unacknowledged_bytes == 0
    assert [e.kind for e in events][-1] == "done"
    assert any(getattr(e, "phase", None) == "reconnecting" for e in events)
    assert result.session.status is SessionStatus.COMPLETED
    assert result.session.duration == pytest.approx(5.3)
    # one utterance per second of audio per channel, covering all of it
    seconds = math.ceil(5.3)
    utterances = result.transcript.utterances
    assert len(utterances) == seconds * channels
    assert {(int(u.start or 0), u.channel) for u in utterances} == {
        (s, c) for s in range(seconds) for c in range(channels)
    }
    assert max(u.end or 0 for u in utterances) == pytest.approx(5.3)
    # the finals received live agree with the job's transcript
    finals = [e for e in events if e.kind == "final"]
    assert len(finals) == seconds * channels
    # the job's WAV holds exactly the audio streamed
    wav = harness.job(live.session_id).wav or b""
    with wave.open(io.BytesIO(wav)) as w:
        assert w.readframes(w.getnframes()) == pcm


@pytest.mark.anyio
async def test_large_sends_are_split_into_frames_of_at_most_1_mib() -> None:
    harness = GladiaEmulator(record_frames=True)
    pcm = tone_pcm(40.0, sample_rate=16000, silence_every=1.0)  # 1.28 MB
    assert len(pcm) > 1 << 20
    async with (
        convoport.connect(
            "gladia", transport=harness.transport(), **harness.connect_options(), **FAST
        ) as client,
        await client.start_live(LiveOptions(partial_transcripts=False)) as live,
    ):
        await live.send_audio(pcm)
        await live.finalize()
        await live.wait()
    sizes = [f["data"]["size"] for f in harness.ws_log[0] if f["type"] == "binary"]
    assert sizes == [1 << 20, len(pcm) - (1 << 20)]
    assert frame_slices(b"abcde", 2) == [b"ab", b"cd", b"e"]


# -- scripted servers -----------------------------------------------------------------------

SocketScript = Callable[[WebSocket, dict[str, Any]], Awaitable[None]]


def scripted(socket: SocketScript, job: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """A tiny Gladia: POST gives a socket URL, GET gives ``job``, the socket runs ``socket``."""
    state: dict[str, Any] = {"connections": 0, "headers": [], "audio": bytearray()}
    job = job or done_job()

    async def init(request: Request) -> JSONResponse:
        state["init_headers"] = dict(request.headers)
        return JSONResponse(
            {
                "id": job["id"],
                "created_at": "2026-09-14T13:02:11.482Z",
                "url": "wss://api.gladia.io/v2/live?token=tok-123456",
            },
            201,
        )

    async def get(request: Request) -> JSONResponse:
        return JSONResponse(job)

    async def ws(websocket: WebSocket) -> None:
        state["connections"] += 1
        state["headers"].append(dict(websocket.headers))
        await socket(websocket, state)

    app = Starlette(
        routes=[
            Route("/v2/live", init, methods=["POST"]),
            Route("/v2/live/{id}", get, methods=["GET"]),
            WebSocketRoute("/v2/live", ws),
        ]
    )
    return app, state


def msg(kind: str, **fields: Any) -> str:
    return json.dumps(
        {"session_id": "s", "created_at": "2026-09-14T13:02:11.482Z", "type": kind, **fields}
    )


async def run_script(
    socket: SocketScript, job: dict[str, Any] | None = None, **options: Any
) -> tuple[list[LiveEvent], Any, dict[str, Any]]:
    app, state = scripted(socket, job)
    client = convoport.connect(
        "gladia",
        api_key="test-key-abcdef",
        transport=InProcessTransport(app),
        **{**FAST, **options},
    )
    events: list[LiveEvent] = []
    outcome: Any = None
    async with client, await client.start_live(LiveOptions()) as live:
        await live.send_audio(b"\1\2" * 100)
        await live.finalize()
        try:
            async for event in live.events():
                events.append(event)
            outcome = await live.wait()
        except LiveSessionError as exc:
            outcome = exc
    return events, outcome, state


async def _ack_then_close(websocket: WebSocket, state: dict[str, Any]) -> None:
    await websocket.accept()
    data = await websocket.receive_bytes()
    state["audio"] += data
    await websocket.send_text(
        msg("audio_chunk", acknowledged=False, error={"message": "bad chunk"}, data=None)
    )
    await websocket.send_text(
        msg("named_entity_recognition", error={"message": "ner down"}, data=None)
    )
    await websocket.send_text("not json")
    await websocket.send_text(msg("error", message="defensive"))
    await websocket.send_text(msg("mystery", data={"x": 1}))
    text = await websocket.receive_text()
    assert json.loads(text) == {"type": "stop_recording"}
    await websocket.close(1000)


@pytest.mark.anyio
async def test_errors_inside_messages_become_events_and_no_credentials_reach_the_socket() -> None:
    events, result, state = await run_script(_ack_then_close)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [e.code for e in errors] == [
        "audio_chunk",
        "named_entity_recognition",
        "malformed",
        "error",
    ]
    assert not any(e.fatal for e in errors)
    assert [e.kind for e in events][-1] == "done"
    assert "mystery" in [getattr(e, "name", None) for e in events]
    assert result.session.status is SessionStatus.COMPLETED
    assert state["init_headers"]["x-gladia-key"] == "test-key-abcdef"
    assert all("x-gladia-key" not in h for h in state["headers"])
    assert all("authorization" not in h for h in state["headers"])


async def _always_drop(websocket: WebSocket, state: dict[str, Any]) -> None:
    await websocket.accept()
    if state["connections"] == 1:
        await websocket.receive_bytes()
    await websocket.close(1011)


@pytest.mark.anyio
async def test_reconnects_are_bounded_then_a_typed_error() -> None:
    events, outcome, state = await run_script(_always_drop, ws_reconnect_attempts=3)
    assert isinstance(outcome, LiveSessionError)
    assert "could not reconnect after 3 attempts" in str(outcome)
    assert state["connections"] == 4
    assert [getattr(e, "phase", None) for e in events].count("reconnecting") == 3


async def _refuse(websocket: WebSocket, state: dict[str, Any]) -> None:
    await websocket.accept()
    await websocket.close(4403, "session ended")


@pytest.mark.anyio
async def test_44xx_close_is_final() -> None:
    _, outcome, state = await run_script(_refuse)
    assert isinstance(outcome, LiveSessionError)
    assert "4403" in str(outcome)
    assert state["connections"] == 1


async def _normal(websocket: WebSocket, state: dict[str, Any]) -> None:
    await websocket.accept()
    await websocket.receive_bytes()
    await websocket.send_text(
        msg(
            "audio_chunk",
            acknowledged=True,
            error=None,
            data={"byte_range": [0, 200], "time_range": [0, 0.1]},
        )
    )
    await websocket.receive_text()
    await websocket.close(1000)


@pytest.mark.anyio
async def test_job_in_error_ends_with_a_fatal_error_event() -> None:
    job = {**done_job(), "status": "error", "error_code": 500, "result": None, "file": None}
    events, result, _ = await run_script(_normal, job)
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert last.fatal
    assert "500" in last.message
    assert result.session.status is SessionStatus.FAILED


@pytest.mark.anyio
async def test_job_still_processing_at_the_deadline() -> None:
    job = {**done_job(), "status": "processing", "result": None, "completed_at": None}
    events, result, _ = await run_script(_normal, job, live_poll_timeout=0.05)
    kinds = [e.kind for e in events]
    assert kinds[-2:] == ["error", "done"]
    assert result.session.status is SessionStatus.PROCESSING
    assert result.transcript.utterances == ()


@pytest.mark.anyio
async def test_cancel_ends_the_stream() -> None:
    async def hold(websocket: WebSocket, state: dict[str, Any]) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                state["closed"] = message.get("code")
                return

    app, state = scripted(hold)
    async with convoport.connect(
        "gladia", api_key="test-key", transport=InProcessTransport(app), **FAST
    ) as client:
        live = await client.start_live(LiveOptions())
        await live.send_audio(b"\0" * 10)
        await live.cancel()
        kinds = [e.kind async for e in live.events()]
        result = await live.wait()
        with pytest.raises(LiveSessionError, match="ended"):
            await live.send_audio(b"\0")
    assert kinds == ["status"]
    assert result.session.status is SessionStatus.CANCELLED
    assert state.get("closed") == 1000  # Gladia keeps what it received and post-processes


def test_replay_fails_when_the_audio_differs() -> None:
    cassette = load_cassette(CASSETTES / "live_ingest_roundtrip.json")
    transport = CassetteTransport(cassette)

    async def go() -> Any:
        async with convoport.connect(
            "gladia", api_key="test-key", transport=transport, **FAST
        ) as client:
            options = serde.structure(cassette.meta["args"]["options"], LiveOptions)
            async with await client.start_live(options) as live:
                await live.send_audio(b"\1" * 64000)  # not the recorded tone
                await live.finalize()
                try:
                    return await live.wait()
                except LiveSessionError as exc:
                    return exc

    outcome = asyncio.run(go())
    assert isinstance(outcome, LiveSessionError)
    with pytest.raises(CassetteMismatch, match="differ from the recording"):
        transport.websocket.assert_all_used()
    with pytest.raises(CassetteMismatch, match="never requested"):
        transport.assert_all_used()  # the job was never fetched either
