"""A Syllable sessions emulator: ``/api/v1/sessions/*`` and ``/api/v1/session_labels/*`` from
seeded state.

Built from ``shared/vendors/syllable.md`` and the OpenAPI extract (``openapi.json`` beside this
module) on :class:`convoport.sandbox.EmulatorHarness`; every answer validates against that
document (a test checks it), and the official ``syllable-sdk`` 0.49.87 reads every answer
without a validation error (another test). Use it through :class:`SyllableEmulator`::

    harness = SyllableEmulator(settings=HarnessSettings(sessions=200, seed=3))
    client = convoport.connect("syllable", transport=harness.transport(),
                               **harness.connect_options())

What it does:

* **Seeded sessions** (``settings.sessions``, default 60; deterministic from the seed, default
  11; 10,000 seed in well under a second because transcripts, summaries, latency and timelines
  are made from the session's own seed when asked for): numeric ids as strings from ``801``,
  timestamps every 3-9 hours from 2026-10-01, three agents, voice (Twilio, SIP) and non-voice
  (web chat, SMS) channels, transcript lines in ``en-US``, ``es-US`` and ``fr-CA``, inbound and
  outbound sessions, user-terminated and transferred calls, test sessions (every ninth,
  with ``override_timestamp``), legacy sessions, sessions still running (every tenth: no
  ``duration``), one or two recordings on finished voice sessions, labels on every fourth.
* **Transcripts**: finished voice sessions are ``transcript_complete``, except every eighth,
  which is *settling*: the first two reads answer part of the lines and ``false``, the third
  the whole transcript and ``true``. Non-voice and running sessions never complete. Every
  thirteenth finished voice session has no transcript at all (404). Tool calls are
  ``actions`` with JSON-string payloads. User lines carry ``stt_confidence`` (Deepgram with
  words, or Google without).
* **Open vocabularies**: the seeded data keeps to the document's enumerations (so the SDK
  reads it); the fault knob ``unknown_enum_values`` (how many next timelines) makes the next
  latency report carry an entry of category ``"vad"`` and unit ``"ticks"`` and the next
  timeline an event of kind ``"vad"``: members a newer Syllable may send that the SDK's closed
  enums refuse (Syllable's ``unknown_enum_values`` scenario).
* **Listing** (§3): 0-based ``page``/``limit`` (default 25) with ``total_pages``/
  ``total_count`` (``totals`` = ``"present"``, ``"null"`` or ``"absent"`` chooses how they
  appear); ordered by ``timestamp`` descending unless ``order_by``/``order_by_direction`` say
  otherwise; ``fields`` projections (``timestamp`` always kept); ``start_datetime`` (inclusive)
  and ``end_datetime`` (inclusive) on ``timestamp``, a malformed one a 400 with a string
  ``detail``. Search (§3.5): repeated ``search_fields``/``search_field_values`` paired by
  index, exact string matches; test sessions are left out unless ``is_test=true`` is searched
  (which then *includes* them); ``is_test=false`` and ``is_legacy`` change nothing;
  ``is_outbound`` is refused with 422 (production's enum is narrower than the spec's); an
  unknown field is a 422; ``session_id`` searched with a legacy transcript id
  (:data:`LEGACY_IDS`) is the 400 whose ``detail`` is a ``LegacySessionLinkDetail``.
* **Errors** are FastAPI's: 422 ``{"detail": [{"loc", "msg", "type", "input", "ctx"}]}``,
  400 ``{"detail": "..."}`` (non-numeric ids on by-id routes too), 404 ``{"detail": "..."}``,
  401 without the sandbox key (:data:`SANDBOX_KEY` in ``Syllable-API-Key``).
* **Recordings**: ``POST /api/v1/sessions/recording/{id}`` answers
  ``<scheme>://<host>/api/v1/sessions/recording/stream?token=<token>`` URLs (tokens from a
  counter, so runs are reproducible) that expire :data:`TOKEN_TTL` seconds of emulator time
  later; the stream needs the API key too, serves a WAV as ``application/octet-stream``,
  honours ``Range: bytes=N-`` (206) and answers an unknown or expired token with 403.
  Faults: ``expire_next_token`` (the next stream request finds its token expired) and
  ``expire_tokens_mid_download`` (the next download stops half-way and its token expires).
* **Faults** (:class:`convoport.sandbox.Faults`, from the settings): latency, 5xx, 429 with
  ``Retry-After``, dropped connections, with Syllable-shaped ``{"detail": ...}`` bodies.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from convoport.sandbox import EmulatorHarness, HarnessSettings, SandboxClock, make_wav, tone_pcm

from . import wire

#: The API key the emulator accepts.
SANDBOX_KEY = "sandbox-key"
#: Seconds (emulator time) a recording token stays valid.
TOKEN_TTL = 300.0
#: Legacy transcript ids: searching ``session_id`` for one answers the legacy-link 400.
LEGACY_IDS = ("T-LEGACY-0001", "T-LEGACY-0002")
FIRST_ID = 801
#: Seconds of generated audio per recording (8 kHz mono 16-bit WAV).
AUDIO_SECONDS = 2.0
AUDIO_RATE = 8000

_AGENTS = (
    ("42", "Support Bot", "ca_v1", "America/New_York", "7", "Support prompt"),
    ("57", "Billing Assistant", "ca_v1", "America/Chicago", "9", "Billing prompt"),
    ("63", "Agente de Ventas", "ca_v1", "America/Los_Angeles", "12", "Ventas prompt"),
)
_CHANNELS = (
    ("twilio", "voice_twilio_v1"),
    ("hedy", "voice_sip_v1"),
    ("console", "web_chat_v1"),
    ("twilio", "voice_twilio_v1"),
    ("twilio", "sms_v1"),
)
_LANGUAGES = ("en-US", "es-US", "fr-CA")
_LINES = {
    "en-US": (
        ("agent", "Hello, thanks for calling. How can I help you today?"),
        ("user", "Hi, I have a question about my last invoice."),
        ("agent", "Sure, let me look that up for you."),
        ("user", "The amount looks higher than usual."),
        ("agent", "I see a one-time setup fee. I can explain it or open a ticket."),
        ("user", "Please open a ticket, thank you."),
    ),
    "es-US": (
        ("agent", "Hola, gracias por llamar. ¿En qué puedo ayudarle?"),
        ("user", "Quiero cambiar la fecha de mi cita."),
        ("agent", "Claro, ¿qué día le conviene?"),
        ("user", "El martes por la mañana."),
        ("agent", "Listo, su cita quedó para el martes a las diez."),
    ),
    "fr-CA": (
        ("agent", "Bonjour, merci d'avoir appelé. Comment puis-je vous aider?"),
        ("user", "Je voudrais connaître le statut de ma commande."),
        ("agent", "Votre commande a été expédiée hier."),
        ("user", "Parfait, merci beaucoup."),
    ),
}
_SUMMARIES = {
    "en-US": "The caller asked about a higher invoice; the agent explained the setup fee and "
    "opened a ticket.",
    "es-US": "El cliente cambió la fecha de su cita para el martes a las diez.",
    "fr-CA": "Le client a demandé le statut de sa commande; elle a été expédiée.",
}
_RATINGS = ("Good", "Good", "Fair", "Poor")
_LABEL_CODES = ("GOOD", "OK", "BAD", "N/A")

Endpoint = Callable[[Request], Awaitable[Response]]
#: How list pages carry their optional totals (see ``page_number_page``).
Totals = Literal["present", "null", "absent"]


def stamp(value: datetime) -> str:
    """The emulator's date-time form: UTC, ``Z``, milliseconds when not whole seconds."""
    utc = value.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "milliseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@attrs.define(kw_only=True)
class Seeded:
    """One seeded session: its ``Session`` payload and what the emulator derives from it."""

    index: int
    wire: dict[str, Any]
    language: str
    recordings: int = 0
    has_transcript: bool = True
    settling: bool = False
    has_summary: bool = True
    labels: int = 0
    reads: int = 0

    @property
    def id(self) -> str:
        return str(self.wire["session_id"])

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(str(self.wire["timestamp"]).replace("Z", "+00:00"))

    @property
    def voice(self) -> bool:
        return str(self.wire.get("channel_manager_type") or "").startswith("voice")

    @property
    def ended(self) -> bool:
        return self.wire.get("duration") is not None

    @property
    def test(self) -> bool:
        return self.wire.get("is_test") is True


class _Invalid(Exception):
    """A request FastAPI would refuse: 422 with ``detail`` items, or 400 with a string or
    object ``detail``."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


def _enum_error(loc: list[str | int], value: str, members: Sequence[str]) -> dict[str, Any]:
    expected = ", ".join(f"'{m}'" for m in members[:-1]) + f" or '{members[-1]}'"
    return {
        "type": "enum",
        "loc": loc,
        "msg": f"Input should be {expected}",
        "input": value,
        "ctx": {"expected": expected},
    }


def _int_error(loc: list[str | int], value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


def _min_error(loc: list[str | int], value: int) -> dict[str, Any]:
    return {
        "type": "greater_than_equal",
        "loc": loc,
        "msg": "Input should be greater than or equal to 0",
        "input": str(value),
        "ctx": {"ge": 0},
    }


#: What production accepts in ``search_fields`` (narrower than the spec: no ``is_outbound``).
PRODUCTION_PROPERTIES = tuple(p for p in wire.SESSION_PROPERTIES if p != "is_outbound")


class SyllableEmulator(EmulatorHarness):
    """The harness: seeded sessions, the Starlette app, its faults and the kit's arguments.

    ``settings`` sizes and degrades it (``sessions``, ``seed``, latency and fault rates);
    ``totals`` chooses how list pages carry ``total_pages``/``total_count`` (``"present"``,
    ``"null"``, ``"absent"``). ``expire_next_token``, ``expire_tokens_mid_download`` and
    ``unknown_enum_values`` are fault knobs (how many next times).
    """

    provider = "syllable"
    base_url = wire.DEFAULT_BASE_URL
    sandbox_key = SANDBOX_KEY
    credential_header = wire.KEY_HEADER
    default_seed = 11
    default_sessions = 60

    def __init__(
        self,
        *,
        settings: HarnessSettings | None = None,
        clock: SandboxClock | None = None,
        totals: Totals = "present",
        **kwargs: Any,
    ) -> None:
        super().__init__(settings=settings, clock=clock, **kwargs)
        if totals not in ("present", "null", "absent"):
            raise ValueError("totals must be 'present', 'null' or 'absent'")
        self.totals = totals
        self.rng = random.Random(self.seed)
        self.sessions: dict[str, Seeded] = {}
        self.expire_next_token = 0
        self.expire_tokens_mid_download = 0
        self.unknown_enum_values = 0
        self._tokens: dict[str, tuple[str, int, datetime]] = {}
        self._expired: set[str] = set()
        self._serial = 0
        self.labels: dict[int, dict[str, Any]] = {}
        self._seed(self.session_count)

    # -- seeded state ---------------------------------------------------------------------------

    def _seed(self, count: int) -> None:
        rng = self.rng
        moment = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
        label_id = 500
        for i in range(count):
            moment += timedelta(hours=rng.uniform(3, 9), seconds=rng.randint(0, 59))
            moment = moment.replace(microsecond=0)
            sid = str(FIRST_ID + i)
            agent_id, agent_name, agent_type, tz, prompt_id, prompt_name = _AGENTS[i % 3]
            service, channel = _CHANNELS[i % len(_CHANNELS)]
            voice = channel.startswith("voice")
            running = i % 10 == 9
            test = i % 9 == 4
            outbound = i % 4 == 2
            language = _LANGUAGES[(i // 2) % 3]
            phone = f"+1804222{1000 + i:04d}"
            caller = phone if voice or channel == "sms_v1" else f"user{i}@example.com"
            duration = None if running else round(rng.uniform(35, 420), 1)
            data: dict[str, Any] = {
                "timestamp": stamp(moment),
                "session_id": sid,
                "conversation_id": str(4000 + i // 2),
                "channel_manager_service": service,
                "channel_manager_type": channel,
                "channel_manager_sid": (
                    "CA" + hashlib.sha256(sid.encode()).hexdigest()[:32] if voice else None
                ),
                "agent_id": agent_id,
                "agent_name": agent_name,
                "agent_type": agent_type,
                "agent_timezone": tz,
                "prompt_id": prompt_id,
                "prompt_name": prompt_name,
                "prompt_version": None,
                "prompt_version_number": 3 + i % 4,
                "experiment_id": "exp-7" if i % 11 == 5 else None,
                "experiment_variant_id": "var-b" if i % 11 == 5 else None,
                "experiment_variant": "shorter greeting" if i % 11 == 5 else None,
                "experiment_variant_is_control": False if i % 11 == 5 else None,
                "duration": duration,
                "session_label_id": None,
                "source": "+18005550100" if outbound and voice else caller,
                "target": caller if outbound and voice else "+18005550100",
                "is_legacy": i % 15 == 7,
                "is_test": test,
                "is_outbound": outbound,
                "user_terminated": (i % 3 != 1) if voice and not running else None,
                "transfer_voicemail_detected": (i % 12 == 6) if voice and not running else None,
                "override_timestamp": stamp(moment - timedelta(days=1)) if test else None,
            }
            seeded = Seeded(index=i, wire=data, language=language)
            seeded.recordings = (2 if i % 7 == 3 else 1) if voice and not running else 0
            seeded.has_transcript = not (voice and not running and i % 13 == 11)
            seeded.settling = voice and not running and seeded.has_transcript and i % 8 == 5
            seeded.has_summary = not running and i % 6 != 2
            if i % 4 == 1 and not running:
                seeded.labels = 1 + i % 2
                for n in range(seeded.labels):
                    label_id += 1
                    self.labels[label_id] = {
                        "session_id": int(sid),
                        "type": "human-rating" if n else "auto-rating",
                        "code": _LABEL_CODES[(i + n) % 4],
                        "user_email": "qa@example.com" if n else "auto@syllable.ai",
                        "id": label_id,
                        "timestamp": stamp(moment + timedelta(hours=1 + n)),
                        "comments": "caller had to repeat the account number" if n else None,
                        "issue_categories": ["repetition"] if n else None,
                    }
                data["session_label_id"] = str(label_id)
            self.sessions[sid] = seeded

    def session(self, session_id: str) -> Seeded:
        return self.sessions[session_id]

    def _rng(self, seeded: Seeded, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{seeded.id}:{what}")

    def transcript_for(self, seeded: Seeded, *, complete_view: bool = True) -> dict[str, Any]:
        """The ``SessionTranscriptionResponse`` of a session (``complete_view=False``: what a
        settling session answers before its records are all written)."""
        rng = self._rng(seeded, "transcript")
        lines = _LINES[seeded.language]
        if not seeded.ended:
            lines = lines[:2]
        at = seeded.timestamp + timedelta(seconds=1)
        transcription: list[dict[str, Any]] = []
        for turn, (source, text) in enumerate(lines):
            at += timedelta(seconds=rng.randint(2, 9), milliseconds=rng.randint(0, 999))
            line: dict[str, Any] = {
                "timestamp": stamp(at),
                "lang": seeded.language if turn or source == "user" else "unset",
                "source": source,
                "text": text,
            }
            if source == "user" and seeded.voice:
                words = text.split()
                if seeded.index % 2:
                    line["stt_confidence"] = {
                        "provider": "google",
                        "model": "chirp_2",
                        "utterance": round(rng.uniform(0.7, 0.99), 3),
                        "utterance_source": "provider",
                        "words": None,
                        "words_truncated": None,
                    }
                else:
                    start = 0.0
                    entries: list[dict[str, Any]] = []
                    for word in words:
                        end = round(start + rng.uniform(0.2, 0.5), 2)
                        entries.append(
                            {
                                "word": word,
                                "confidence": round(rng.uniform(0.6, 0.99), 3),
                                "start": start,
                                "end": end,
                            }
                        )
                        start = end
                    line["stt_confidence"] = {
                        "provider": "deepgram",
                        "model": "nova-3",
                        "utterance": min(float(e["confidence"]) for e in entries),
                        "utterance_source": "derived_min" if seeded.index % 4 == 0 else "provider",
                        "words": entries,
                        "words_truncated": False,
                    }
            transcription.append(line)
        actions: list[dict[str, Any]] = []
        if seeded.ended and len(transcription) > 2:
            when = datetime.fromisoformat(transcription[2]["timestamp"].replace("Z", "+00:00"))
            request = {"session_id": seeded.id, "query": "last invoice"}
            result = {"status": "ok", "ticket": f"TCK-{seeded.index:05d}"}
            actions.append(
                {
                    "timestamp": stamp(when + timedelta(milliseconds=400)),
                    "tool_name": "lookup_account",
                    "tool_request": json.dumps(request),
                    "tool_result": json.dumps(result),
                    "tool_error": None,
                    "duration_ms": round(rng.uniform(80, 900), 1),
                }
            )
            if seeded.index % 5 == 0:
                actions.append(
                    {
                        "timestamp": stamp(when + timedelta(seconds=2)),
                        "tool_name": "open_ticket",
                        "tool_request": json.dumps({"priority": "normal"}),
                        "tool_result": None,
                        "tool_error": json.dumps({"error": "ticketing system timed out"}),
                        "duration_ms": 5000.0,
                    }
                )
        complete = seeded.ended and seeded.voice
        if seeded.settling and not complete_view:
            transcription = transcription[: max(1, len(transcription) // 2)]
            actions = []
            complete = False
        return {
            "session_id": seeded.id,
            "transcription": transcription,
            "actions": actions,
            "transcript_complete": complete,
        }

    def summary_for(self, seeded: Seeded) -> dict[str, Any]:
        if not seeded.has_summary:
            return {}
        return {
            "summary": _SUMMARIES[seeded.language],
            "rating": _RATINGS[seeded.index % len(_RATINGS)],
        }

    def latency_for(self, seeded: Seeded) -> dict[str, Any]:
        rng = self._rng(seeded, "latency")
        start = seeded.timestamp + timedelta(seconds=2)
        entries: list[dict[str, Any]] = []
        plan = [
            ("stt", "stt_processing", ["Nova-3", "Deepgram"]),
            ("llm", "llm_first_token", ["Gpt-4.1", "OpenAI"]),
            ("tts", "tts_first_byte", ["Aura", "Deepgram"]),
            ("tool", "lookup_account", None),
            ("http", "crm_lookup", None),
        ]
        if self.unknown_enum_values > 0:
            plan.append(("vad", "vad_end_of_speech", None))
        for n, (category, label, metadata) in enumerate(plan):
            value = round(rng.uniform(40, 900), 1)
            measured = start + timedelta(seconds=n * 3)
            unit = "ticks" if category == "vad" else "milliseconds"
            entries.append(
                {
                    "timestamp": stamp(measured + timedelta(milliseconds=value)),
                    "measurement_start": stamp(measured),
                    "category": category,
                    "label": label,
                    "unit_type": unit,
                    "value": value,
                    "value_str": f"{value:.1f}ms",
                    "time_delta": f"+{n * 3}s",
                    "metadata": metadata,
                }
            )
        summary = [
            {
                "category": e["category"],
                "event_count": 1,
                "sum_ms": e["value"],
                "sum_str": e["value_str"],
                "average_ms": e["value"],
                "average_str": e["value_str"],
                "sub_category": None,
            }
            for e in entries
        ]
        return {"session_id": seeded.id, "timeline": entries, "summary": summary}

    def timeline_for(self, seeded: Seeded) -> dict[str, Any]:
        transcript = self.transcript_for(seeded)
        origin = seeded.timestamp
        events: list[dict[str, Any]] = []

        def offset(at: datetime) -> str:
            seconds = int((at - origin).total_seconds())
            return f"{seconds // 60:02d}:{seconds % 60:02d}"

        for turn, line in enumerate(transcript["transcription"]):
            at = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
            events.append(
                {
                    "kind": "transcript",
                    "timestamp": line["timestamp"],
                    "offset": offset(at),
                    "turn_index": turn,
                    "source": line["source"],
                    "text": line["text"],
                    "lang": line["lang"],
                }
            )
        for action in transcript["actions"]:
            at = datetime.fromisoformat(action["timestamp"].replace("Z", "+00:00"))
            events.append(
                {
                    "kind": "tool",
                    "timestamp": action["timestamp"],
                    "offset": offset(at),
                    "turn_index": 2,
                    "category": "tool",
                    "label": action["tool_name"],
                    "duration_ms": action["duration_ms"],
                    "tool_request": action["tool_request"],
                    "tool_result": action["tool_result"],
                    "tool_error": action["tool_error"],
                }
            )
        if seeded.voice and events:
            at = origin + timedelta(seconds=4)
            events.append(
                {
                    "kind": "latency",
                    "timestamp": stamp(at),
                    "offset": offset(at),
                    "turn_index": 0,
                    "category": "stt",
                    "label": "stt_processing",
                    "metadata": ["Nova-3", "Deepgram"],
                    "duration_ms": 212.5,
                }
            )
        if self.unknown_enum_values > 0 and events:
            self.unknown_enum_values -= 1
            at = origin + timedelta(seconds=5)
            events.append(
                {
                    "kind": "vad",
                    "timestamp": stamp(at),
                    "offset": offset(at),
                    "turn_index": 0,
                    "label": "end_of_speech",
                }
            )
        events.sort(key=lambda e: e["timestamp"])
        return {"session_id": seeded.id, "events": events, "session_start": stamp(origin)}

    def audio_for(self, seeded: Seeded, index: int) -> bytes:
        """The WAV of one recording (a different tone per session and leg)."""
        pitch = 200.0 + (seeded.index * 7 + index * 55) % 300
        pcm = tone_pcm(AUDIO_SECONDS, sample_rate=AUDIO_RATE, frequency=pitch, silence_every=1.0)
        return make_wav(pcm, sample_rate=AUDIO_RATE, channels=1)

    # -- the kit's data -------------------------------------------------------------------------

    def listed(self, *, include_test: bool = False) -> list[Seeded]:
        """The default listing's sessions (newest first), test sessions only when asked."""
        chosen = [s for s in self.sessions.values() if include_test or not s.test]
        return sorted(chosen, key=lambda s: s.timestamp, reverse=True)

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        """Arguments for the kit's scenarios (and Syllable's own), from the seeded data."""
        ended_voice = [
            s for s in self.listed() if s.voice and s.ended and s.has_transcript and not s.settling
        ]
        plain = ended_voice[0]
        two_legs = next((s for s in ended_voice if s.recordings == 2), plain)
        summarized = next(s for s in ended_voice if s.has_summary)
        settling = next((s for s in self.listed() if s.settling), None)
        phone_session = next(s for s in self.listed() if str(s.wire["source"]).startswith("+"))
        first = self.listed()[0]
        call = {"session_id": plain.id}
        digest = hashlib.sha256(self.audio_for(two_legs, 1)).hexdigest()
        download = {"session_id": two_legs.id, "recording_id": "1", "sha256": digest}
        args: dict[str, dict[str, Any]] = {
            "list_sessions_two_pages": {"page_size": 10},
            "list_sessions_three_pages": {"page_size": 4, "query": {"search": "agent_id=42"}},
            "list_sessions_each_filter": {
                "page_size": 25,
                "baseline_limit": 25,
                "queries": {"search": {"search": f"agent_name={first.wire['agent_name']}"}},
            },
            "get_session_completed": call,
            "get_session_not_found": {"session_id": "999999"},
            "get_transcript": call,
            "get_summary": {"session_id": summarized.id},
            "list_participants": call,
            "list_recordings": {"session_id": two_legs.id},
            "download_recording": download,
            "rate_limited_then_ok": call,
            "server_error_then_ok": call,
            "auth_failure": call,
            # Syllable's own scenarios
            "search_phone_number": {
                "page_size": 25,
                "query": {
                    "search": f"agent_id={phone_session.wire['agent_id']}"
                    f"&source={phone_session.wire['source']}"
                },
                "expect_ids": [phone_session.id],
            },
            "list_test_sessions": {"page_size": 25, "query": {"search": "is_test=true"}},
            "legacy_session_link": {
                "page_size": 25,
                "query": {"search": f"session_id={LEGACY_IDS[0]}"},
            },
            "recording_token_expired": download,
            "recording_token_expired_mid_download": download,
            "unknown_enum_values": call,
        }
        if settling is not None:
            args["transcript_incomplete_then_complete"] = {"session_id": settling.id}
        missing = next(
            (s for s in self.listed() if s.voice and s.ended and not s.has_transcript), None
        )
        if missing is not None:
            args["transcript_missing"] = {"session_id": missing.id}
        return args.get(scenario)

    # -- the harness hooks ----------------------------------------------------------------------

    def error_body(self, status: int, message: str, *, path: str = "", **extra: Any) -> Any:
        """FastAPI's error body: ``{"detail": <message>}`` (a string, or ``extra["detail"]``:
        a list of validation errors or a legacy-link object)."""
        return {"detail": extra.get("detail", message)}

    def auth_failure_message(self, presented: str | None) -> str:
        return "Not authenticated" if presented is None else "Invalid API key"

    def not_found(self, request: Request) -> Response:
        return self.error_response(404, "Not Found")

    def method_not_allowed(self, request: Request) -> Response:
        return self.error_response(405, "Method Not Allowed")

    def fault_message(self, status: int) -> str:
        return "Rate limit exceeded" if status == 429 else "Internal Server Error"

    def routes(self) -> Sequence[BaseRoute]:
        api = self._api
        return [
            Route(wire.SESSIONS_PATH, api(self._list), methods=["GET"]),
            Route(wire.RECORDING_STREAM_PATH, api(self._stream), methods=["GET"]),
            Route(
                "/api/v1/sessions/recording/{session_id}", api(self._recording), methods=["POST"]
            ),
            Route(
                "/api/v1/sessions/transcript/{session_id}", api(self._transcript), methods=["GET"]
            ),
            Route(
                "/api/v1/sessions/full-summary/{session_id}", api(self._summary), methods=["GET"]
            ),
            Route("/api/v1/sessions/latency/{session_id}", api(self._latency), methods=["GET"]),
            Route("/api/v1/sessions/timeline/{session_id}", api(self._timeline), methods=["GET"]),
            Route("/api/v1/sessions/{session_id}", api(self._get), methods=["GET"]),
            Route(wire.SESSION_LABELS_PATH, api(self._labels), methods=["GET"]),
            Route("/api/v1/session_labels/{label_id}", api(self._label), methods=["GET"]),
        ]

    def _api(self, handler: Endpoint) -> Endpoint:
        """A route: the auth check, then the handler; ``_Invalid`` becomes its 400/422."""

        async def endpoint(request: Request) -> Response:
            if (denied := self.check_auth(request)) is not None:
                return denied
            try:
                return await handler(request)
            except _Invalid as exc:
                return JSONResponse({"detail": exc.detail}, status_code=exc.status)

        return endpoint

    def _seeded(self, request: Request) -> Seeded | Response:
        raw = request.path_params["session_id"]
        if not re.fullmatch(r"[0-9]+", raw):
            raise _Invalid(400, f"Invalid session id {raw!r}: session ids are integers")
        seeded = self.sessions.get(str(int(raw)))
        if seeded is None:
            return self.error_response(404, f"Session {raw} not found")
        return seeded

    # -- sessions -------------------------------------------------------------------------------

    async def _get(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        return JSONResponse(seeded.wire)

    async def _list(self, request: Request) -> Response:
        listing = _ListQuery.read(request, PRODUCTION_PROPERTIES, wire.SESSION_PROPERTIES)
        page, limit, start, end = listing.page, listing.limit, listing.start, listing.end
        order_by, direction, projection = listing.order_by, listing.direction, listing.fields
        fields, values = listing.search_fields, listing.search_values
        include_test = False
        wanted: list[tuple[str, str]] = []
        for field, value in zip(fields, values, strict=True):
            if field == "session_id" and value in LEGACY_IDS:
                raise _Invalid(
                    400,
                    {
                        "code": wire.LEGACY_SESSION_LINK,
                        "session_id": value,
                        "redirect_to": f"/transcripts/legacy/{value}",
                        "message": "This transcript link belongs to the legacy system.",
                    },
                )
            if field == "is_test":
                include_test = include_test or value.lower() == "true"
            elif field in wire.BOOLEAN_PROPERTIES:
                continue  # is_legacy: accepted, filters nothing (as observed in production)
            else:
                wanted.append((field, value))
        chosen = [
            s
            for s in self.sessions.values()
            if (include_test or not s.test)
            and all(str(s.wire.get(f)) == v for f, v in wanted if s.wire.get(f) is not None)
            and all(s.wire.get(f) is not None for f, _ in wanted)
            and (start is None or s.timestamp >= start)
            and (end is None or s.timestamp <= end)
        ]
        key = order_by or "timestamp"
        reverse = (direction or ("desc" if order_by is None else "asc")) == "desc"
        present = [s for s in chosen if s.wire.get(key) is not None]
        absent = [s for s in chosen if s.wire.get(key) is None]
        present.sort(key=lambda s: (_sort_key(s.wire[key]), s.index), reverse=reverse)
        ordered = present + absent
        if limit == 0:
            body: dict[str, Any] = {"items": [], "page": page, "page_size": 0}
            return JSONResponse(body)
        numbered = self.page_number_page(ordered, page=page, limit=limit, totals=self.totals)
        items = []
        for seeded in numbered.items:
            item = dict(seeded.wire)
            if projection:
                keep = {"timestamp", *projection}
                item = {k: v for k, v in item.items() if k in keep}
            items.append(item)
        return JSONResponse(numbered.body(items))

    # -- artifacts ------------------------------------------------------------------------------

    async def _recording(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        urls = []
        base = f"{request.url.scheme}://{request.url.netloc}{wire.RECORDING_STREAM_PATH}"
        for index in range(seeded.recordings):
            self._serial += 1
            token = hashlib.sha256(f"{seeded.id}:{index}:{self._serial}".encode()).hexdigest()[:32]
            self._tokens[token] = (seeded.id, index, self.now() + timedelta(seconds=TOKEN_TTL))
            urls.append(f"{base}?token={token}")
        return JSONResponse({"session_id": seeded.id, "recordings": urls})

    async def _stream(self, request: Request) -> Response:
        token = request.query_params.get("token")
        if token is None:
            raise _Invalid(
                422,
                [
                    {
                        "type": "missing",
                        "loc": ["query", "token"],
                        "msg": "Field required",
                        "input": None,
                    }
                ],
            )
        known = self._tokens.get(token)
        if self.expire_next_token > 0 and known is not None and token not in self._expired:
            self.expire_next_token -= 1
            self._expired.add(token)
        if known is None or token in self._expired or self.now() >= known[2]:
            return self.error_response(403, "Invalid or expired recording token")
        session_id, index, _ = known
        data = self.audio_for(self.sessions[session_id], index)
        headers = {"accept-ranges": "bytes"}
        ranged = request.headers.get("range", "")
        match = re.fullmatch(r"bytes=(\d+)-", ranged.strip())
        if match is not None and int(match.group(1)) < len(data):
            begin = int(match.group(1))
            headers["content-range"] = f"bytes {begin}-{len(data) - 1}/{len(data)}"
            return Response(
                data[begin:],
                status_code=206,
                media_type="application/octet-stream",
                headers=headers,
            )
        if self.expire_tokens_mid_download > 0:
            self.expire_tokens_mid_download -= 1
            self._expired.add(token)
            headers["content-length"] = str(len(data))  # the whole file; half of it is sent
            return Response(
                data[: len(data) // 2], media_type="application/octet-stream", headers=headers
            )
        return Response(data, media_type="application/octet-stream", headers=headers)

    async def _transcript(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        if not seeded.has_transcript:
            return self.error_response(404, f"No transcript found for session {seeded.id}")
        seeded.reads += 1
        complete_view = not seeded.settling or seeded.reads >= 3
        return JSONResponse(self.transcript_for(seeded, complete_view=complete_view))

    async def _summary(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        return JSONResponse(self.summary_for(seeded))

    async def _latency(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        if not seeded.voice:
            return JSONResponse({"session_id": seeded.id, "timeline": []})
        return JSONResponse(self.latency_for(seeded))

    async def _timeline(self, request: Request) -> Response:
        seeded = self._seeded(request)
        if isinstance(seeded, Response):
            return seeded
        if not seeded.ended or not seeded.has_transcript:
            return self.error_response(404, f"No timeline found for session {seeded.id}")
        return JSONResponse(self.timeline_for(seeded))

    # -- labels ---------------------------------------------------------------------------------

    async def _labels(self, request: Request) -> Response:
        listing = _ListQuery.read(
            request, wire.SESSION_LABEL_PROPERTIES, wire.SESSION_LABEL_PROPERTIES
        )
        page, limit = listing.page, listing.limit
        fields, values = listing.search_fields, listing.search_values
        chosen = [
            label
            for label in sorted(self.labels.values(), key=lambda x: x["id"])
            if all(str(label.get(f)) == v for f, v in zip(fields, values, strict=True))
        ]
        if limit == 0:
            return JSONResponse({"items": [], "page": page, "page_size": 0})
        numbered = self.page_number_page(chosen, page=page, limit=limit, totals=self.totals)
        return JSONResponse(numbered.body(list(numbered.items)))

    async def _label(self, request: Request) -> Response:
        raw = request.path_params["label_id"]
        if not re.fullmatch(r"[0-9]+", raw):
            raise _Invalid(422, [_int_error(["path", "session_label_id"], raw)])
        label = self.labels.get(int(raw))
        if label is None:
            return self.error_response(404, f"Session label {raw} not found")
        return JSONResponse(label)


@attrs.frozen(kw_only=True)
class _ListQuery:
    """The nine list parameters both list endpoints take (§3.1, §9), read as FastAPI does:
    the 422 with every invalid one, then the 400s (unpaired search keys, a malformed
    datetime)."""

    page: int
    limit: int
    search_fields: list[str]
    search_values: list[str]
    order_by: str | None
    direction: str | None
    fields: list[str]
    start: datetime | None
    end: datetime | None

    @classmethod
    def read(
        cls, request: Request, searchable: Sequence[str], properties: Sequence[str]
    ) -> _ListQuery:
        query = request.query_params
        errors: list[dict[str, Any]] = []
        page = _int_query(query.get("page"), "page", 0, errors)
        limit = _int_query(query.get("limit"), "limit", wire.DEFAULT_LIMIT, errors)
        fields = query.getlist("search_fields")
        values = query.getlist("search_field_values")
        for i, field in enumerate(fields):
            if field not in searchable:
                errors.append(_enum_error(["query", "search_fields", i], field, searchable))
        order_by = query.get("order_by")
        if order_by is not None and order_by not in properties:
            errors.append(_enum_error(["query", "order_by"], order_by, properties))
        direction = query.get("order_by_direction")
        if direction is not None and direction not in wire.ORDER_BY_DIRECTIONS:
            errors.append(
                _enum_error(["query", "order_by_direction"], direction, wire.ORDER_BY_DIRECTIONS)
            )
        projection = query.getlist("fields")
        for i, field in enumerate(projection):
            if field not in properties:
                errors.append(_enum_error(["query", "fields", i], field, properties))
        if errors:
            raise _Invalid(422, errors)
        if len(fields) != len(values):
            raise _Invalid(400, "search_fields and search_field_values must have the same length")
        return cls(
            page=page,
            limit=limit,
            search_fields=fields,
            search_values=values,
            order_by=order_by,
            direction=direction,
            fields=projection,
            start=_datetime_query(query.get("start_datetime"), "start_datetime"),
            end=_datetime_query(query.get("end_datetime"), "end_datetime"),
        )


def _sort_key(value: Any) -> Any:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    text = str(value)
    return (1, int(text)) if text.isdigit() else (2, text)


def _int_query(value: str | None, name: str, default: int, errors: list[dict[str, Any]]) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        errors.append(_int_error(["query", name], value))
        return default
    if number < 0:
        errors.append(_min_error(["query", name], number))
        return default
    return number


def _datetime_query(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(400, f"Invalid {name}: {value!r} is not an ISO 8601 datetime") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


__all__ = [
    "AUDIO_SECONDS",
    "LEGACY_IDS",
    "SANDBOX_KEY",
    "TOKEN_TTL",
    "Seeded",
    "SyllableEmulator",
    "Totals",
    "stamp",
]
