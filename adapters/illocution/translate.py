"""Illocution payloads -> the neutral model. Pure functions, no I/O.

Normalisations applied to everything passed through (``VendorEvent`` data, batch extras):

* ``*_ms`` fields (``start_ms``, ``end_ms``, ``at_ms``) become seconds under the name without
  the suffix (``start``, ``end``, ``at``); a field of that name already present is kept and the
  ``*_ms`` field with it;
* ``speaker_id`` becomes ``speaker`` (the final transcripts and the timeline already say
  ``speaker``);
* an emotion payload in either documented shape (``emotion.emotions.{label}`` or flat
  ``emotion.{label}``) becomes ``emotions: {label: probability}``; other keys of the emotion
  object (a dominant label, for instance) are kept under ``emotion_info``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import httpx
from httpx_sse import ServerSentEvent

from convoport import sse
from convoport.errors import ConfigError
from convoport.http import ErrorInfo, error_message
from convoport.live import (
    DoneEvent,
    ErrorEvent,
    FinalUtterance,
    IngestResult,
    LiveEvent,
    LiveOptions,
    PartialTranscript,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
    merge_provider_options,
)
from convoport.model import Session, SessionStatus, Summary, Transcript, Utterance
from convoport.parsing import Payload, loads_json

from . import wire

PROVIDER = wire.PROVIDER


# -- small normalisers ---------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    """A finite JSON number a float can hold (``10**400`` is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def ms_to_seconds(data: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level ``*_ms`` numbers -> seconds under the name without ``_ms``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_ms") and len(key) > 3 and _is_number(value):
            target = key[:-3]
            if target in data:
                out[key] = value
            else:
                out[target] = value / 1000
        else:
            out[key] = value
    return out


def unify_speaker(data: Mapping[str, Any]) -> dict[str, Any]:
    """``speaker_id`` -> ``speaker`` (kept as is when both are present)."""
    out = dict(data)
    if "speaker_id" in out and "speaker" not in out:
        out["speaker"] = out.pop("speaker_id")
    return out


def emotion_scores(emotion: Any) -> tuple[dict[str, float], dict[str, Any]]:
    """(label -> probability, other keys) from either documented emotion shape."""
    if not isinstance(emotion, Mapping):
        return {}, {}
    nested = emotion.get("emotions")
    if isinstance(nested, Mapping):
        scores = {str(k): float(v) for k, v in nested.items() if _is_number(v)}
        info = {k: v for k, v in emotion.items() if k != "emotions"}
        return scores, info
    scores = {str(k): float(v) for k, v in emotion.items() if _is_number(v)}
    info = {k: v for k, v in emotion.items() if k not in scores}
    return scores, info


def normalise_extra(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The data of a pass-through event (emotion, cognitive, transition, moment, or an
    unknown one) with times in seconds, ``speaker`` unified and emotions flattened."""
    out = unify_speaker(ms_to_seconds(data))
    if "emotion" in out and isinstance(out["emotion"], Mapping):
        scores, info = emotion_scores(out.pop("emotion"))
        out["emotions"] = scores
        if info:
            out["emotion_info"] = info
    return out


def confidence(value: float | None) -> float | None:
    """A 0..1 confidence, or ``None`` for anything else (the raw value stays in
    ``provider_data``)."""
    if value is None or not 0.0 <= value <= 1.0:
        return None
    return value


# -- summaries -----------------------------------------------------------------------------


def summary_markdown(data: Mapping[str, Any]) -> str:
    """A ConversationSummary as markdown: the overview, then one bullet list per section."""
    blocks: list[str] = []
    overview = data.get("overview")
    if isinstance(overview, str) and overview.strip():
        blocks.append(overview.strip())
    for key, heading in wire.SUMMARY_SECTIONS:
        items = data.get(key)
        if not isinstance(items, list):
            continue
        bullets = [f"- {str(item).strip()}" for item in items if str(item).strip()]
        if bullets:
            blocks.append(f"## {heading}\n\n" + "\n".join(bullets))
    return "\n\n".join(blocks)


def summary_from_wire(session_id: str, data: Any, *, provider: str = PROVIDER) -> Summary:
    """A ConversationSummary (also the ``summary_update`` data) as a neutral ``Summary``.
    ``conversation_quality`` becomes the rating."""
    p = Payload(provider, data, "$summary")
    return Summary(
        session_id=session_id,
        text=summary_markdown(p.data),
        format="markdown",
        rating=p.opt_string("conversation_quality"),
        provider_data=dict(p.data),
    )


# -- utterances ----------------------------------------------------------------------------


def utterance_from_wire(data: Any, *, path: str = "$", provider: str = PROVIDER) -> Utterance:
    """A ``final_transcript`` payload or a ``TimelineEntry`` as an ``Utterance`` (seconds)."""
    p = Payload(provider, data, path)
    start = p.opt_number("t_start")
    end = p.opt_number("t_end")
    if start is None and p.has("start_ms"):
        start = p.number("start_ms") / 1000
    if end is None and p.has("end_ms"):
        end = p.number("end_ms") / 1000
    speaker = p.opt_string("speaker") or p.opt_string("speaker_id")
    return Utterance(
        text=p.opt_string("text") or "",
        start=start,
        end=end,
        id=p.opt_string("utterance_id"),
        speaker=speaker,
        confidence=confidence(p.opt_number("asr_confidence")),
        provider_data=dict(p.data),
    )


# -- SSE events ----------------------------------------------------------------------------


def event_from_wire(
    name: str, data: Any, *, session_id: str, provider: str = PROVIDER
) -> LiveEvent:
    """One SSE event (name and parsed ``data``) as a neutral event.

    ``status`` -> StatusEvent, ``partial_transcript`` -> PartialTranscript,
    ``final_transcript`` -> FinalUtterance, ``summary_update`` -> SummaryEvent, ``error`` ->
    fatal ErrorEvent, ``done`` -> DoneEvent (``session_id`` is the live session's id; the
    ``conversation_id`` stays in ``provider_data``); everything else -> VendorEvent with its
    data normalised (:func:`normalise_extra`). Non-object data is wrapped as ``{"value": x}``.
    """
    if not isinstance(data, Mapping):
        data = {} if data is None else {"value": data}
    path = f"$event[{name}]"
    if name == "status":
        p = Payload(provider, data, path)
        phase = p.opt_string("phase") or "unknown"
        progress = p.opt_number("progress")
        return StatusEvent(
            phase=phase,
            status=wire.PHASE_STATUS.get(phase),
            progress=progress,
            provider_data=dict(data),
        )
    if name == "partial_transcript":
        p = Payload(provider, data, path)
        return PartialTranscript(
            utterance=Utterance(
                text=p.opt_string("text") or "",
                id=p.opt_string("partial_id") or p.opt_string("utterance_id"),
                speaker=p.opt_string("speaker") or p.opt_string("speaker_id"),
                start=p.opt_number("t_start"),
                end=p.opt_number("t_end"),
                provider_data=dict(data),
            ),
            provider_data=dict(data),
        )
    if name == "final_transcript":
        return FinalUtterance(
            utterance=utterance_from_wire(data, path=path, provider=provider),
            provider_data=dict(data),
        )
    if name == "summary_update":
        return SummaryEvent(
            summary=summary_from_wire(session_id, data, provider=provider), provider_data=dict(data)
        )
    if name == "error":
        p = Payload(provider, data, path)
        code = p.opt_string("code")
        message = p.opt_string("message") or p.opt_string("detail") or "error reported"
        return ErrorEvent(message=message, code=code, fatal=True, provider_data=dict(data))
    if name == "done":
        return DoneEvent(session_id=session_id, provider_data=dict(data))
    return VendorEvent(name=name, data=normalise_extra(name, data))


def parse_data(text: str) -> Any:
    """An SSE ``data`` field (already joined across lines) as JSON; empty is ``{}``.
    Raises ``ValueError`` when it is not JSON."""
    if not text.strip():
        return {}
    return loads_json(text)


# -- live start / chunk / control answers --------------------------------------------------


@attrs.frozen(kw_only=True)
class LiveStart:
    """What ``POST /analyze/live/start`` answered. Endpoints are as sent (relative paths),
    or the documented fallbacks when missing."""

    session_id: str
    conversation_id: str | None
    chunk_endpoint: str
    events_endpoint: str
    control_endpoint: str
    next_chunk_seq: int
    expires_at: datetime | None
    status: str | None
    raw: dict[str, Any]


def live_start_from_wire(data: Any, *, provider: str = PROVIDER) -> LiveStart:
    p = Payload(provider, data, "$start")
    sid = p.string("session_id")
    return LiveStart(
        session_id=sid,
        conversation_id=p.opt_string("conversation_id"),
        chunk_endpoint=p.opt_string("chunk_endpoint") or wire.live_path(sid, "chunk"),
        events_endpoint=p.opt_string("events_endpoint") or wire.live_path(sid, "events"),
        control_endpoint=p.opt_string("control_endpoint") or wire.live_path(sid, "control"),
        next_chunk_seq=p.opt_integer("next_chunk_seq") or 0,
        expires_at=p.opt_timestamp("expires_at"),
        status=p.opt_string("status"),
        raw=dict(p.data),
    )


@attrs.frozen(kw_only=True)
class ChunkAck:
    """A chunk answer: the server's next expected sequence number, bytes and expiry when
    given."""

    next_chunk_seq: int | None
    received_bytes: int | None
    expires_at: datetime | None


def chunk_ack_from_wire(data: Any, *, provider: str = PROVIDER) -> ChunkAck:
    if data is None:
        return ChunkAck(next_chunk_seq=None, received_bytes=None, expires_at=None)
    p = Payload(provider, data, "$chunk")
    return ChunkAck(
        next_chunk_seq=p.opt_integer("next_chunk_seq"),
        received_bytes=p.opt_integer("received_bytes"),
        expires_at=p.opt_timestamp("expires_at"),
    )


def expiry_from_wire(data: Any, *, provider: str = PROVIDER) -> datetime | None:
    """The new ``expires_at`` a control answer echoes, if any."""
    if not isinstance(data, Mapping):
        return None
    return Payload(provider, data, "$control").opt_timestamp("expires_at")


# -- errors --------------------------------------------------------------------------------

_EXPECTED = re.compile(r"expect\w*\D{0,40}?(\d+)", re.IGNORECASE)
_SENT = re.compile(r"(?:got|received|sent|provided)\D{0,20}?(\d+)", re.IGNORECASE)


def error_detail(body: bytes) -> tuple[str | None, dict[str, Any]]:
    """Reads a FastAPI error body: ``detail`` as a string, a list of ``{loc, msg}`` or an
    object (its ``message``/``msg``/``detail``). Returns (message, details) where details
    holds ``expected_chunk_seq``/``received_chunk_seq`` when the body names them, and
    ``detail`` (the raw value). A body that is not JSON gives its text as the message."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = loads_json(text) if text else None
    except ValueError:
        return (text[:300] or None), {}
    if not isinstance(data, Mapping):
        return (text[:300] or None), {}
    detail = data.get("detail", data.get("message", data.get("error")))
    details: dict[str, Any] = {"detail": detail} if detail is not None else {}
    message = error_message({"detail": detail}) if detail is not None else None
    if isinstance(detail, Mapping):
        if message is None:
            message = json.dumps(detail, sort_keys=True)
        for key in ("expected_chunk_seq", "next_chunk_seq", "expected_seq", "expected"):
            if _is_int(detail.get(key)):
                details["expected_chunk_seq"] = int(detail[key])
                break
        for key in ("received_chunk_seq", "chunk_seq", "received_seq", "got"):
            if _is_int(detail.get(key)):
                details["received_chunk_seq"] = int(detail[key])
                break
    for key in ("expected_chunk_seq", "next_chunk_seq"):
        if "expected_chunk_seq" not in details and _is_int(data.get(key)):
            details["expected_chunk_seq"] = int(data[key])
    if message and "expected_chunk_seq" not in details:
        match = _EXPECTED.search(message)
        if match:
            details["expected_chunk_seq"] = int(match.group(1))
    if message and "received_chunk_seq" not in details:
        match = _SENT.search(message)
        if match:
            details["received_chunk_seq"] = int(match.group(1))
    return message, details


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- batch analysis ------------------------------------------------------------------------


def _normalise_items(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    return [unify_speaker(ms_to_seconds(i)) if isinstance(i, Mapping) else i for i in items]


def analysis_extras(data: Mapping[str, Any]) -> dict[str, Any]:
    """Everything in an AnalysisResponse except ``timeline`` and ``summary`` (which become
    the transcript and the summary), with moments/transitions in seconds."""
    out = {k: v for k, v in data.items() if k not in ("timeline", "summary")}
    for key in ("moments", "transitions"):
        if key in out:
            out[key] = _normalise_items(out[key])
    insights = out.get("insights")
    if isinstance(insights, Mapping) and "key_moments" in insights:
        out["insights"] = {**insights, "key_moments": _normalise_items(insights["key_moments"])}
    return out


def analysis_from_wire(data: Any, *, bytes_sent: int, provider: str = PROVIDER) -> IngestResult:
    """``POST /analyze``'s AnalysisResponse as an ``IngestResult``: a COMPLETED session whose
    id is the ``conversation_id``, the timeline as the transcript, the summary, and the
    extras (insights, moments, transitions, segmentation, ...) in the session's
    ``provider_data``."""
    p = Payload(provider, data, "$")
    cid = p.string("conversation_id")
    utterances = [
        utterance_from_wire(entry.data, path=entry.path, provider=provider)
        for entry in p.objects("timeline")
    ]
    ends = [u.end for u in utterances if u.end is not None]
    session = Session(
        provider=provider,
        id=cid,
        status=SessionStatus.COMPLETED,
        provider_status="completed",
        duration=max(ends) if ends else None,
        provider_data=analysis_extras(p.data),
    )
    transcript = Transcript(session_id=cid, utterances=tuple(utterances), engine=provider)
    summary_obj = (
        summary_from_wire(cid, p.raw("summary"), provider=provider) if p.has("summary") else None
    )
    return IngestResult(
        session=session, transcript=transcript, summary=summary_obj, bytes_sent=bytes_sent
    )


def error_info_from_wire(response: httpx.Response, body: bytes) -> ErrorInfo:
    """Illocution's (FastAPI) error bodies, with the route-specific meanings."""
    message, details = error_detail(body)
    path = response.request.url.path
    status = response.status_code
    hint: str | None = None
    if status == 404 and path.endswith(wire.START_PATH):
        message = "live capture is not enabled on this deployment (ENABLE_LIVE_STREAMING)"
        hint = (
            "the server must run with ENABLE_LIVE_STREAMING=true; recordings can still be sent "
            "with analyze()"
        )
    elif status == 409 and path.endswith("/events"):
        message = "another consumer is attached to the event stream" + (
            f" ({message})" if message else ""
        )
    elif status == 409 and path.endswith("/chunk"):
        message = "chunk sequence conflict" + (f": {message}" if message else "")
    elif status in (401, 403):
        hint = f"check ILLOCUTION_API_KEY (sent as the {wire.KEY_HEADER} header)"
    return ErrorInfo(message=message, details=details, hint=hint)


# -- requests ------------------------------------------------------------------------------


def ttl_to_wire(options: LiveOptions) -> int:
    """The TTL to request (``ConfigError`` outside 60..3600 s; default 900)."""
    if options.ttl is None:
        return wire.TTL_DEFAULT
    ttl = options.ttl
    if not (isinstance(ttl, (int, float)) and math.isfinite(ttl)) or not (
        wire.TTL_MIN <= ttl <= wire.TTL_MAX
    ):
        raise ConfigError(
            f"illocution live sessions need a ttl within {wire.TTL_MIN}..{wire.TTL_MAX} "
            f"seconds, got {ttl!r}",
            hint="LiveOptions(ttl=...) in seconds; the default is 900",
        )
    return round(ttl)


def live_start_to_wire(options: LiveOptions, ttl: int) -> dict[str, Any]:
    """The JSON body of ``POST /analyze/live/start``."""
    body: dict[str, Any] = {"ttl_seconds": ttl}
    if options.filename:
        body["filename"] = options.filename
    elif "suffix" not in options.provider_options:
        body["filename"] = wire.FILENAMES.get(options.encoding.lower(), "live.mp4")
    return merge_provider_options(body, options.provider_options)


def sse_translator(session_id: str) -> sse.Translate:
    """How :mod:`convoport.sse` turns each event of a live session's stream into a neutral
    event (framing, JSON limits and the non-fatal ``malformed_event`` are core's)."""

    def translate_one(name: str, data: object) -> LiveEvent:
        return event_from_wire(name, data, session_id=session_id)

    return translate_one


def sse_event_from_wire(event: ServerSentEvent, *, session_id: str) -> LiveEvent:
    """One dispatched SSE event as a neutral event (never raises for vendor data)."""
    return sse.to_event(event, sse_translator(session_id), provider=PROVIDER)


__all__ = [
    "ChunkAck",
    "LiveStart",
    "analysis_extras",
    "analysis_from_wire",
    "chunk_ack_from_wire",
    "confidence",
    "emotion_scores",
    "error_detail",
    "error_info_from_wire",
    "event_from_wire",
    "expiry_from_wire",
    "live_start_from_wire",
    "live_start_to_wire",
    "ms_to_seconds",
    "normalise_extra",
    "parse_data",
    "sse_event_from_wire",
    "sse_translator",
    "summary_from_wire",
    "summary_markdown",
    "ttl_to_wire",
    "unify_speaker",
    "utterance_from_wire",
]
