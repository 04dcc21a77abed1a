"""An Illocution emulator: a Starlette app speaking the documented live-capture and batch API.

Routes (``shared/vendors/illocution.md``): ``POST /analyze/live/start``, ``POST
/analyze/live/{id}/chunk`` (multipart ``chunk_seq`` + ``chunk``), ``GET
/analyze/live/{id}/events`` (SSE), ``POST /analyze/live/{id}/control`` (``finalize``,
``cancel``, ``keepalive``) and ``POST /analyze`` (multipart ``file``). Every route wants the
``X-API-Key`` header (or ``?api_key=``); the sandbox key is ``sandbox-key``. Errors are FastAPI
shaped: ``{"detail": "..."}``, and ``{"detail": [{"loc", "msg", "type"}]}`` for validation.

Emulator behaviour (where the documentation is silent, these are choices, not facts):

* **State machine**: ``waiting_media`` -> (first chunk) ``ingesting`` -> (finalize)
  ``processing`` -> ``completed`` -> ``done``; ``cancel`` from any non-terminal state sends an
  SSE ``error`` (code ``cancelled``); the session is gone afterwards (404).
* **TTL**: ``expires_at`` = now + ``ttl_seconds`` at start, moved by every chunk and every
  ``keepalive``. Past it (checked on each request, and by :meth:`IllocutionEmulator.advance`)
  the session expires: the SSE consumer gets ``error`` (code ``session_expired``) and later
  requests get **410** ``{"detail": "live session ... has expired"}``.
* **Sequencing**: ``chunk_seq`` must equal the expected one, else **409** ``{"detail":
  "Out-of-order chunk: expected chunk_seq N, got M"}``; chunks after finalize get 409 too.
  The chunk answer is ``{"received_bytes": <this chunk>, "next_chunk_seq": N}``.
* **One consumer**: a second concurrent ``GET events`` gets **409**. Events produced before the
  consumer attaches are queued for it.
* **Scripted results from the audio received**: the audio (WAV: its ``fmt`` chunk is read;
  anything else: 16 kHz mono 16-bit PCM; read by :class:`convoport.sandbox.PcmFeed`) is cut
  into one-second windows; each window with any
  non-silent sample gives one final transcript, speakers alternating ``Speaker_0``/
  ``Speaker_1``, timed to its non-silent span (10 ms resolution), with three to six words from
  :data:`WORDS` chosen by the shared :class:`~convoport.sandbox.SpeechScript` from the SHA-256
  of the window's index (4 bytes, big-endian) and bytes. Each final is followed by
  an ``emotion`` event (alternating the two documented shapes: nested ``emotion.emotions`` and
  flat) and a ``cognitive`` event; the second utterance also brings a ``transition``, the third
  a ``moment``. A partial transcript is sent after a chunk that leaves a non-silent window
  incomplete. On finalize: the last (incomplete) window, ``status`` processing,
  ``summary_update`` (pretty-printed over several ``data:`` lines), ``status`` completed,
  ``done``. ``POST /analyze`` returns the same script as an AnalysisResponse.
* **Streaming**: uploads are parsed as they arrive by :func:`convoport.multipart.iter_parts`
  (no request body is held whole); byte
  counters per live session and per analysis (:meth:`IllocutionEmulator.bytes_received`).
* **Faults**: :class:`~convoport.sandbox.Faults` (latency, 5xx, 429, drops) through the
  harness's ``FaultMiddleware`` with FastAPI-shaped bodies, plus ``lose_response_for_chunks``:
  chunk sequence numbers whose upload is *stored* and whose answer is then dropped (once each), and
  ``drop_events_after``: the event stream's connection drops after that many events (once).
* ``enable_live=False`` leaves the live routes unmounted (as ``ENABLE_LIVE_STREAMING=false``
  does): they answer 404 ``{"detail": "Not Found"}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convoport.multipart import iter_parts
from convoport.sandbox import (
    DroppedConnection,
    EmulatorHarness,
    Faults,
    HarnessSettings,
    PcmFeed,
    SandboxClock,
    SpeechScript,
    voiced_span,
)

from . import wire

SANDBOX_KEY = "sandbox-key"
BASE_URL = "https://api.illocution.ai"

WORDS = (
    "pricing", "renewal", "budget", "timeline", "contract", "onboarding", "support", "quarter",
    "proposal", "discount", "integration", "security", "pilot", "rollout", "feedback", "demo",
    "licence", "invoice", "team", "workflow", "deadline", "priority", "migration", "review",
    "agenda", "forecast", "metrics", "training", "upgrade", "approval", "scope", "handover",
)  # fmt: skip
#: Three to six words per one-second window.
SCRIPT = SpeechScript(vocabulary=WORDS, min_words=3, max_words=6)
EMOTIONS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
_DROP_HEADER = b"x-emulator-drop"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _clock(seconds: float) -> str:
    return f"[{int(seconds) // 60:02d}:{int(seconds) % 60:02d}]"


# -- streamed multipart (convoport.multipart) ---------------------------------------------------


async def multipart_parts(
    content_type: str, source: AsyncIterator[bytes]
) -> AsyncIterator[tuple[dict[str, str], bytes | None]]:
    """Parses ``multipart/form-data`` as it arrives (:func:`convoport.multipart.iter_parts`).
    Yields ``(headers, None)`` when a part starts, then ``(headers, piece)`` for each piece of
    its data (header names lower-cased). Malformed input raises ``MultipartError``, a
    ``ValueError``."""
    async for head, piece in iter_parts(content_type, source):
        yield dict(head.headers), piece


# -- the script derived from the audio ---------------------------------------------------------


class AudioScript:
    """Turns audio bytes, fed in any pieces, into scripted utterances (see the module
    docstring): a :class:`~convoport.sandbox.PcmFeed` reads the WAV header (convoport's WAV
    reader) and the shared :class:`~convoport.sandbox.SpeechScript` picks the words. Holds at
    most one second of audio."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.total = 0
        self._feed = PcmFeed()
        self._pending = bytearray()
        self._window = 0
        self.utterances: list[dict[str, Any]] = []

    @property
    def sample_rate(self) -> int:
        return self._feed.format.sample_rate

    @property
    def channels(self) -> int:
        return self._feed.format.channels

    @property
    def width(self) -> int:
        return max(1, self._feed.format.bit_depth // 8)

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.channels * self.width

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Adds audio; returns the utterances completed by it."""
        self.total += len(data)
        self._pending += self._feed.feed(data)
        out = []
        bps = self.bytes_per_second
        while len(self._pending) >= bps:
            window = bytes(self._pending[:bps])
            del self._pending[:bps]
            made = self._utterance(window, self._window)
            self._window += 1
            if made:
                out.append(made)
        return out

    def finish(self) -> list[dict[str, Any]]:
        """The trailing incomplete window, if it has speech."""
        self._pending += self._feed.flush()
        window = bytes(self._pending)
        self._pending.clear()
        made = self._utterance(window, self._window) if window else None
        self._window += 1
        return [made] if made else []

    def partial(self) -> dict[str, Any] | None:
        """A partial transcript for the incomplete window, when it has speech."""
        window = bytes(self._pending)
        if voiced_span(window, self._feed.format) is None:
            return None
        words, _ = SCRIPT.hear(self._window.to_bytes(4, "big"), window)
        shown = max(1, len(words) * len(window) // self.bytes_per_second)
        return {
            "partial_id": f"{self.conversation_id}_utt_{len(self.utterances):04d}",
            "text": " ".join(words[:shown]),
            "is_final": False,
        }

    def _utterance(self, window: bytes, index: int) -> dict[str, Any] | None:
        span = voiced_span(window, self._feed.format)
        if span is None:
            return None
        words, digest = SCRIPT.hear(index.to_bytes(4, "big"), window)
        number = len(self.utterances)
        text = " ".join(words)
        entry = {
            "utterance_id": f"{self.conversation_id}_utt_{number:04d}",
            "speaker": f"Speaker_{number % 2}",
            "t_start": round(index + span[0] / 100, 2),
            "t_end": round(index + span[1] / 100, 2),
            "text": text[0].upper() + text[1:] + ".",
            "asr_confidence": round(0.8 + (digest[10] % 20) / 100, 2),
            "_digest": digest.hex(),
        }
        self.utterances.append(entry)
        return entry


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def _emotion(entry: dict[str, Any], number: int) -> dict[str, Any]:
    digest = bytes.fromhex(entry["_digest"])
    weights = [1 + digest[11 + i] for i in range(len(EMOTIONS))]
    total = sum(weights)
    probs = {label: round(w / total, 3) for label, w in zip(EMOTIONS, weights, strict=True)}
    dominant = max(probs, key=lambda k: probs[k])
    emotion: dict[str, Any] = (
        {"emotions": probs, "dominant": dominant} if number % 2 == 0 else dict(probs)
    )
    return {
        "utterance_id": entry["utterance_id"],
        "speaker_id": entry["speaker"],
        "emotion": emotion,
        "scores": {
            "valence": round(digest[18] / 255 * 2 - 1, 2),
            "arousal": round(digest[19] / 255, 2),
            "dominance": round(digest[20] / 255, 2),
        },
        "confidence": round(0.6 + (digest[21] % 40) / 100, 2),
        "stability": "final",
    }


def _cognitive(entry: dict[str, Any]) -> dict[str, Any]:
    digest = bytes.fromhex(entry["_digest"])
    load = ("low", "medium", "high")[digest[23] % 3]
    return {
        "utterance_id": entry["utterance_id"],
        "engagement": round(0.4 + (digest[22] % 60) / 100, 2),
        "cognitive_load": load,
        "signals": ["steady_pace"] if load == "low" else ["hesitation", "topic_shift"],
        "rationale": f"{load} load inferred from pacing",
    }


def _transition(
    conversation_id: str, prev: dict[str, Any], entry: dict[str, Any]
) -> dict[str, Any]:
    return {
        "transition_id": f"{conversation_id}_tr_0001",
        "at_ms": round(entry["t_start"] * 1000),
        "from_state": {"speaker": prev["speaker"], "tone": "neutral"},
        "to_state": {"speaker": entry["speaker"], "tone": "engaged"},
        "evidence_utterance_ids": [prev["utterance_id"], entry["utterance_id"]],
        "drivers": {"speaker_change": True},
        "confidence": 0.72,
        "stability": "final",
    }


def _moment(conversation_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "moment_id": f"{conversation_id}_mo_0001",
        "category": "cta_commit",
        "speaker_id": entry["speaker"],
        "start_ms": round(entry["t_start"] * 1000),
        "end_ms": round(entry["t_end"] * 1000),
        "utterance_ids": [entry["utterance_id"]],
        "summary": f"{entry['speaker']} commits to a next step.",
        "labels": ["commitment"],
        "confidence": 0.81,
        "evidence": entry["text"],
    }


def extras_for(
    conversation_id: str, script: AudioScript, entry: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The events following one final transcript: emotion, cognitive, maybe a transition
    (second utterance) or a moment (third)."""
    number = script.utterances.index(entry)
    out = [("emotion", _emotion(entry, number)), ("cognitive", _cognitive(entry))]
    if number == 1:
        out.append(("transition", _transition(conversation_id, script.utterances[0], entry)))
    if number == 2:
        out.append(("moment", _moment(conversation_id, entry)))
    return out


def summary_for(script: AudioScript) -> dict[str, Any]:
    """The ConversationSummary of a script."""
    entries = script.utterances
    speakers = sorted({e["speaker"] for e in entries})
    duration = script.total / max(1, script.bytes_per_second)
    counts = {s: sum(1 for e in entries if e["speaker"] == s) for s in speakers}
    summary: dict[str, Any] = {
        "overview": (
            f"{len(entries)} utterances from {len(speakers)} speakers over "
            f"{duration:.1f} s of audio."
        ),
        "key_insights": [
            f"{_clock(e['t_start'])} {e['speaker']}: {e['text']}" for e in entries[:3]
        ],
        "notable_patterns": [f"Speakers alternate every utterance ({len(speakers)} speakers)."],
        "recommendations": (
            [f"Follow up on the commitment made at {_clock(entries[2]['t_start'])}."]
            if len(entries) > 2
            else ["Collect more audio before drawing conclusions."]
        ),
        "what_went_well": ["Balanced turn taking."],
        "what_went_wrong": [],
        "speaker_dynamics": {s: {"utterances": n} for s, n in counts.items()},
        "conversation_quality": "good" if entries else "insufficient",
    }
    return summary


def analysis_for(conversation_id: str, script: AudioScript) -> dict[str, Any]:
    """The AnalysisResponse of a script (``POST /analyze``)."""
    timeline = []
    moments: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    for entry in script.utterances:
        item = _public(entry)
        for name, data in extras_for(conversation_id, script, entry):
            if name == "emotion":
                item["emotion"] = data["emotion"]
            elif name == "cognitive":
                item["cognitive"] = {k: v for k, v in data.items() if k != "utterance_id"}
            elif name == "moment":
                moments.append({k: v for k, v in data.items() if k != "evidence"})
            elif name == "transition":
                transitions.append(data)
        item["prosody_desc"] = "steady, clear"
        item["confidence"] = item["asr_confidence"]
        timeline.append(item)
    end = timeline[-1]["t_end"] if timeline else 0.0
    return {
        "conversation_id": conversation_id,
        "utterances": len(timeline),
        "timeline": timeline,
        "summary": summary_for(script),
        "insights": {
            "overall_sentiment": {"mean": 0.12, "std": 0.2, "trend": "positive"},
            "dominant_emotions": ["neutral"],
            "engagement_pattern": "increasing",
            "key_moments": moments,
        },
        "transitions": transitions,
        "moments": moments,
        "segmentation": {
            "phases": [
                {
                    "phase_id": "phase_1",
                    "phase_name": "Conversation",
                    "start_timestamp": timeline[0]["t_start"] if timeline else 0.0,
                    "end_timestamp": end,
                    "utterance_count": len(timeline),
                    "theme": "scripted by the emulator",
                    "transition_signal": None,
                }
            ],
            "total_phases": 1,
            "segmentation_rationale": "one phase per emulated conversation",
            "narrative_arc": "flat",
            "key_transitions": [],
        },
        "artifact_dir": conversation_id,
        "upload_path": f"uploads/{conversation_id}",
        "agent_outputs_path": f"agent_outputs/{conversation_id}",
    }


# -- live sessions -----------------------------------------------------------------------------


@attrs.define(kw_only=True)
class LiveState:
    """One emulated live session."""

    session_id: str
    conversation_id: str
    filename: str
    ttl: int
    expires_at: datetime
    phase: str = "waiting_media"
    next_seq: int = 0
    bytes: int = 0
    consumer: bool = False
    gone: bool = False
    expired: bool = False
    script: AudioScript
    events: asyncio.Queue[tuple[str, Any]] = attrs.field(factory=asyncio.Queue)

    def push(self, name: str, data: Any) -> None:
        self.events.put_nowait((name, data))

    @property
    def finished(self) -> bool:
        return self.phase in ("processing", "completed", "cancelled") or self.expired


class _LoseResponses:
    """Drops a response whose handler marked it (the request was processed, the answer lost)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start" and any(
                k.lower() == _DROP_HEADER for k, _ in message.get("headers", [])
            ):
                raise DroppedConnection("the emulator lost the answer after storing the chunk")
            await send(message)

        await self.app(scope, receive, guarded)


class IllocutionEmulator(EmulatorHarness):
    """The harness (:class:`~convoport.sandbox.EmulatorHarness`) plus test knobs:
    ``lose_response_for_chunks`` (a set of chunk sequence numbers), ``drop_events_after``
    (drop the next event stream after that many events), ``advance(seconds)`` (moves the
    emulator's clock), ``start_time`` (freezes the clock there, for reproducible recordings),
    ``requests`` (``(method, path)`` of every request that reached the routes),
    ``bytes_received()``. ``heartbeat`` is the seconds between SSE pings; ``settings`` sizes
    and degrades it like every emulator (``sessions`` is ignored: Illocution has no
    catalog)."""

    provider = "illocution"
    base_url = BASE_URL
    sandbox_key = SANDBOX_KEY
    credential_header = "x-api-key"
    credential_query = "api_key"

    def __init__(
        self,
        seed: int | None = None,
        faults: Faults | None = None,
        *,
        api_key: str = SANDBOX_KEY,
        enable_live: bool = True,
        heartbeat: float = 15.0,
        start_time: datetime | None = None,
        settings: HarnessSettings | None = None,
        clock: SandboxClock | None = None,
    ) -> None:
        super().__init__(
            settings=(settings or HarnessSettings()).merged(seed=seed),
            faults=faults,
            clock=clock or SandboxClock(start_time),
            api_key=api_key,
        )
        self.enable_live = enable_live
        self.heartbeat = heartbeat
        self.lose_response_for_chunks: set[int] = set()
        self.drop_events_after: int | None = None
        self.sessions: dict[str, LiveState] = {}
        self.analyses: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self._counter = 0

    # -- harness API ------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        routes = [Route("/analyze", self._analyze, methods=["POST"])]
        if self.enable_live:
            routes += [
                Route(wire.START_PATH, self._start, methods=["POST"]),
                Route("/analyze/live/{sid}/chunk", self._chunk, methods=["POST"]),
                Route("/analyze/live/{sid}/events", self._events, methods=["GET"]),
                Route("/analyze/live/{sid}/control", self._control, methods=["POST"]),
            ]
        return routes

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _LoseResponses(super().wrap(app))

    def error_body(
        self,
        status: int,
        message: str,
        *,
        path: str = "",
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """FastAPI's error body: ``{"detail": message}``, or ``{"detail": errors}`` (each
        ``{"loc", "msg", "type"}``) for a validation error."""
        return {"detail": errors if errors is not None else message}

    def fault_message(self, status: int) -> str:
        return "injected fault"

    def check_auth(self, request: HTTPConnection) -> Response | None:
        self.requests.append((request.scope.get("method", "GET"), request.url.path))
        return super().check_auth(request)

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        audio = {"seconds": 4.0, "sample_rate": 16000, "channels": 1, "container": "wav"}
        if scenario in ("live_ingest_roundtrip", "auth_failure"):
            return {"options": {"encoding": "wav", "ttl": 900}, "audio": audio}
        if scenario == "batch_analyze":
            return {"media": {**audio, "seconds": 6.0}, "options": {"filename": "call.wav"}}
        return None

    def bytes_received(self, session_id: str) -> int:
        """Audio bytes stored for a live session, or received for an analysis (by
        ``conversation_id``)."""
        if session_id in self.sessions:
            return self.sessions[session_id].bytes
        return self.analyses.get(session_id, 0)

    def advance(self, seconds: float) -> None:
        """Moves the emulator's clock forward (sessions past ``expires_at`` expire)."""
        self.clock.advance(seconds)
        for state in self.sessions.values():
            self._check_expiry(state)

    # -- helpers ----------------------------------------------------------------------------

    def _next_id(self, prefix: str, length: int = 8) -> str:
        self._counter += 1
        digest = hashlib.sha256(f"{self.seed}:{self._counter}:{prefix}".encode()).hexdigest()
        return f"{prefix}_{digest[:length]}"

    def _check_expiry(self, state: LiveState) -> None:
        if state.gone or state.expired or state.phase in ("processing", "completed"):
            return
        if self.now() >= state.expires_at:
            state.expired = True
            state.push(
                "error",
                {"code": "session_expired", "message": f"live session {state.session_id} expired"},
            )

    def _session(self, sid: str) -> LiveState | Response:
        state = self.sessions.get(sid)
        if state is None or state.gone:
            return self.error_response(404, "Live session not found")
        self._check_expiry(state)
        if state.expired:
            return self.error_response(410, f"live session {sid} has expired")
        return state

    def _validation(self, loc: list[Any], msg: str, kind: str) -> Response:
        return self.error_response(422, msg, errors=[{"loc": loc, "msg": msg, "type": kind}])

    # -- routes -----------------------------------------------------------------------------

    async def _start(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return self._validation(["body"], "JSON decode error", "json_invalid")
        if not isinstance(body, dict):
            return self._validation(["body"], "Input should be an object", "model_type")
        ttl = body.get("ttl_seconds", wire.TTL_DEFAULT)
        if not isinstance(ttl, int) or isinstance(ttl, bool):
            return self._validation(["body", "ttl_seconds"], "Input should be an integer", "int")
        if ttl < wire.TTL_MIN:
            return self._validation(
                ["body", "ttl_seconds"], "Input should be greater than or equal to 60",
                "greater_than_equal",
            )  # fmt: skip
        if ttl > wire.TTL_MAX:
            return self._validation(
                ["body", "ttl_seconds"], "Input should be less than or equal to 3600",
                "less_than_equal",
            )  # fmt: skip
        sid = self._next_id("live")
        cid = "liveconv_" + sid.removeprefix("live_")
        filename = body.get("filename") or ("live" + str(body.get("suffix") or ".mp4"))
        state = LiveState(
            session_id=sid,
            conversation_id=cid,
            filename=str(filename),
            ttl=ttl,
            expires_at=self.now() + timedelta(seconds=ttl),
            script=AudioScript(cid),
        )
        self.sessions[sid] = state
        state.push("status", {"phase": "waiting_media", "progress": 0.0})
        return JSONResponse(
            {
                "session_id": sid,
                "conversation_id": cid,
                "chunk_endpoint": f"/analyze/live/{sid}/chunk",
                "events_endpoint": f"/analyze/live/{sid}/events",
                "control_endpoint": f"/analyze/live/{sid}/control",
                "next_chunk_seq": 0,
                "expires_at": _iso(state.expires_at),
                "status": state.phase,
            }
        )

    async def _chunk(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        found = self._session(request.path_params["sid"])
        if isinstance(found, Response):
            return found
        state = found
        seq_text: str | None = None
        chunk = bytearray()
        has_chunk = False
        try:
            async for head, piece in iter_parts(
                request.headers.get("content-type"), request.stream()
            ):
                name = head.name
                if name == "chunk":
                    has_chunk = True
                    if piece:
                        chunk += piece
                elif name == "chunk_seq" and piece:
                    seq_text = (seq_text or "") + piece.decode("utf-8", "replace")
                elif name == "chunk_seq" and seq_text is None:
                    seq_text = ""
        except ValueError as exc:
            return self._validation(["body"], str(exc), "value_error")
        missing = [n for n, ok in (("chunk_seq", seq_text is not None), ("chunk", has_chunk))
                   if not ok]  # fmt: skip
        if missing:
            return self.error_response(422, "Field required", errors=[
                {"loc": ["body", n], "msg": "Field required", "type": "missing"} for n in missing
            ])  # fmt: skip
        try:
            seq = int(seq_text or "")
        except ValueError:
            return self._validation(
                ["body", "chunk_seq"], "Input should be a valid integer", "int_parsing"
            )
        if state.finished:
            return self.error_response(409, "Session is finalizing; chunks are no longer accepted")
        if seq != state.next_seq:
            return self.error_response(
                409, f"Out-of-order chunk: expected chunk_seq {state.next_seq}, got {seq}"
            )
        data = bytes(chunk)
        state.next_seq += 1
        state.bytes += len(data)
        state.expires_at = self.now() + timedelta(seconds=state.ttl)
        if state.phase == "waiting_media":
            state.phase = "ingesting"
            state.push("status", {"phase": "ingesting", "progress": 0.0})
        for entry in state.script.feed(data):
            self._push_final(state, entry)
        partial = state.script.partial()
        if partial is not None:
            state.push("partial_transcript", partial)
        headers_out = {}
        if seq in self.lose_response_for_chunks:
            self.lose_response_for_chunks.discard(seq)
            headers_out[_DROP_HEADER.decode()] = "1"
        return JSONResponse(
            {"received_bytes": len(data), "next_chunk_seq": state.next_seq}, headers=headers_out
        )

    def _push_final(self, state: LiveState, entry: dict[str, Any]) -> None:
        state.push("final_transcript", _public(entry))
        for name, data in extras_for(state.conversation_id, state.script, entry):
            state.push(name, data)

    async def _events(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        found = self._session(request.path_params["sid"])
        if isinstance(found, Response):
            return found
        state = found
        if state.consumer:
            return self.error_response(409, "An SSE consumer is already attached to this session")
        state.consumer = True
        return StreamingResponse(
            self._stream(state),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )

    async def _stream(self, state: LiveState) -> AsyncIterator[bytes]:
        sent = 0
        try:
            while True:
                if self.drop_events_after is not None and sent >= self.drop_events_after:
                    self.drop_events_after = None
                    raise DroppedConnection("the emulator dropped the event stream")
                try:
                    name, data = await asyncio.wait_for(state.events.get(), self.heartbeat)
                except TimeoutError:
                    self._check_expiry(state)
                    if state.events.empty():
                        yield b": ping\n\n"
                    continue
                yield format_event(name, data)
                sent += 1
                if name in ("done", "error"):
                    state.gone = True
                    return
        finally:
            state.consumer = False

    async def _control(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        found = self._session(request.path_params["sid"])
        if isinstance(found, Response):
            return found
        state = found
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return self._validation(["body"], "JSON decode error", "json_invalid")
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ("finalize", "cancel", "keepalive"):
            return self._validation(
                ["body", "action"],
                "Input should be 'finalize', 'cancel' or 'keepalive'",
                "literal_error",
            )
        if action == "keepalive":
            state.expires_at = self.now() + timedelta(seconds=state.ttl)
            detail = "session lifetime extended"
        elif action == "finalize":
            if state.finished:
                return self.error_response(409, "Session already finalized")
            self._finish(state)
            detail = "finalization started"
        else:
            if state.phase in ("completed", "cancelled"):
                return self.error_response(409, "Session already ended")
            state.phase = "cancelled"
            state.push("error", {"code": "cancelled", "message": "Session cancelled by client"})
            detail = "session cancelled"
        status = "processing" if action == "finalize" else state.phase
        return JSONResponse(
            {"status": status, "detail": detail, "expires_at": _iso(state.expires_at)}
        )

    def _finish(self, state: LiveState) -> None:
        state.phase = "processing"
        for entry in state.script.finish():
            self._push_final(state, entry)
        state.push("status", {"phase": "processing", "progress": 0.5})
        state.push("summary_update", summary_for(state.script))
        state.phase = "completed"
        state.push("status", {"phase": "completed", "progress": 1.0})
        state.push("done", {"conversation_id": state.conversation_id})

    async def _analyze(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        cid = self._next_id("analysis", 10)
        script = AudioScript(cid)
        received = 0
        has_file = False
        try:
            async for head, piece in iter_parts(
                request.headers.get("content-type"), request.stream()
            ):
                if head.name == "file":
                    has_file = True
                    if piece:
                        received += len(piece)
                        script.feed(piece)
        except ValueError as exc:
            return self._validation(["body"], str(exc), "value_error")
        if not has_file:
            return self._validation(["body", "file"], "Field required", "missing")
        script.finish()
        self.analyses[cid] = received
        return JSONResponse(analysis_for(cid, script))


def format_event(name: str, data: Any) -> bytes:
    """One SSE event; ``summary_update`` is pretty-printed over several ``data:`` lines."""
    if name == "summary_update":
        text = json.dumps(data, indent=2)
    else:
        text = json.dumps(data, separators=(",", ":"))
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    return f"event: {name}\n{lines}\n".encode()


__all__ = [
    "BASE_URL",
    "SANDBOX_KEY",
    "SCRIPT",
    "AudioScript",
    "IllocutionEmulator",
    "LiveState",
    "analysis_for",
    "extras_for",
    "format_event",
    "multipart_parts",
    "summary_for",
]
