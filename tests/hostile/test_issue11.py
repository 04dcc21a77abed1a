"""Regression tests for issue 11 (hostile input and silent vendors), one section per item.

Items that the core refactor had already fixed say so in their docstring; the test proves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import sqlite3
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

import convoport
from convoport import (
    ArchiveError,
    ConfigError,
    ConvoportError,
    InvalidRequest,
    LiveSessionError,
    MalformedResponse,
    ProviderUnavailable,
)
from convoport.adapter import Adapter, load_object
from convoport.adapters._builtin import BUILTIN_ADAPTERS
from convoport.adapters.gladia import translate as gladia_translate
from convoport.adapters.illocution import translate as illocution_translate
from convoport.adapters.local import store
from convoport.capabilities import Capability
from convoport.cli import cli
from convoport.cli._app import os_error_message
from convoport.client import _safe_filename
from convoport.http import HttpClient, RetryPolicy, quote_segment
from convoport.live import AudioAcknowledged, ErrorEvent, LiveOptions
from convoport.model import Recording
from convoport.pagination import next_url
from convoport.sandbox import InProcessTransport, make_wav, tone_pcm, wav_info
from convoport.sse import to_event
from convoport.store import schema

from ..adapters.local._helpers import archive_session, catalog_db, make_session

pytestmark = pytest.mark.anyio

SECRET = "sk-live-0123456789abcdef"
#: A hang detector for the bounded waits below (far above every configured bound).
GUARD = 60.0


def http(handler: Any, **kwargs: Any) -> HttpClient:
    return HttpClient(
        provider="acme",
        base_url="https://api.acme.test",
        credentials={"x-api-key": SECRET},
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=1),
        **kwargs,
    )


def answer(status: int = 200, body: bytes = b"{}", **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return handler


def vendor_adapters() -> list[str]:
    names = []
    for name, target in sorted(BUILTIN_ADAPTERS.items()):
        cls = load_object(target)
        if isinstance(cls, type) and issubclass(cls, Adapter) and cls.emulator:
            names.append(name)
    return names


# -- 1. deeply nested JSON ---------------------------------------------------------------------


async def test_1_deep_json_body_is_malformed_response() -> None:
    client = http(answer(body=b"[" * 100_000))
    with pytest.raises(MalformedResponse, match="nested deeper"):
        await client.json("GET", "/x")


async def test_1_deep_json_error_body_keeps_the_status_error() -> None:
    client = http(answer(500, b"[" * 100_000))
    with pytest.raises(ProviderUnavailable) as info:
        await client.json("GET", "/x")
    assert info.value.status_code == 500


def test_1_deep_sse_data_is_a_non_fatal_event() -> None:
    from httpx_sse import ServerSentEvent

    event = to_event(
        ServerSentEvent(event="final_transcript", data="[" * 100_000),
        illocution_translate.sse_translator("s1"),
        provider="illocution",
    )
    assert isinstance(event, ErrorEvent)
    assert not event.fatal
    assert event.code == "malformed_event"


# -- 2. httpx.InvalidURL -----------------------------------------------------------------------


async def test_2_redirect_to_javascript_is_malformed_response() -> None:
    client = http(answer(302, b"", location="javascript:alert(1)"))
    with pytest.raises(MalformedResponse, match="cannot be followed"):
        await client.json("GET", "/x")


async def test_2_redirect_to_another_scheme_is_refused() -> None:
    client = http(answer(302, b"", location="ftp://files.acme.test/x"))
    with pytest.raises(MalformedResponse):
        await client.json("GET", "/x")


@pytest.mark.parametrize("link", ["\x00", "/v2/live?offset=" + "9" * 70_000, "/x\n"])
async def test_2_bad_next_links_are_malformed_response(link: str) -> None:
    with pytest.raises(MalformedResponse):
        next_url(link, base_url="https://api.acme.test", provider="acme")
    with pytest.raises(MalformedResponse):
        await http(answer()).json("GET", link)


async def test_2_illocution_chunk_endpoint_with_a_newline() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"session_id": "s1", "chunk_endpoint": "/x\n", "next_chunk_seq": 0}
        )

    async with convoport.connect(
        "illocution", api_key=SECRET, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(MalformedResponse, match="URL"):
            await client.start_live(LiveOptions())


# -- 3. huge integers --------------------------------------------------------------------------


def test_3_illocution_sse_start_ms_beyond_float_is_non_fatal() -> None:
    from httpx_sse import ServerSentEvent

    data = '{"text": "hi", "start_ms": ' + str(10**400) + "}"
    event = to_event(
        ServerSentEvent(event="final_transcript", data=data),
        illocution_translate.sse_translator("s1"),
        provider="illocution",
    )
    assert isinstance(event, ErrorEvent)
    assert not event.fatal
    # and the translator alone (a number below the digit limit but beyond a float)
    assert illocution_translate.ms_to_seconds({"at_ms": 10**400}) == {"at_ms": 10**400}


async def test_3_illocution_analyze_with_huge_numbers_is_typed() -> None:
    body = '{"conversation_id": "c1", "timeline": [], "moments": [{"at_ms": ' + str(10**400) + "}]}"

    async with convoport.connect(
        "illocution", api_key=SECRET, transport=httpx.MockTransport(answer(body=body.encode()))
    ) as client:
        with pytest.raises(MalformedResponse):
            await client.analyze(b"RIFF....WAVE")


def test_3_gladia_ack_with_a_huge_time_range_is_still_an_ack() -> None:
    message = {
        "type": "audio_chunk",
        "acknowledged": True,
        "data": {"byte_range": [0, 12_800], "time_range": [0, 10**400]},
    }
    (event,) = gladia_translate.live_events(message, session_id="j1")
    assert isinstance(event, AudioAcknowledged)
    assert event.byte_end == 12_800
    assert event.time_end is None


async def test_3_gladia_session_survives_an_unreadable_ack_and_delivers_every_byte() -> None:
    """The issue's run: a huge ack value was taken for a dropped socket, the reconnect was
    refused and only 12,800 of 64,000 bytes arrived. Now the message is a non-fatal error
    event, the socket is kept and every byte arrives."""
    received = bytearray()
    connections = 0

    async def socket(websocket: WebSocket) -> None:
        nonlocal connections
        connections += 1
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message.get("bytes"):
                received.extend(message["bytes"])
                huge = '{"type": "audio_chunk", "acknowledged": true, "data": {"byte_range": '
                huge += f'[0, {len(received)}], "time_range": [0, {10**400}]}}}}'
                await websocket.send_text(huge)
            elif message.get("text"):
                await websocket.close(1000)
                return

    events, _ = await _scripted_gladia(socket, audio=b"\0" * 64_000)
    assert connections == 1
    assert len(received) == 64_000
    assert any(isinstance(e, ErrorEvent) and e.code == "malformed" for e in events)


# -- 4. ids "." and ".." -----------------------------------------------------------------------


class _Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("name", vendor_adapters())
@pytest.mark.parametrize("ident", [".", "..", "a/../..", "\udc80"])
async def test_4_ids_never_leave_their_collection(name: str, ident: str) -> None:
    """Fixed by ``quote_segment`` (issue 8's refactor) for ``.``/``..``; a lone surrogate
    is refused too. Runs over every vendor adapter, the ones landing later included."""
    cls = load_object(BUILTIN_ADAPTERS[name])
    options = cls._sandbox_options()
    recorder = _Recorder(options.pop("transport"))
    async with convoport.connect(name, transport=recorder, **options) as client:
        calls: list[Any] = []
        ports = cls.capabilities.ports
        if Capability.CATALOG_GET in ports:
            calls.append(client.get_session)
        if Capability.CATALOG_DELETE in ports:
            calls.append(client.delete_session)
        if Capability.TRANSCRIPTS in ports:
            calls.append(client.get_transcript)
        if Capability.RECORDINGS in ports:
            calls.append(client.list_recordings)
        for call in calls:
            with contextlib.suppress(ConvoportError):
                await call(ident)
    for request in recorder.requests:
        # "a/../.." encoded as one segment stays inside; a dot segment never reaches the URL
        assert b"/../" not in request.url.raw_path
        assert not request.url.raw_path.endswith(b"/..")
        if ident in (".", ".."):
            pytest.fail(f"{name} sent {request.method} {request.url.path} for id {ident!r}")


def test_4_quote_segment_refuses_dot_segments_and_surrogates() -> None:
    for bad in ("", ".", "..", "\udc80"):
        with pytest.raises(InvalidRequest):
            quote_segment(bad, provider="acme")
    assert quote_segment("a/../..", provider="acme") == "a%2F..%2F.."


# -- 5. an API key with a trailing newline -----------------------------------------------------


async def test_5_trailing_newline_is_stripped_from_the_key() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-api-key"])
        return httpx.Response(200, json={})

    client = HttpClient(
        provider="acme",
        base_url="https://api.acme.test",
        credentials={"x-api-key": SECRET + "\n"},
        transport=httpx.MockTransport(handler),
    )
    await client.json("GET", "/x")
    assert seen == [SECRET]


def test_5_a_key_with_a_newline_inside_is_a_config_error_without_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(
            provider="acme",
            base_url="https://api.acme.test",
            credentials={"x-api-key": "abc\ndef" + SECRET},
        )
    assert SECRET not in str(info.value)
    assert "x-api-key" in str(info.value)


async def test_5_an_unsendable_request_is_final_and_quotes_no_key() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.LocalProtocolError(f"Illegal header value b'{SECRET}\\n'")

    client = HttpClient(
        provider="acme",
        base_url="https://api.acme.test",
        credentials={"x-api-key": SECRET},
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=4, backoff_base=0),
    )
    with pytest.raises(InvalidRequest) as info:
        await client.json("GET", "/x")
    assert attempts == 1
    assert not info.value.retryable
    assert SECRET not in str(info.value)


def test_5_the_redactor_knows_the_escaped_form() -> None:
    from convoport.redact import Redactor

    text = Redactor([SECRET + "\n"]).text(f"Illegal header value b'{SECRET}\\n'")
    assert SECRET not in text


# -- 6. read-only and old archives -------------------------------------------------------------


async def _archive(folder: Path) -> None:
    async with convoport.connect(f"local:{folder}", create=True) as client:
        await archive_session(client.adapter, make_session("abc"))  # type: ignore[arg-type]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("modes", [store.READ_ONLY_MODES, ("mode=ro&immutable=1",)])
async def test_6_a_read_only_archive_is_read_and_refuses_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modes: tuple[str, ...]
) -> None:
    folder = tmp_path / "archive"
    await _archive(folder)
    before = _digest(folder / "catalog.sqlite")
    monkeypatch.setattr(store, "_may_write", lambda db: False)  # read-only media / other owner
    monkeypatch.setattr(store, "READ_ONLY_MODES", modes)
    async with convoport.connect(f"local:{folder}") as client:
        assert [s.id async for s in client.list_sessions()] == ["abc"]
        assert (await client.get_transcript("gladia:abc")).utterances
        with pytest.raises(ArchiveError, match="read-only"):
            await client.delete_session("gladia:abc")
    assert _digest(folder / "catalog.sqlite") == before
    if "immutable=1" in modes[0]:
        assert not (folder / "catalog.sqlite-wal").exists()


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])


def _downgrade_to_v1(folder: Path) -> None:
    """The catalog as convoport 0.1.0 wrote schema version 1 (no Alembic history)."""
    with catalog_db(folder) as conn:
        for table in ("settings", "session_meta", "claims", "alembic_version"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE schema_version SET version = 1")


async def test_6_an_older_schema_is_read_without_upgrading(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    await _archive(folder)
    _downgrade_to_v1(folder)
    async with convoport.connect(f"local:{folder}") as client:
        assert [s.id async for s in client.list_sessions()] == ["abc"]
    with catalog_db(folder) as conn:
        assert _version(conn) == 1
    # the first write upgrades it
    async with convoport.connect(f"local:{folder}") as client:
        await archive_session(client.adapter, make_session("def"))  # type: ignore[arg-type]
    with catalog_db(folder) as conn:
        assert _version(conn) == schema.LATEST


async def test_6_an_older_schema_on_read_only_media_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "archive"
    await _archive(folder)
    _downgrade_to_v1(folder)
    monkeypatch.setattr(store, "_may_write", lambda db: False)
    async with convoport.connect(f"local:{folder}") as client:
        assert [s.id async for s in client.list_sessions()] == ["abc"]


# -- 7. WAV headers ----------------------------------------------------------------------------


def _wav(channels: int, rate: int, bits: int) -> bytes:
    align = max(1, channels * bits // 8) & 0xFFFF
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits)
    data = b"\0" * 64
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


BAD_WAVS = {
    "0 channels": _wav(0, 16000, 16),
    "0 Hz": _wav(1, 0, 16),
    "7-bit": _wav(1, 16000, 7),
    "65535 channels": _wav(65535, 16000, 16),
}


@pytest.mark.parametrize("label", sorted(BAD_WAVS))
def test_7_bad_wavs_are_refused_by_live(tmp_path: Path, label: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(BAD_WAVS[label])
    result = CliRunner().invoke(cli, ["live", "illocution", str(path), "--sandbox"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("convoport: error: the WAV file declares")
    assert "struct" not in result.output


@pytest.mark.parametrize("label", sorted(BAD_WAVS))
def test_7_bad_wavs_are_refused_by_the_emulators_reader(label: str) -> None:
    with pytest.raises(ConfigError, match="WAV"):
        wav_info(BAD_WAVS[label])


def test_7_a_good_wav_still_reads() -> None:
    assert wav_info(make_wav(tone_pcm(seconds=0.1, sample_rate=16000), sample_rate=16000))[0]


# -- 8. recording download ---------------------------------------------------------------------


@pytest.mark.parametrize("stored", [".", "..", "", "../..", "a/.."])
def test_8_stored_filenames_never_name_a_folder(stored: str) -> None:
    """Already fixed by ``_safe_filename`` (issue 8's refactor)."""
    recording = Recording(id="r1", session_id="s1", filename=stored)
    assert _safe_filename(recording) not in ("", ".", "..")


def _sandbox_recording_session() -> str:
    result = CliRunner().invoke(
        cli, ["--json", "sessions", "list", "gladia", "--sandbox", "--limit", "20"]
    )
    for session in json.loads(result.output):
        if session["provider_data"].get("file") and session["provider_status"] == "done":
            return str(session["id"])
    raise AssertionError("the sandbox has no job with a file")


def test_8_empty_output_writes_into_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Already fixed: ``-o ""`` is the current folder."""
    monkeypatch.chdir(tmp_path)
    sid = _sandbox_recording_session()
    result = CliRunner().invoke(
        cli, ["recording", "download", "gladia", sid, "-o", "", "--sandbox"]
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [f"{sid}.wav"]


async def test_8_a_lone_surrogate_id_is_a_config_error_before_any_io() -> None:
    async with convoport.connect("gladia", sandbox=True) as client:
        with pytest.raises(ConfigError, match="surrogate"):
            await client.get_session("\udc80abc")


# -- 9. bounded waits --------------------------------------------------------------------------


async def test_9_a_trickling_body_ends_at_the_deadline() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(0.05)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle())

    client = http(handler, timeout=0.2)  # per read; the deadline is 0.6 s
    async with asyncio.timeout(GUARD):
        with pytest.raises(ProviderUnavailable, match="deadline"):
            await client.json("GET", "/x")


class _DropDone:
    """ASGI middleware: an event stream whose ``done`` event is replaced by heartbeats, sent
    forever (the stream stays open and says nothing else)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def wrapped(message: Message) -> None:
            body = message.get("body", b"")
            if message["type"] == "http.response.body" and b"event: done" in body:
                while True:
                    await send({**message, "body": b": heartbeat\n\n", "more_body": True})
                    await asyncio.sleep(0.05)
            await send(message)

        await self.app(scope, receive, wrapped)


async def test_9_illocution_wait_is_bounded_after_finalize() -> None:
    from convoport.adapters.illocution.emulator import IllocutionEmulator

    harness = IllocutionEmulator()
    async with (
        convoport.connect(
            "illocution",
            transport=InProcessTransport(_DropDone(harness.app)),
            result_timeout=0.3,
            **harness.connect_options(),
        ) as client,
        await client.start_live(LiveOptions(sample_rate=16000)) as live,
    ):
        await live.send_audio(tone_pcm(seconds=0.5, sample_rate=16000))
        await live.finalize()
        async with asyncio.timeout(GUARD):
            with pytest.raises(LiveSessionError, match=r"no 'done' event within 0\.3s"):
                await live.wait()


async def test_9_gladia_wait_is_bounded_when_the_socket_stays_open() -> None:
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:  # reads stop_recording and never closes
            await websocket.receive()

    async with asyncio.timeout(GUARD):
        with pytest.raises(LiveSessionError, match="did not close the live socket"):
            await _scripted_gladia(socket, audio=b"\0" * 3200, live_close_timeout=0.3)


# -- 10. redaction of what the vendor echoes ---------------------------------------------------


async def test_10_echoed_values_are_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/echo-id"):
            return httpx.Response(404, json={"message": "nope", "request_id": SECRET})
        job = {"id": "j1", "status": "done", "created_at": f"never {SECRET}"}
        return httpx.Response(200, json=job, headers={"x-request-id": SECRET})

    async with convoport.connect(
        "gladia", api_key=SECRET, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(MalformedResponse) as bad_time:
            await client.get_session("j1")
        with pytest.raises(ConvoportError) as echoed:
            await client.get_session("echo-id")
    for error in (bad_time.value, echoed.value):
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert SECRET not in str(error.args)
        assert SECRET not in str(getattr(error, "request_id", ""))


# -- 11. a 0-byte catalog ----------------------------------------------------------------------


def test_11_a_read_never_turns_an_empty_catalog_into_an_archive(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"")
    result = CliRunner().invoke(cli, ["sessions", "list", f"local:{tmp_path}"])
    assert result.exit_code == 2, result.output
    assert "empty (0 bytes)" in result.output
    assert (tmp_path / "catalog.sqlite").stat().st_size == 0


async def test_11_a_schema_less_catalog_is_not_an_archive(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "catalog.sqlite").execute("CREATE TABLE t (x)").connection.close()
    async with convoport.connect(f"local:{tmp_path}") as client:
        with pytest.raises(ConfigError, match="no convoport catalog"):
            await client.get_session("gladia:abc")


async def test_11_create_still_initialises_an_empty_catalog(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"")
    async with convoport.connect(f"local:{tmp_path}", create=True) as client:
        assert [s async for s in client.list_sessions()] == []


# -- 12. one-line errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["nosuch"], ["sessions", "bogus"], ["sessions", "list", "gladia", "--limit", "x"], ["--nope"]],
)
def test_12_usage_errors_are_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("convoport: error: ")
    assert "--help" in lines[0]


def test_12_disk_full_names_the_file() -> None:
    error = OSError(errno.ENOSPC, "No space left on device", "/data/call.wav.part")
    text = os_error_message(error)
    assert "/data/call.wav.part" in text
    assert "No space left" in text
    assert "OSError" not in text


def test_12_a_failed_write_during_download_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _sandbox_recording_session()

    class Full:
        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def write(self, chunk: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    original = Path.open

    def fake_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name.endswith(".part"):
            return Full()
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    target = tmp_path / "call.wav"
    result = CliRunner().invoke(
        cli, ["recording", "download", "gladia", sid, "-o", str(target), "--sandbox"]
    )
    assert result.exit_code == 1
    assert f"convoport: error: No space left on device: {target}.part" in result.output
    assert not (tmp_path / "call.wav.part").exists()


# -- helpers -----------------------------------------------------------------------------------


async def _scripted_gladia(socket: Any, *, audio: bytes, **options: Any) -> tuple[list[Any], Any]:
    """A tiny Gladia (POST gives a socket URL, GET a done job) whose socket runs ``socket``;
    streams ``audio``, finalizes and returns (events, result)."""
    job = {"id": "j1", "status": "done", "created_at": "2026-09-14T13:02:11.482Z"}

    async def init(request: Request) -> JSONResponse:
        return JSONResponse({"id": "j1", "url": "wss://api.gladia.io/v2/live?token=tok-9"}, 201)

    async def get(request: Request) -> JSONResponse:
        return JSONResponse(job)

    app = Starlette(
        routes=[
            Route("/v2/live", init, methods=["POST"]),
            Route("/v2/live/{id}", get, methods=["GET"]),
            WebSocketRoute("/v2/live", socket),
        ]
    )
    async with (
        convoport.connect(
            "gladia",
            api_key=SECRET,
            transport=InProcessTransport(app),
            ws_reconnect_attempts=1,
            ws_backoff_base=0.0,
            live_poll_interval=0.01,
            **options,
        ) as client,
        await client.start_live(LiveOptions(sample_rate=16000)) as live,
    ):
        await live.send_audio(audio)
        await asyncio.sleep(0.05)  # let the acks arrive before stop_recording
        await live.finalize()
        events = []
        async for event in live.events():
            events.append(event)
        return events, await live.wait()
