"""A Gladia live v2 emulator: the REST jobs API and the live WebSocket, from seeded state.

Built from ``shared/vendors/gladia.md`` and the OpenAPI document on
:class:`convoport.sandbox.EmulatorHarness`; every REST answer validates against that document
(a test checks it). Use it through :class:`GladiaEmulator`::

    harness = GladiaEmulator(settings=HarnessSettings(sessions=200, seed=7))
    client = convoport.connect("gladia", transport=harness.transport(),
                               **harness.connect_options())

What it does:

* **Seeded jobs** (``settings.sessions`` or ``jobs``, default 36, deterministic from the seed,
  default 7; 10,000 seed in about a second): every status (``done``,
  ``error``, ``processing``, ``queued``), ``created_at`` spread over about ten days from
  2026-09-01, ``custom_metadata`` on every third job, summaries on half of the done jobs,
  mono and stereo audio. Audio is real 16-bit PCM WAV made by code
  (``make_wav(tone_pcm(...))``, 8 kHz, 2-4 s), generated on first download.
* **Transcripts are derived from the audio**, for seeded and live jobs alike: one utterance per
  second of audio per channel (speech in the first half of each second, as ``tone_pcm(...,
  silence_every=1.0)`` makes it), three words of :data:`WORDS` chosen by the shared
  :class:`~convoport.sandbox.SpeechScript` from the SHA-256 of ``"<channel>:<second>:"``
  followed by that second's bytes of that channel (so a repeated tone still gives different
  words each second); ids ``"<channel:02>_<second:08>"``.
* **REST**: ``POST/GET /v2/live``, ``GET/DELETE/PATCH /v2/live/{id}``, ``GET
  /v2/live/{id}/file``; pagination with absolute ``next`` links on the request's host; every
  list filter (``after_date`` inclusive, ``before_date`` exclusive, ``date`` a UTC day,
  repeated ``status``, ``custom_metadata[key]=value``); Gladia error bodies (``timestamp``,
  ``path``, ``request_id``, ``statusCode``, ``message``, ``validation_errors`` on 400); 401
  without the sandbox key (:data:`SANDBOX_KEY`); 404 ``"Cannot <METHOD> <path>"`` for unknown
  routes and methods; DELETE refused with 403 unless the job is done or errored; PATCH over
  100 kB refused with 413. List items carry ``post_session_metadata`` (the spec requires it,
  although the real API is reported to omit it; the adapter copes with both).
* **Live**: ``POST /v2/live`` returns ``wss://<host>/v2/live/ws?token=<uuid>``. The socket
  acknowledges every audio frame (``byte_range`` cumulative, exclusive end), sends partial
  (when asked) and final transcripts as whole seconds arrive, speech events, the
  ``stop_recording`` acknowledgement, lifecycle events (when asked), ``post_transcript``,
  ``post_final_transcript``, ``post_summarization`` (when asked), then closes with 1000 and the
  job is ``done`` with its result and a WAV of the audio received. A reconnect to the same URL
  resumes the same job; :meth:`GladiaEmulator.bytes_received` counts the audio bytes per job.
  The emulator keeps a **digest of the audio, not the audio**: each second is transcribed as it
  completes and then dropped, and :meth:`GladiaEmulator.audio_digest` gives the size and sha256
  of everything received. Only a job whose audio fits in ``keep_audio_bytes`` (default
  :data:`KEEP_AUDIO_BYTES`, 8 MiB: over four minutes of 16 kHz mono) keeps its bytes for the
  WAV download; a longer one ends with no ``file`` (as a job without audio), so an hour of
  live audio costs the emulator a few megabytes of transcript, not the audio.
* **Faults** (:class:`convoport.sandbox.Faults`, from the settings): latency, 5xx, 429 with
  ``Retry-After``, dropped responses on REST (Gladia-shaped error bodies), and
  ``drop_ws_after_frames``: the socket is closed with 1011 after that many client frames
  (once; then the knob is cleared).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from convoport.sandbox import (
    EmulatorHarness,
    Faults,
    HarnessSettings,
    SandboxClock,
    SpeechScript,
    WavFormat,
    channel_bytes,
    make_wav,
    seconds_of,
    tone_pcm,
)

from . import wire
from .translate import format_timestamp

#: The API key the emulator accepts.
SANDBOX_KEY = "sandbox-key"
BASE_URL = wire.DEFAULT_BASE_URL
#: The words transcripts are made of (indexed by a hash of the audio).
_WORD_LIST = """
alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa
quebec romeo sierra tango uniform victor whiskey xray yankee zulu hello world order invoice refund
delivery account password meeting schedule thanks please yes no maybe today tomorrow morning
evening price support ticket number customer agent call
"""
WORDS: tuple[str, ...] = tuple(_WORD_LIST.split())
#: Three words per second of each channel.
SCRIPT = SpeechScript(vocabulary=WORDS, min_words=3, max_words=3)
MAX_PATCH_BYTES = 100_000
#: The most audio bytes a live job keeps for its WAV download (beyond: a digest only).
KEEP_AUDIO_BYTES = 8 << 20
_STATUS_CYCLE = ("done", "done", "error", "done", "processing", "queued")
_USERS = ("alice", "bob", "carol")

Endpoint = Callable[[Request], Awaitable[Response]]


def _stamp(value: datetime) -> str:
    return format_timestamp(value)


def utterance_for(
    audio: bytes, *, second: int, channel: int, seconds: float, language: str
) -> dict[str, Any]:
    """The ``UtteranceDTO`` for one second (``seconds`` long, <= 1) of one channel."""
    words, digest = SCRIPT.hear(f"{channel}:{second}:".encode(), audio)
    start = float(second)
    end = start + round(min(0.5, seconds), 3)
    step = (end - start) / len(words)
    confidence = 0.8 + (digest[3] % 20) / 100
    word_dtos = [
        {
            "word": (" " if i else "") + w,
            "start": round(start + i * step, 3),
            "end": round(start + (i + 1) * step, 3),
            "confidence": round(confidence, 2),
        }
        for i, w in enumerate(words)
    ]
    return {
        "start": start,
        "end": end,
        "confidence": round(confidence, 2),
        "channel": channel,
        "words": word_dtos,
        "text": " ".join(words),
        "language": language,
    }


def utterances_for(
    pcm: bytes, *, sample_rate: int, channels: int, sample_width: int, language: str
) -> list[dict[str, Any]]:
    """Every utterance of an audio buffer, in time order (then channel)."""
    fmt = WavFormat(sample_rate=sample_rate, bit_depth=8 * sample_width, channels=channels)
    return [
        utterance_for(piece, second=second, channel=channel, seconds=seconds, language=language)
        for second, channel, piece, seconds in seconds_of(pcm, fmt)
    ]


@attrs.define(kw_only=True)
class Job:
    """One emulated live job."""

    id: str
    request_id: str
    status: str
    created_at: datetime
    completed_at: datetime | None = None
    custom_metadata: dict[str, Any] = attrs.field(factory=dict)
    error_code: int | None = None
    post_session_metadata: dict[str, Any] = attrs.field(factory=dict)
    request_params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    file: dict[str, Any] | None = None
    audio_spec: tuple[float, int, int] | None = None  # seconds, sample rate, channels
    wav: bytes | None = None
    # live state
    token: str | None = None
    #: audio bytes received, and their sha256 (the digest the emulator keeps of the audio)
    received: int = 0
    audio_hash: Any = attrs.field(factory=hashlib.sha256, repr=False)
    #: the audio not transcribed as final yet: from second ``pending_from`` on
    pending: bytearray = attrs.field(factory=bytearray, repr=False)
    pending_from: int = 0
    #: the final utterances (one per second and channel), for the job's result
    finals: list[dict[str, Any]] = attrs.field(factory=list, repr=False)
    #: the audio kept for the WAV download while it fits (None once it did not)
    kept: bytearray | None = attrs.field(factory=bytearray, repr=False)
    finals_sent: int = 0
    partials_sent: set[int] = attrs.field(factory=set)
    stop_received: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "version": 2,
            "status": self.status,
            "created_at": _stamp(self.created_at),
            "completed_at": _stamp(self.completed_at) if self.completed_at else None,
            "custom_metadata": dict(self.custom_metadata),
            "error_code": self.error_code,
            "post_session_metadata": dict(self.post_session_metadata),
            "kind": "live",
            "file": dict(self.file) if self.file is not None else None,
            "request_params": dict(self.request_params) if self.request_params else None,
            "result": self.result,
        }

    # -- live helpers ---------------------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        return self.request_params or {}

    @property
    def messages(self) -> dict[str, Any]:
        defaults = {
            "receive_partial_transcripts": False,
            "receive_final_transcripts": True,
            "receive_speech_events": True,
            "receive_post_processing_events": True,
            "receive_acknowledgments": True,
            "receive_lifecycle_events": False,
            "receive_realtime_processing_events": True,
        }
        return {**defaults, **(self.params.get("messages_config") or {})}

    @property
    def sample_width(self) -> int:
        return max(1, int(self.params.get("bit_depth", 16)) // 8)

    @property
    def bytes_per_second(self) -> int:
        channels = int(self.params.get("channels", 1))
        return int(self.params.get("sample_rate", 16000)) * self.sample_width * channels

    @property
    def language(self) -> str:
        languages = (self.params.get("language_config") or {}).get("languages") or []
        return str(languages[0]) if languages else "en"


def _default_params(channels: int, sample_rate: int, language: str) -> dict[str, Any]:
    return {
        "encoding": "wav/pcm",
        "bit_depth": 16,
        "sample_rate": sample_rate,
        "channels": channels,
        "model": "solaria-1",
        "endpointing": 0.05,
        "maximum_duration_without_endpointing": 5,
        "language_config": {"languages": [language], "code_switching": False},
    }


class _Validation(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _StripTrailingSlash:
    """Routes ``/v2/live/`` as ``/v2/live``, as Gladia's (Express, non-strict) router does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


class GladiaEmulator(EmulatorHarness):
    """The harness: seeded jobs, the Starlette app, its faults and the kit's arguments.

    ``settings`` sizes and degrades it (``sessions`` seeded jobs, ``seed``, latency and fault
    rates); ``seed``, ``jobs`` and ``faults`` are shorthands that win over the settings.
    ``clock`` (a :class:`~convoport.sandbox.SandboxClock`) replaces the wall clock for new
    jobs and messages, for reproducible recordings; ``record_frames`` keeps every WebSocket
    frame in :attr:`ws_log` (one list per connection).
    """

    provider = "gladia"
    base_url = BASE_URL
    sandbox_key = SANDBOX_KEY
    credential_header = wire.KEY_HEADER
    default_seed = 7
    default_sessions = 36

    def __init__(
        self,
        *,
        seed: int | None = None,
        faults: Faults | None = None,
        jobs: int | None = None,
        clock: SandboxClock | None = None,
        record_frames: bool = False,
        settings: HarnessSettings | None = None,
        keep_audio_bytes: int = KEEP_AUDIO_BYTES,
    ) -> None:
        settings = (settings or HarnessSettings()).merged(seed=seed, sessions=jobs)
        super().__init__(settings=settings, faults=faults, clock=clock)
        self.rng = random.Random(self.seed)
        self.store: dict[str, Job] = {}
        self.record_frames = record_frames
        self.keep_audio_bytes = keep_audio_bytes
        self.ws_log: list[list[dict[str, Any]]] = []
        self._request_counter = 0
        self._seed_jobs(self.session_count)

    # -- harness API ----------------------------------------------------------------------

    def bytes_received(self, job_id: str) -> int:
        """Audio bytes the job's live socket received (acknowledged)."""
        return self.store[job_id].received

    def audio_digest(self, job_id: str) -> tuple[int, str]:
        """(bytes, sha256 hex) of the audio the job's live socket received: what the emulator
        keeps of it (the bytes themselves only up to ``keep_audio_bytes``)."""
        job = self.store[job_id]
        return job.received, job.audio_hash.hexdigest()

    def job(self, job_id: str) -> Job:
        return self.store[job_id]

    def jobs(self, status: str | None = None) -> list[Job]:
        return [j for j in self.store.values() if status is None or j.status == status]

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        """Arguments for the kit's scenarios (and Gladia's own), from the seeded data."""
        done = self.jobs("done")
        stereo = next(j for j in done if (j.file or {}).get("number_of_channels") == 2)
        summarized = next(j for j in done if (j.result or {}).get("summarization"))
        smallest = min(
            done, key=lambda j: (j.audio_spec or (0.0, 0, 0))[0] * (j.audio_spec or (0.0, 0, 1))[2]
        )
        errored = self.jobs("error")
        failed_query = {"statuses": ["failed"]}
        live_options = {
            "encoding": "pcm",
            "sample_rate": 16000,
            "bit_depth": 16,
            "channels": 1,
            "languages": ["en"],
            "metadata": {"user": "kit"},
            "partial_transcripts": True,
            "provider_options": {
                "post_processing": {"summarization": True},
                "messages_config": {"receive_speech_events": False},
            },
        }
        audio = {"seconds": 2.0, "sample_rate": 16000, "channels": 1}
        first_meta = next(j for j in self.jobs() if j.custom_metadata)
        args: dict[str, dict[str, Any]] = {
            "list_sessions_two_pages": {"page_size": 4, "query": failed_query},
            "list_sessions_three_pages": {"page_size": 2, "query": failed_query},
            "list_sessions_filters": {
                "page_size": 10,
                "query": {
                    "created_after": "2026-09-01T00:00:00+00:00",
                    "created_before": "2026-09-30T00:00:00+00:00",
                    "created_on": first_meta.created_at.date().isoformat(),
                    "statuses": ["completed", "failed", "pending", "processing"],
                    "metadata": {"user": str(first_meta.custom_metadata["user"])},
                },
            },
            "get_session_completed": {"session_id": stereo.id},
            "get_session_not_found": {"session_id": "00000000-0000-4000-8000-000000000000"},
            "get_session_error_status": {"session_id": errored[0].id},
            "get_transcript": {"session_id": stereo.id},
            "get_summary": {"session_id": summarized.id},
            "list_recordings": {"session_id": stereo.id},
            "download_recording": {
                "session_id": smallest.id,
                "recording_id": (smallest.file or {})["id"],
            },
            "delete_session": {"session_id": done[-1].id},
            "delete_refused_403": {"session_id": self.jobs("processing")[0].id},
            "rate_limited_then_ok": {"session_id": stereo.id},
            "server_error_then_ok": {"session_id": stereo.id},
            "auth_failure": {"session_id": stereo.id},
            "invalid_request_400": {
                "options": {"provider_options": {"endpointing": 100}},
            },
            "live_ingest_roundtrip": {"options": live_options, "audio": audio},
            "live_ingest_drop_and_resume": {
                "options": live_options,
                "audio": {"seconds": 3.0, "sample_rate": 16000, "channels": 1},
                "drop_ws_after_frames": 2,
            },
        }
        return args.get(scenario)

    # -- seeded state ---------------------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def request_id(self) -> str:
        self._request_counter += 1
        digest = hashlib.sha256(f"{self._request_counter}".encode()).hexdigest()
        return f"G-{digest[:8]}"

    def _seed_jobs(self, count: int) -> None:
        rng = self.rng
        moment = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
        for i in range(count):
            moment += timedelta(hours=rng.uniform(4, 10), milliseconds=rng.randint(0, 999))
            created = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
            status = _STATUS_CYCLE[i % len(_STATUS_CYCLE)]
            job_id = self.new_uuid()
            channels = 2 if i % 4 == 1 else 1
            seconds = float(2 + i % 3)
            sample_rate = 8000
            language = "fr" if i % 5 == 3 else "en"
            metadata: dict[str, Any] = {}
            if i % 3 == 0:
                metadata = {"user": _USERS[(i // 3) % 3], "team": "support" if i % 2 else "sales"}
            job = Job(
                id=job_id,
                request_id=f"G-{job_id[:8]}",
                status=status,
                created_at=created,
                custom_metadata=metadata,
                request_params=_default_params(channels, sample_rate, language),
            )
            if status in ("done", "error"):
                job.completed_at = created + timedelta(seconds=seconds + 1.5)
            if status == "error":
                job.error_code = 500
            if status == "done":
                job.audio_spec = (seconds, sample_rate, channels)
                job.file = {
                    "id": self.new_uuid(),
                    "filename": f"{job_id}.wav",
                    "source": None,
                    "audio_duration": seconds,
                    "number_of_channels": channels,
                }
                job.result = self.result_for(
                    job,
                    self.seeded_pcm(job),
                    sample_rate=sample_rate,
                    channels=channels,
                    sample_width=2,
                    summarize=i % 2 == 0,
                )
            self.store[job_id] = job

    @staticmethod
    def seeded_pcm(job: Job) -> bytes:
        assert job.audio_spec is not None
        seconds, rate, channels = job.audio_spec
        return tone_pcm(seconds, sample_rate=rate, channels=channels, silence_every=1.0)

    def wav_for(self, job: Job) -> bytes | None:
        if job.wav is None and job.audio_spec is not None:
            _, rate, channels = job.audio_spec
            job.wav = make_wav(self.seeded_pcm(job), sample_rate=rate, channels=channels)
        return job.wav

    def result_for(
        self,
        job: Job,
        pcm: bytes,
        *,
        sample_rate: int,
        channels: int,
        sample_width: int,
        summarize: bool,
    ) -> dict[str, Any]:
        utterances = utterances_for(
            pcm,
            sample_rate=sample_rate,
            channels=channels,
            sample_width=sample_width,
            language=job.language,
        )
        return self.result_from(
            job,
            utterances,
            size=len(pcm),
            sample_rate=sample_rate,
            channels=channels,
            sample_width=sample_width,
            summarize=summarize,
        )

    def result_from(
        self,
        job: Job,
        utterances: list[dict[str, Any]],
        *,
        size: int,
        sample_rate: int,
        channels: int,
        sample_width: int,
        summarize: bool,
    ) -> dict[str, Any]:
        """The job's ``result`` from its utterances and the audio's size in bytes."""
        language = job.language
        duration = round(size / (sample_rate * sample_width * channels), 3) if size else 0.0
        result: dict[str, Any] = {
            "metadata": {
                "audio_duration": duration,
                "number_of_distinct_channels": channels,
                "billing_time": round(duration * channels, 3),
                "transcription_time": round(duration * 0.1, 3),
            },
            "transcription": {
                "full_transcript": " ".join(u["text"] for u in utterances),
                "languages": [language],
                "utterances": utterances,
            },
        }
        if summarize:
            words = [u["text"].split()[0] for u in utterances[:4]]
            result["summarization"] = {
                "success": True,
                "is_empty": not utterances,
                "exec_time": 0.42,
                "error": None,
                "results": (f"The caller talked about {', '.join(words)}." if utterances else None),
            }
        return result

    # -- the harness hooks: errors, auth, routes --------------------------------------------

    def error_body(
        self,
        status: int,
        message: str,
        *,
        path: str = "",
        validation_errors: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Gladia's error body: ``timestamp``, ``path``, ``request_id``, ``statusCode``,
        ``message`` and, on a 400, ``validation_errors``."""
        body: dict[str, Any] = {
            "timestamp": _stamp(self.now()),
            "path": path,
            "request_id": self.request_id(),
            "statusCode": status,
            "message": message,
        }
        if validation_errors:
            body["validation_errors"] = validation_errors
        return body

    def auth_failure_message(self, presented: str | None) -> str:
        return "no gladia key provided" if presented is None else "gladia user not found"

    def not_found(self, request: Request) -> Response:
        return self.error_response(
            404, f"Cannot {request.method} {request.url.path}", path=request.url.path
        )

    method_not_allowed = not_found

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _StripTrailingSlash(super().wrap(app))

    def routes(self) -> Sequence[BaseRoute]:
        live = wire.LIVE_PATH
        rest = self._rest
        return [
            WebSocketRoute(f"{live}/ws", self._websocket),
            Route(live, rest(self._list), methods=["GET"]),
            Route(live, rest(self._init), methods=["POST"]),
            Route(f"{live}/{{job_id}}", rest(self._get), methods=["GET"]),
            Route(f"{live}/{{job_id}}", rest(self._delete), methods=["DELETE"]),
            Route(f"{live}/{{job_id}}", rest(self._patch), methods=["PATCH"]),
            Route(f"{live}/{{job_id}}/file", rest(self._file), methods=["GET"]),
        ]

    def _rest(self, handler: Endpoint) -> Endpoint:
        """A REST route: the auth check, then the handler; ``_Validation`` becomes a 400."""

        async def endpoint(request: Request) -> Response:
            if (denied := self.check_auth(request)) is not None:
                return denied
            try:
                return await handler(request)
            except _Validation as exc:
                return self._error(400, request, "Invalid request parameters", exc.errors)

        return endpoint

    def _error(
        self, status: int, request: Request, message: str, errors: list[str] | None = None
    ) -> JSONResponse:
        return self.error_response(status, message, path=request.url.path, validation_errors=errors)

    # -- REST -----------------------------------------------------------------------------

    def _job_or_404(self, request: Request) -> Job | JSONResponse:
        job = self.store.get(request.path_params["job_id"])
        if job is None:
            return self._error(404, request, "Live job not found")
        return job

    async def _get(self, request: Request) -> Response:
        job = self._job_or_404(request)
        if isinstance(job, Response):
            return job
        return JSONResponse(job.to_wire())

    async def _delete(self, request: Request) -> Response:
        job = self._job_or_404(request)
        if isinstance(job, Response):
            return job
        if job.status not in wire.TERMINAL_STATUSES:
            return self._error(
                403, request, f"Live job is not in a deletable state (status {job.status})"
            )
        del self.store[job.id]
        return Response(status_code=202)

    async def _patch(self, request: Request) -> Response:
        job = self._job_or_404(request)
        if isinstance(job, Response):
            return job
        raw = await request.body()
        if len(raw) > MAX_PATCH_BYTES:
            return self._error(
                413,
                request,
                "The post_request_metadata parameter must be a json object no longer that 100kb",
            )
        try:
            body = json.loads(raw)
        except ValueError:
            raise _Validation(["body must be a json object"]) from None
        if not isinstance(body, dict):
            raise _Validation(["body must be a json object"])
        job.post_session_metadata = body
        return Response(status_code=204)

    async def _file(self, request: Request) -> Response:
        job = self._job_or_404(request)
        if isinstance(job, Response):
            return job
        wav = self.wav_for(job)
        if wav is None or job.file is None:
            return self._error(404, request, "Audio file not found for this live job")
        filename = job.file.get("filename") or f"{job.id}.wav"
        return Response(
            wav,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        errors: list[str] = []
        offset = _int_param(query.get("offset"), "offset", 0, 0, errors)
        limit = _int_param(query.get("limit"), "limit", 20, 1, errors)
        statuses = query.getlist("status")
        for s in statuses:
            if s not in wire.STATUS_TABLE:
                errors.append(
                    "each value in status must be one of the following values: "
                    + ", ".join(wire.STATUS_TABLE)
                )
                break
        day = query.get("date")
        day_value: date | None = None
        if day is not None:
            try:
                day_value = date.fromisoformat(day[:10])
            except ValueError:
                errors.append("date must be a valid ISO 8601 date string")
        before = _date_param(query.get("before_date"), "before_date", errors)
        after = _date_param(query.get("after_date"), "after_date", errors)
        metadata = {
            k[len("custom_metadata[") : -1]: v
            for k, v in query.multi_items()
            if k.startswith("custom_metadata[") and k.endswith("]")
        }
        if errors:
            raise _Validation(errors)
        jobs = sorted(self.store.values(), key=lambda j: j.created_at, reverse=True)
        selected = [
            j
            for j in jobs
            if (not statuses or j.status in statuses)
            and (day_value is None or j.created_at.date() == day_value)
            and (before is None or j.created_at < before)
            and (after is None or j.created_at >= after)
            and all(
                k in j.custom_metadata and str(j.custom_metadata[k]) == v
                for k, v in metadata.items()
            )
        ]
        page = self.offset_link_page(
            selected,
            offset=offset,
            limit=limit,
            base_url=f"{request.url.scheme}://{request.url.netloc}{wire.LIVE_PATH}",
            params=[(k, v) for k, v in query.multi_items() if k not in ("offset", "limit")],
        )
        return JSONResponse(
            {
                "first": page.first,
                "current": page.current,
                "next": page.next,
                "items": [j.to_wire() for j in page.items],
            }
        )

    async def _init(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise _Validation(["body must be a json object"]) from None
        if not isinstance(body, dict):
            raise _Validation(["body must be a json object"])
        region = request.query_params.get("region")
        errors = _validate_init(body)
        if region is not None and region not in wire.REGIONS:
            errors.append("region must be one of the following values: " + ", ".join(wire.REGIONS))
        if errors:
            raise _Validation(errors)
        now = self.now()
        job_id = self.new_uuid()
        token = self.new_uuid()
        params = {k: v for k, v in body.items() if k != "custom_metadata"}
        defaults = _default_params(1, 16000, "en")
        defaults.pop("language_config")
        job = Job(
            id=job_id,
            request_id=f"G-{job_id[:8]}",
            status="queued",
            created_at=now,
            custom_metadata=dict(body.get("custom_metadata") or {}),
            request_params={**defaults, **params},
            token=token,
        )
        self.store[job_id] = job
        scheme = "wss" if request.url.scheme in ("https", "wss") else "ws"
        url = f"{scheme}://{request.url.netloc}{wire.LIVE_PATH}/ws?token={token}"
        return JSONResponse({"id": job_id, "created_at": _stamp(now), "url": url}, 201)

    # -- WebSocket ------------------------------------------------------------------------

    async def _websocket(self, websocket: WebSocket) -> None:
        token = websocket.query_params.get("token")
        job = next((j for j in self.store.values() if token and j.token == token), None)
        if job is None:
            await websocket.close(code=4401, reason="invalid token")
            return
        if job.status in wire.TERMINAL_STATUSES or (
            job.stop_received and job.status != "processing"
        ):
            await websocket.close(code=4403, reason="session already ended")
            return
        await websocket.accept()
        log: list[dict[str, Any]] | None = [] if self.record_frames else None
        if log is not None:
            self.ws_log.append(log)
        session = _LiveSocket(self, job, websocket, log)
        await session.run()


def _int_param(value: str | None, name: str, default: int, minimum: int, errors: list[str]) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        errors.append(f"{name} must be an integer number")
        return default
    if number < minimum:
        errors.append(f"{name} must not be less than {minimum}")
    return number


def _date_param(value: str | None, name: str, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"{name} must be a valid ISO 8601 date string")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _one_of(errors: list[str], body: dict[str, Any], name: str, allowed: tuple[Any, ...]) -> None:
    if name in body and (isinstance(body[name], bool) or body[name] not in allowed):
        values = ", ".join(str(a) for a in allowed)
        errors.append(f"{name} must be one of the following values: {values}")


def _range(errors: list[str], body: dict[str, Any], name: str, low: float, high: float) -> None:
    if name not in body:
        return
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(f"{name} must be a number")
    elif value < low:
        errors.append(f"{name} must not be less than {low:g}")
    elif value > high:
        errors.append(f"{name} must not be greater than {high:g}")


def _validate_init(body: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    _one_of(errors, body, "encoding", tuple(wire.ENCODINGS.values()))
    _one_of(errors, body, "bit_depth", wire.BIT_DEPTHS)
    _one_of(errors, body, "sample_rate", wire.SAMPLE_RATES)
    _range(errors, body, "channels", 1, wire.MAX_CHANNELS)
    _range(errors, body, "endpointing", 0.01, 10)
    _range(errors, body, "maximum_duration_without_endpointing", 5, 60)
    if "custom_metadata" in body and not isinstance(body["custom_metadata"], dict):
        errors.append("custom_metadata must be an object")
    language_config = body.get("language_config")
    if language_config is not None:
        languages = language_config.get("languages") if isinstance(language_config, dict) else None
        if not isinstance(languages, list) or any(x not in wire.LANGUAGES for x in languages):
            errors.append(
                "language_config.languages must contain valid TranscriptionLanguageCode values"
            )
    return errors


class _LiveSocket:
    """One WebSocket connection of a live job."""

    def __init__(
        self,
        emulator: GladiaEmulator,
        job: Job,
        websocket: WebSocket,
        log: list[dict[str, Any]] | None,
    ) -> None:
        self.emulator = emulator
        self.job = job
        self.ws = websocket
        self.log = log
        self.frames = 0

    def _record(self, direction: str, kind: str, data: Any) -> None:
        if self.log is not None:
            self.log.append({"dir": direction, "type": kind, "data": data})

    async def send(self, message_type: str, **fields: Any) -> None:
        message = {
            "session_id": self.job.id,
            "created_at": _stamp(self.emulator.now()),
            "type": message_type,
            **fields,
        }
        self._record("recv", "text", message)
        await self.ws.send_text(json.dumps(message))

    async def close(self, code: int, reason: str = "") -> None:
        self._record("recv", "close", {"code": code, "reason": reason})
        await self.ws.close(code=code, reason=reason)

    async def run(self) -> None:
        job = self.job
        if job.status == "queued":
            job.status = "processing"
            if job.messages["receive_lifecycle_events"]:
                await self.send(wire.MSG_START_RECORDING)
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                self._record("send", "close", {"code": message.get("code", 1000), "reason": ""})
                if message.get("code", 1000) == 1000 and not job.stop_received:
                    # Gladia post-processes in the background when the client closes with 1000.
                    self._complete()
                return
            data: bytes | None = message.get("bytes")
            text: str | None = message.get("text")
            if data is not None:
                self._record(
                    "send",
                    "binary",
                    {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
                )
                if len(data) > wire.MAX_FRAME_BYTES:
                    await self.close(1009, "frame too large")
                    return
                await self._audio(data)
            elif text is not None:
                try:
                    action = json.loads(text)
                except ValueError:
                    action = None
                self._record("send", "text", action if isinstance(action, dict) else text)
                kind = action.get("type") if isinstance(action, dict) else None
                if kind == "audio_chunk":
                    chunk = (action.get("data") or {}).get("chunk", "")
                    with contextlib.suppress(ValueError):
                        await self._audio(base64.b64decode(chunk))
                elif kind == "stop_recording":
                    await self._stop()
                    return
            self.frames += 1
            if self.emulator.faults.take_ws_drop(self.frames):
                await self.close(1011, "emulated connection drop")
                return

    async def _audio(self, data: bytes) -> None:
        job = self.job
        if job.stop_received or not data:
            return
        start = job.received
        job.received += len(data)
        end = job.received
        job.audio_hash.update(data)
        job.pending += data
        if job.kept is not None:
            if len(job.kept) + len(data) <= self.emulator.keep_audio_bytes:
                job.kept += data
            else:
                job.kept = None  # too long to keep: the digest stays
        rate = job.bytes_per_second
        if job.messages["receive_acknowledgments"]:
            await self.send(
                wire.MSG_AUDIO_CHUNK,
                acknowledged=True,
                error=None,
                data={
                    "byte_range": [start, end],
                    "time_range": [round(start / rate, 3), round(end / rate, 3)],
                },
            )
        await self._transcripts(final_partial=False)

    async def _transcripts(self, *, final_partial: bool) -> None:
        job = self.job
        rate = job.bytes_per_second
        total = job.received
        whole = total // rate
        half = (total % rate) * 2 >= rate
        channels = int(job.params.get("channels", 1))
        partials = job.messages["receive_partial_transcripts"]
        upto = whole + (1 if final_partial and total % rate else 0)
        if partials and half and whole not in job.partials_sent and not final_partial:
            job.partials_sent.add(whole)
            await self._utterances(whole, channels, final=False)
        for second in range(job.finals_sent, upto):
            if partials and second not in job.partials_sent:
                job.partials_sent.add(second)
                await self._utterances(second, channels, final=False)
            await self._utterances(second, channels, final=True)
            job.finals_sent = second + 1
        # the seconds transcribed as final are not needed any more
        done = job.finals_sent - job.pending_from
        if done > 0:
            del job.pending[: done * rate]
            job.pending_from = job.finals_sent

    async def _utterances(self, second: int, channels: int, *, final: bool) -> None:
        job = self.job
        rate = job.bytes_per_second
        offset = (second - job.pending_from) * rate
        piece = bytes(job.pending[offset : offset + rate])
        per_channel = channel_bytes(piece, channels, job.sample_width)
        second_bytes = rate // channels
        for channel, data in enumerate(per_channel):
            if not data:
                continue
            utterance = utterance_for(
                data,
                second=second,
                channel=channel,
                seconds=len(data) / second_bytes,
                language=job.language,
            )
            if final:
                job.finals.append(utterance)
            else:
                first = utterance["words"][0]
                utterance = {
                    **utterance,
                    "words": [first],
                    "text": first["word"].strip(),
                    "end": first["end"],
                }
            speech = job.messages["receive_speech_events"]
            if final and speech:
                await self.send(
                    wire.MSG_SPEECH_START, data={"time": utterance["start"], "channel": channel}
                )
            if (final and job.messages["receive_final_transcripts"]) or not final:
                await self.send(
                    wire.MSG_TRANSCRIPT,
                    data={
                        "id": f"{channel:02d}_{second:08d}",
                        "is_final": final,
                        "utterance": utterance,
                    },
                )
            if final and speech:
                await self.send(
                    wire.MSG_SPEECH_END, data={"time": utterance["end"], "channel": channel}
                )

    async def _stop(self) -> None:
        job = self.job
        job.stop_received = True
        duration = round(job.received / job.bytes_per_second, 3)
        if job.messages["receive_acknowledgments"]:
            await self.send(
                wire.MSG_STOP_RECORDING,
                acknowledged=True,
                error=None,
                data={"recording_duration": duration, "recording_left_to_process": 0},
            )
        await self._transcripts(final_partial=True)
        lifecycle = job.messages["receive_lifecycle_events"]
        if lifecycle:
            await self.send(wire.MSG_END_RECORDING, data={"recording_duration": duration})
        self._complete()
        result = job.result or {}
        if job.messages["receive_post_processing_events"]:
            await self.send(wire.MSG_POST_TRANSCRIPT, data=result["transcription"])
            await self.send(
                wire.MSG_POST_FINAL_TRANSCRIPT,
                data={k: v for k, v in result.items() if k != "messages"},
            )
            summary = result.get("summarization")
            if summary is not None:
                await self.send(
                    wire.MSG_POST_SUMMARIZATION,
                    error=None,
                    data={"results": summary["results"] or ""},
                )
        if lifecycle:
            await self.send(wire.MSG_END_SESSION)
        await self.close(1000)

    def _complete(self) -> None:
        job = self.job
        state = self.emulator
        channels = int(job.params.get("channels", 1))
        rate = int(job.params.get("sample_rate", 16000))
        width = job.sample_width
        summarize = bool((job.params.get("post_processing") or {}).get("summarization"))
        # the finals sent, then what was never transcribed as final (a close without stop)
        rest = bytes(job.pending[(job.finals_sent - job.pending_from) * job.bytes_per_second :])
        fmt = WavFormat(sample_rate=rate, bit_depth=8 * width, channels=channels)
        tail = [
            utterance_for(
                piece,
                second=job.finals_sent + second,
                channel=channel,
                seconds=seconds,
                language=job.language,
            )
            for second, channel, piece, seconds in seconds_of(rest, fmt)
        ]
        job.result = state.result_from(
            job,
            job.finals + tail,
            size=job.received,
            sample_rate=rate,
            channels=channels,
            sample_width=width,
            summarize=summarize,
        )
        job.finals = []
        job.pending = bytearray()
        if job.kept is not None:
            job.file = {
                "id": state.new_uuid(),
                "filename": f"{job.id}.wav",
                "source": None,
                "audio_duration": job.result["metadata"]["audio_duration"],
                "number_of_channels": channels,
            }
            job.wav = make_wav(
                bytes(job.kept), sample_rate=rate, channels=channels, sample_width=width
            )
            job.kept = None
        job.status = "done"
        job.completed_at = state.now()


def fixed_clock(start: datetime, step: timedelta = timedelta(milliseconds=37)) -> SandboxClock:
    """A deterministic clock for recordings: ``start``, then ``step`` later on every reading."""
    return SandboxClock(start, step=step)


__all__ = [
    "BASE_URL",
    "KEEP_AUDIO_BYTES",
    "SANDBOX_KEY",
    "SCRIPT",
    "WORDS",
    "GladiaEmulator",
    "Job",
    "fixed_clock",
    "utterance_for",
    "utterances_for",
]
