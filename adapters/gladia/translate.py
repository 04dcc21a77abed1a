"""Gladia payloads <-> the neutral model. Pure functions: no I/O, no state.

Every reader goes through :class:`convoport.Payload`, so a surprise in a payload (a missing
required field, a wrong type, a timestamp without a timezone, a confidence outside 0..1) is a
``MalformedResponse`` naming the JSON path, never a ``KeyError``. Choices made here:

* **status**: :data:`~convoport.adapters.gladia.wire.STATUS_TABLE` (``queued`` -> PENDING,
  ``processing`` -> PROCESSING, ``done`` -> COMPLETED, ``error`` -> FAILED); any other word maps
  to PROCESSING (the job exists, in a state we do not know) and ``provider_status`` keeps it.
* **times**: Gladia always sends ISO 8601 with ``Z``; a timestamp without a timezone is
  refused (``MalformedResponse``) rather than guessed. ``created_at`` is the job's creation,
  ``ended_at`` its ``completed_at``; Gladia has no separate start time (``started_at`` is None).
* **session**: ``custom_metadata`` -> ``metadata``; the whole job payload -> ``provider_data``;
  ``duration`` from ``file.audio_duration``, else ``result.metadata.audio_duration``;
  ``language`` is ``result.transcription.languages[0]``; Gladia jobs have no title.
* **speakers**: live jobs have no diarization; audio is separated by channel. ``speaker`` is
  ``str(utterance.speaker)`` when Gladia sends one, else ``"channel <n>"`` (0-based channel).
* **utterance ids**: REST utterances have none (``None``); live ``transcript`` messages carry
  ``data.id``, shared by the partials and the final of one utterance.
* **utterance text**: as sent (words may carry a leading space; they are kept as sent). When
  ``text`` is absent it is rebuilt from the stripped words joined by spaces.
* **provider_data** of an utterance holds only the keys the neutral utterance has no field for
  (nothing is lost, nothing is duplicated); of a transcript, the ``transcription`` object
  without its utterances plus ``result.metadata``; of a summary, the summarization block.
* a **live transcript message without ``is_final``** is treated as final (nothing is lost).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from convoport.errors import ConfigError, Conflict, MalformedResponse
from convoport.http import ErrorInfo
from convoport.live import (
    AudioAcknowledged,
    ErrorEvent,
    FinalUtterance,
    LiveEvent,
    LiveOptions,
    PartialTranscript,
    SpeechEvent,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
    merge_provider_options,
)
from convoport.model import (
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    Word,
)
from convoport.parsing import Payload, loads_json, malformed

from . import wire

P = wire.PROVIDER

#: The keys of an ``UtteranceDTO`` that the neutral ``Utterance`` carries.
_UTTERANCE_KEYS = frozenset(
    {"start", "end", "confidence", "channel", "speaker", "words", "text", "language"}
)
DELETE_CONFLICT_HINT = "the job must be done or errored before it can be deleted"
PATCH_TOO_LARGE_HINT = "post-session metadata must be a JSON object smaller than 100 kB"


# -- small readers ------------------------------------------------------------------------


def status_from_wire(value: str | None) -> SessionStatus:
    """Gladia job status -> neutral status (unknown or missing -> PROCESSING)."""
    if value is None:
        return wire.STATUS_FALLBACK
    return wire.STATUS_TABLE.get(value, wire.STATUS_FALLBACK)


def _confidence(p: Payload, key: str) -> float | None:
    value = p.opt_number(key)
    if value is not None and not 0.0 <= value <= 1.0:
        raise malformed(P, f"{p.path}.{key}", f"is outside 0..1: {value!r}")
    return value


def _non_negative(p: Payload, key: str) -> float | None:
    value = p.opt_number(key)
    if value is not None and value < 0:
        raise malformed(P, f"{p.path}.{key}", f"is negative: {value!r}")
    return value


def _channel(p: Payload, key: str = "channel") -> int | None:
    value = p.opt_integer(key)
    if value is not None and value < 0:
        raise malformed(P, f"{p.path}.{key}", f"is negative: {value!r}")
    return value


def _payload(data: Any, path: str) -> Payload:
    return Payload(P, data, path)


# -- sessions -----------------------------------------------------------------------------


def session_from_wire(data: Any, *, path: str = "$") -> Session:
    """A ``StreamingResponse`` (GET or a list item) -> ``Session``."""
    p = _payload(data, path)
    word = p.string("status")
    file = p.opt_obj("file")
    result = p.opt_obj("result")
    duration = _non_negative(file, "audio_duration") if file is not None else None
    language = None
    if result is not None:
        metadata = result.opt_obj("metadata")
        if duration is None and metadata is not None:
            duration = _non_negative(metadata, "audio_duration")
        language = _first_language(result)
    return Session(
        provider=P,
        id=p.ident("id"),
        status=status_from_wire(word),
        provider_status=word,
        created_at=p.opt_timestamp("created_at"),
        started_at=None,
        ended_at=p.opt_timestamp("completed_at"),
        duration=duration,
        title=None,
        language=language,
        metadata=p.mapping("custom_metadata"),
        provider_data=dict(p.data),
    )


def _first_language(result: Payload) -> str | None:
    transcription = result.opt_obj("transcription")
    if transcription is None:
        return None
    languages = transcription.opt_array("languages")
    if not languages:
        return None
    first = languages[0]
    if not isinstance(first, str):
        raise malformed(P, f"{transcription.path}.languages[0]", "expected a string")
    return first


def list_page_from_wire(data: Any) -> tuple[list[Session], Any]:
    """A ``ListStreamingResponse`` -> (sessions, the raw ``next`` value)."""
    p = _payload(data, "$")
    items = [session_from_wire(item.data, path=item.path) for item in p.objects("items")]
    return items, p.raw("next")


# -- transcripts, summaries, recordings ---------------------------------------------------


def word_from_wire(p: Payload) -> Word:
    return Word(
        text=p.string("word"),
        start=p.opt_number("start"),
        end=p.opt_number("end"),
        confidence=_confidence(p, "confidence"),
    )


def speaker_label(speaker: int | None, channel: int | None) -> str | None:
    """``"<speaker>"`` when Gladia names one, else ``"channel <n>"`` (live audio is split by
    channel, not diarized); ``None`` when neither is known."""
    if speaker is not None:
        return str(speaker)
    if channel is not None:
        return f"channel {channel}"
    return None


def utterance_from_wire(p: Payload, *, utterance_id: str | None = None) -> Utterance:
    """An ``UtteranceDTO`` -> ``Utterance`` (``utterance_id`` from a live message)."""
    words = [word_from_wire(w) for w in p.objects("words")]
    text = p.opt_string("text")
    if text is None:
        text = " ".join(w.text.strip() for w in words if w.text.strip())
    channel = _channel(p)
    speaker = p.opt_integer("speaker")
    extra = {k: v for k, v in p.data.items() if k not in _UTTERANCE_KEYS}
    return Utterance(
        text=text,
        start=p.opt_number("start"),
        end=p.opt_number("end"),
        id=utterance_id,
        speaker=speaker_label(speaker, channel),
        channel=channel,
        confidence=_confidence(p, "confidence"),
        language=p.opt_string("language"),
        words=words,
        provider_data=extra,
    )


def result_transcript_from_wire(
    session_id: str, result: Payload, *, created_at: datetime | None = None
) -> Transcript | None:
    """A job ``result`` (or a ``post_final_transcript`` message's ``data``) -> ``Transcript``,
    or ``None`` when it has no ``transcription``."""
    transcription = result.opt_obj("transcription")
    if transcription is None:
        return None
    utterances = [utterance_from_wire(u) for u in transcription.objects("utterances")]
    extra: dict[str, Any] = {k: v for k, v in transcription.data.items() if k != "utterances"}
    metadata = result.raw("metadata")
    if metadata is not None:
        extra["metadata"] = metadata
    return Transcript(
        session_id=session_id,
        utterances=utterances,
        language=_first_language(result),
        engine=P,
        created_at=created_at,
        provider_data=extra,
    )


def transcript_from_wire(data: Any) -> Transcript | None:
    """A job -> its ``Transcript`` (``None`` while the job has no result)."""
    p = _payload(data, "$")
    session_id = p.ident("id")
    result = p.opt_obj("result")
    if result is None:
        return None
    return result_transcript_from_wire(
        session_id, result, created_at=p.opt_timestamp("completed_at")
    )


def summary_from_wire(data: Any) -> Summary | None:
    """A job -> its ``Summary`` when summarization succeeded with a non-empty text."""
    p = _payload(data, "$")
    session_id = p.ident("id")
    result = p.opt_obj("result")
    if result is None:
        return None
    block = result.opt_obj("summarization")
    if block is None:
        return None
    text = block.opt_string("results")
    if block.opt_boolean("success") is False or block.opt_boolean("is_empty") or not text:
        return None
    return Summary(
        session_id=session_id,
        text=text,
        format="text",
        language=_first_language(result),
        created_at=p.opt_timestamp("completed_at"),
        provider_data=dict(block.data),
    )


def recordings_from_wire(data: Any) -> list[Recording]:
    """A job -> its one recording (``file``), or ``[]`` when the job has none.

    ``id`` is ``file.id`` (else the job id); the media type is ``audio/wav`` (Gladia stores
    the live audio as WAV); the filename is ``file.filename``, else ``<id>.wav``.
    """
    p = _payload(data, "$")
    session_id = p.ident("id")
    file = p.opt_obj("file")
    if file is None:
        return []
    rec_id = file.opt_string("id") or session_id
    channels = file.opt_integer("number_of_channels")
    if channels is not None and channels < 0:
        raise malformed(P, f"{file.path}.number_of_channels", "is negative")
    return [
        Recording(
            id=rec_id,
            session_id=session_id,
            media_type="audio/wav",
            filename=file.opt_string("filename") or f"{rec_id}.wav",
            duration=_non_negative(file, "audio_duration"),
            size=None,
            channels=channels,
            created_at=p.opt_timestamp("created_at"),
            provider_data=dict(file.data),
        )
    ]


# -- init ---------------------------------------------------------------------------------


def init_from_wire(data: Any) -> tuple[str, str, datetime | None]:
    """``InitStreamingResponse`` -> (job id, WebSocket URL, created_at when sent)."""
    p = _payload(data, "$")
    url = p.string("url")
    if not url.startswith(("wss://", "ws://", "https://", "http://")):
        raise malformed(P, "$.url", "is not a WebSocket URL")
    return p.ident("id"), url, p.opt_timestamp("created_at")


# -- errors -------------------------------------------------------------------------------


def error_info_from_wire(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """The error hook: reads Gladia's error envelope (``message``, ``request_id``,
    ``statusCode``, ``validation_errors``). A 403 on DELETE is a ``Conflict``: the job is not
    deletable yet."""
    status = response.status_code
    method = response.request.method
    try:
        data = loads_json(body)
    except ValueError:
        return None
    if not isinstance(data, Mapping):
        return None
    message = data.get("message")
    text = message if isinstance(message, str) else None
    errors = data.get("validation_errors")
    if 400 <= status < 500 and isinstance(errors, list):
        reasons = [str(e) for e in errors if isinstance(e, (str, int, float))]
        if reasons:
            text = f"{text or 'invalid request'}: {'; '.join(reasons)}"
    request_id = data.get("request_id")
    error_class = None
    hint = None
    if status == 403 and method.upper() == "DELETE":
        error_class, hint = Conflict, DELETE_CONFLICT_HINT
    elif status == 413:
        hint = PATCH_TOO_LARGE_HINT
    elif status == 401:
        hint = "check the Gladia API key (GLADIA_API_KEY)"
    body_status = data.get("statusCode")
    details = (
        {"status_code": int(body_status)}
        if isinstance(body_status, (int, float)) and not isinstance(body_status, bool)
        else {}
    )
    return ErrorInfo(
        message=text,
        request_id=str(request_id) if isinstance(request_id, (str, int)) else None,
        error_class=error_class,
        hint=hint,
        details=details,
    )


# -- list query ---------------------------------------------------------------------------


def format_timestamp(value: datetime) -> str:
    """Gladia's date-time form: UTC, milliseconds (microseconds when needed), ``Z``."""
    utc = value.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def list_params(query: SessionQuery, *, offset: int, limit: int) -> list[tuple[str, str]] | None:
    """The ``GET /v2/live`` query for a neutral query, or ``None`` when nothing can match
    (only statuses Gladia has no word for: ACTIVE, CANCELLED)."""
    params: list[tuple[str, str]] = [("offset", str(offset)), ("limit", str(limit))]
    if query.created_on is not None:
        params.append(("date", query.created_on))
    if query.created_before is not None:
        params.append(("before_date", format_timestamp(query.created_before)))
    if query.created_after is not None:
        params.append(("after_date", format_timestamp(query.created_after)))
    if query.statuses is not None:
        words = [w for s, w in wire.STATUS_FILTER.items() if s in query.statuses]
        if not words:
            return None
        params.extend(("status", w) for w in words)
    for key, value in sorted((query.metadata or {}).items()):
        params.append((f"custom_metadata[{key}]", str(value)))
    return params


# -- live init body -----------------------------------------------------------------------


def _bad_option(field: str, value: Any, allowed: Any) -> ConfigError:
    return ConfigError(
        f"gladia does not accept {field}={value!r}",
        hint=f"allowed values for {field}: {allowed}",
    )


def live_init_body(options: LiveOptions) -> dict[str, Any]:
    """``LiveOptions`` -> the ``POST /v2/live`` body, validated against Gladia's enums.

    ``provider_options`` is deep-merged last; ``messages_config.receive_acknowledgments`` must
    stay true (acknowledgements are how a dropped socket resumes without losing audio).
    ``filename`` and ``ttl`` have no Gladia equivalent and are ignored; ``region`` goes to the
    query string (see the adapter).
    """
    encoding = wire.ENCODINGS.get(options.encoding)
    if encoding is None:
        raise _bad_option("encoding", options.encoding, ", ".join(wire.ENCODINGS))
    body: dict[str, Any] = {
        "encoding": encoding,
        "bit_depth": options.bit_depth,
        "sample_rate": options.sample_rate,
        "channels": options.channels,
    }
    if options.languages:
        body["language_config"] = {"languages": list(options.languages)}
    if options.metadata:
        body["custom_metadata"] = dict(options.metadata)
    body["messages_config"] = {
        "receive_partial_transcripts": bool(options.partial_transcripts),
        "receive_final_transcripts": True,
        "receive_acknowledgments": True,
        "receive_lifecycle_events": True,
        "receive_post_processing_events": True,
    }
    body = merge_provider_options(body, options.provider_options)
    validate_init_body(body)
    return body


def validate_init_body(body: Mapping[str, Any]) -> None:
    """Checks the init body against the documented enums (``ConfigError`` naming the field)."""
    encoding = body.get("encoding")
    if encoding not in wire.ENCODINGS.values():
        raise _bad_option("encoding", encoding, ", ".join(wire.ENCODINGS.values()))
    bit_depth = body.get("bit_depth")
    if isinstance(bit_depth, bool) or bit_depth not in wire.BIT_DEPTHS:
        raise _bad_option("bit_depth", bit_depth, wire.BIT_DEPTHS)
    if encoding in ("wav/alaw", "wav/ulaw") and bit_depth != 8:
        raise _bad_option("bit_depth", bit_depth, f"8 (with encoding {encoding})")
    sample_rate = body.get("sample_rate")
    if isinstance(sample_rate, bool) or sample_rate not in wire.SAMPLE_RATES:
        raise _bad_option("sample_rate", sample_rate, wire.SAMPLE_RATES)
    channels = body.get("channels")
    if (
        isinstance(channels, bool)
        or not isinstance(channels, int)
        or not 1 <= channels <= wire.MAX_CHANNELS
    ):
        raise _bad_option("channels", channels, f"1..{wire.MAX_CHANNELS}")
    language_config = body.get("language_config") or {}
    if not isinstance(language_config, Mapping):
        raise _bad_option("language_config", language_config, "an object")
    languages = language_config.get("languages") or []
    if not isinstance(languages, list):
        raise _bad_option("languages", languages, "a list of language codes")
    for language in languages:
        if language not in wire.LANGUAGES:
            raise _bad_option("languages", language, "Gladia's language codes (en, fr, de, ...)")
    metadata = body.get("custom_metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise _bad_option("custom_metadata", metadata, "an object")
    post = body.get("post_processing") or {}
    summary_config = post.get("summarization_config") if isinstance(post, Mapping) else None
    if (
        isinstance(summary_config, Mapping)
        and "type" in summary_config
        and summary_config["type"] not in wire.SUMMARY_TYPES
    ):
        raise _bad_option("summarization_config.type", summary_config["type"], wire.SUMMARY_TYPES)
    messages = body.get("messages_config") or {}
    if isinstance(messages, Mapping) and messages.get("receive_acknowledgments") is False:
        raise ConfigError(
            "gladia live sessions need messages_config.receive_acknowledgments",
            hint="convoport resends unacknowledged audio after a dropped connection; "
            "leave receive_acknowledgments on",
        )


def validate_region(region: str | None) -> str | None:
    if region is not None and region not in wire.REGIONS:
        raise _bad_option("region", region, ", ".join(wire.REGIONS))
    return region


# -- live messages ------------------------------------------------------------------------


def _error_text(error: Any) -> str | None:
    """An ``error`` field (``{message}`` per the spec, ``{status_code, exception, message}``
    per the AsyncAPI, or a bare string) -> its text; ``None`` when there is no error."""
    if error is None:
        return None
    if isinstance(error, str):
        return error or "error"
    if isinstance(error, Mapping):
        message = error.get("message") or error.get("exception")
        return str(message) if message else json.dumps(error, sort_keys=True)[:200]
    return str(error)


def live_events(message: Any, *, session_id: str) -> list[LiveEvent]:
    """One server message -> neutral events. Total: a message that cannot be read becomes a
    non-fatal ``ErrorEvent`` (``code="malformed"``) and never raises."""
    try:
        return _live_events(message, session_id)
    except MalformedResponse as exc:
        data = dict(message) if isinstance(message, Mapping) else {"message": repr(message)[:500]}
        return [ErrorEvent(message=exc.message, code="malformed", provider_data=data)]
    except (ValueError, TypeError, LookupError, ArithmeticError, RecursionError) as exc:
        data = dict(message) if isinstance(message, Mapping) else {"message": repr(message)[:500]}
        return [
            ErrorEvent(
                message=f"unreadable gladia message: {type(exc).__name__}: {str(exc)[:200]}",
                code="malformed",
                provider_data=data,
            )
        ]


def _live_events(message: Any, session_id: str) -> list[LiveEvent]:
    p = _payload(message, "$message")
    kind = p.string("type")
    raw = dict(p.data)
    if kind == wire.MSG_TRANSCRIPT:
        data = p.obj("data")
        utterance = utterance_from_wire(data.obj("utterance"), utterance_id=data.string("id"))
        if data.opt_boolean("is_final") is False:
            return [PartialTranscript(utterance=utterance, provider_data=raw)]
        return [FinalUtterance(utterance=utterance, provider_data=raw)]
    if kind in (wire.MSG_SPEECH_START, wire.MSG_SPEECH_END):
        data = p.obj("data")
        return [
            SpeechEvent(
                started=kind == wire.MSG_SPEECH_START,
                time=data.opt_number("time"),
                channel=_channel(data),
                provider_data=raw,
            )
        ]
    if kind in (wire.MSG_AUDIO_CHUNK, wire.MSG_STOP_RECORDING):
        return _ack_events(p, kind, raw)
    if kind == wire.MSG_POST_SUMMARIZATION:
        error = _error_text(p.raw("error"))
        if error is not None:
            return [
                ErrorEvent(message=f"summarization failed: {error}", code=kind, provider_data=raw)
            ]
        block = p.opt_obj("data")
        text = block.opt_string("results") if block is not None else None
        if block is None or not text:
            return [VendorEvent(name=kind, data=raw)]
        summary = Summary(session_id=session_id, text=text, provider_data=dict(block.data))
        return [SummaryEvent(summary=summary, provider_data=raw)]
    if kind in (wire.MSG_START_SESSION, wire.MSG_START_RECORDING):
        return [StatusEvent(phase=kind, status=SessionStatus.ACTIVE, provider_data=raw)]
    if kind == wire.MSG_END_RECORDING:
        return [StatusEvent(phase=kind, status=SessionStatus.PROCESSING, provider_data=raw)]
    if kind == wire.MSG_END_SESSION:
        return [StatusEvent(phase=kind, status=None, provider_data=raw)]
    if kind == "error":  # not in Gladia's catalogue; checked defensively, as livekit does
        text = _error_text(p.raw("error")) or p.opt_string("message") or "error"
        return [ErrorEvent(message=text, code="error", provider_data=raw)]
    events: list[LiveEvent] = [VendorEvent(name=kind, data=raw)]
    if kind in wire.ADDON_MESSAGES:
        error = _error_text(p.raw("error"))
        if error is not None:
            events.append(
                ErrorEvent(message=f"{kind} failed: {error}", code=kind, provider_data=raw)
            )
    return events


def _ack_events(p: Payload, kind: str, raw: dict[str, Any]) -> list[LiveEvent]:
    error = _error_text(p.raw("error"))
    acknowledged = p.opt_boolean("acknowledged")
    if error is not None or acknowledged is False:
        text = error or "not acknowledged"
        return [ErrorEvent(message=f"{kind} refused: {text}", code=kind, provider_data=raw)]
    data = p.opt_obj("data")
    if kind == wire.MSG_STOP_RECORDING:
        return [StatusEvent(phase=kind, status=SessionStatus.PROCESSING, provider_data=raw)]
    if data is None:
        return [VendorEvent(name=kind, data=raw)]
    byte_range = data.array("byte_range")
    time_range = data.opt_array("time_range")
    if len(byte_range) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in byte_range
    ):
        raise malformed(P, f"{data.path}.byte_range", "expected two non-negative integers")
    return [
        AudioAcknowledged(
            byte_end=int(byte_range[1]),
            time_end=_seconds_or_none(time_range[1] if len(time_range) == 2 else None),
            provider_data=raw,
        )
    ]


def _seconds_or_none(value: Any) -> float | None:
    """An ack's ``time_range`` end as seconds, or None when it is not a finite, non-negative
    number (it is informative only: the byte range is what the resend logic trusts)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond the float range (10**400)
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


__all__ = [
    "DELETE_CONFLICT_HINT",
    "PATCH_TOO_LARGE_HINT",
    "error_info_from_wire",
    "format_timestamp",
    "init_from_wire",
    "list_page_from_wire",
    "list_params",
    "live_events",
    "live_init_body",
    "recordings_from_wire",
    "result_transcript_from_wire",
    "session_from_wire",
    "speaker_label",
    "status_from_wire",
    "summary_from_wire",
    "transcript_from_wire",
    "utterance_from_wire",
    "validate_init_body",
    "validate_region",
    "word_from_wire",
]
