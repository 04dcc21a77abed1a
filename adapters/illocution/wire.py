"""Illocution's payloads, as its documentation names them, plus constants and status tables.

Source: ``shared/vendors/illocution.md`` (stored copies of docs.illocution.ai). Almost nothing
is marked required there, so every ``TypedDict`` is ``total=False`` and the translators read
fields defensively. Where the pages disagree (``X`` in the reference) both forms are accepted:

* ``LiveStartResponse``: the ``*_endpoint`` fields and ``conversation_id`` may be missing;
* ``EmotionEvent.emotion``: ``{"emotions": {label: p}}`` or flat ``{label: p}``;
* speaker key: ``speaker`` (final transcripts, timeline) or ``speaker_id`` (emotion, moment);
* ``StatusEvent.phase``: an open vocabulary (``start``/``starting``/``waiting_media``/
  ``ingesting``/``processing``/``completed``).

Units: ``t_start``/``t_end`` and segmentation timestamps are **seconds**; ``start_ms``/
``end_ms``/``at_ms`` are **milliseconds**.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

from convoport.http import quote_segment
from convoport.model import SessionStatus

PROVIDER: Final = "illocution"
DEFAULT_BASE_URL: Final = "https://api.illocution.ai"
#: The credential header (the key is also accepted as ``?api_key=``; convoport sends the header).
KEY_HEADER: Final = "X-API-Key"

#: The live session filename for each encoding (Illocution transcodes by container).
FILENAMES: Final = {
    "pcm": "live.wav",
    "pcm_s16le": "live.wav",
    "wav": "live.wav",
    "alaw": "live.wav",
    "ulaw": "live.wav",
    "mp3": "live.mp3",
    "opus": "live.ogg",
    "ogg": "live.ogg",
    "webm": "live.webm",
    "mp4": "live.mp4",
    "m4a": "live.m4a",
    "aac": "live.aac",
}

#: The documented live session lifetime bounds and default, in seconds.
TTL_MIN = 60
TTL_MAX = 3600
TTL_DEFAULT = 900

#: Chunk sizes the cookbooks recommend (32-128 kB); the adapter's default is 64 KiB.
CHUNK_SIZE_DEFAULT = 1 << 16

#: Paths (relative to the base URL).
START_PATH = "/analyze/live/start"
ANALYZE_PATH = "/analyze"


def live_path(session_id: str, leaf: str) -> str:
    """The documented fallback for a missing ``*_endpoint``: ``/analyze/live/{id}/{leaf}``."""
    return f"/analyze/live/{quote_segment(session_id, provider='illocution')}/{leaf}"


#: SSE ``status.phase`` -> neutral status. Other phases (``start``, ``starting``, anything new)
#: map to ``None``: the phase is kept as an open string.
PHASE_STATUS: dict[str, SessionStatus] = {
    "waiting_media": SessionStatus.PENDING,
    "ingesting": SessionStatus.ACTIVE,
    "processing": SessionStatus.PROCESSING,
    "completed": SessionStatus.COMPLETED,
}

#: Events passed through as ``VendorEvent`` with their data normalised.
PASSTHROUGH_EVENTS = frozenset({"emotion", "cognitive", "transition", "moment"})

#: Summary list fields, in the order the markdown rendering shows them, with their headings.
SUMMARY_SECTIONS: tuple[tuple[str, str], ...] = (
    ("key_insights", "Key insights"),
    ("notable_patterns", "Notable patterns"),
    ("recommendations", "Recommendations"),
    ("what_went_well", "What went well"),
    ("what_went_wrong", "What went wrong"),
)


# -- live capture --------------------------------------------------------------------------


class LiveStartRequest(TypedDict, total=False):
    goal: str
    filename: str
    suffix: str
    ttl_seconds: int


class LiveStartResponse(TypedDict, total=False):
    session_id: str
    conversation_id: str
    chunk_endpoint: str
    events_endpoint: str
    control_endpoint: str
    next_chunk_seq: int
    expires_at: str
    status: str


class ChunkResponse(TypedDict, total=False):
    received_bytes: int
    next_chunk_seq: int
    expires_at: str


class ControlRequest(TypedDict, total=False):
    action: Literal["finalize", "cancel", "keepalive"]
    reason: str


class ControlResponse(TypedDict, total=False):
    status: str
    detail: str
    expires_at: str


# -- SSE event data ------------------------------------------------------------------------


class StatusEvent(TypedDict, total=False):
    phase: str
    progress: float


class PartialTranscriptEvent(TypedDict, total=False):
    partial_id: str
    text: str
    is_final: bool


class FinalTranscriptEvent(TypedDict, total=False):
    utterance_id: str
    speaker: str
    t_start: float
    t_end: float
    text: str
    asr_confidence: float


class EmotionEvent(TypedDict, total=False):
    utterance_id: str
    speaker_id: str
    emotion: dict[str, Any]
    scores: dict[str, float]
    confidence: float
    stability: str


class CognitiveEvent(TypedDict, total=False):
    utterance_id: str
    engagement: float
    cognitive_load: Any
    signals: Any


class ConversationSummary(TypedDict, total=False):
    overview: str
    key_insights: list[str]
    notable_patterns: list[str]
    recommendations: list[str]
    what_went_well: list[str]
    what_went_wrong: list[str]
    speaker_dynamics: dict[str, Any]
    conversation_quality: str


class ErrorEvent(TypedDict, total=False):
    code: str
    message: str


class DoneEvent(TypedDict, total=False):
    conversation_id: str


# -- batch analysis ------------------------------------------------------------------------


class TimelineEntry(TypedDict, total=False):
    utterance_id: str
    speaker: str
    t_start: float
    t_end: float
    text: str
    asr_confidence: float
    prosody: dict[str, Any]
    prosody_desc: str
    emotion: dict[str, Any]
    sentiment: dict[str, Any]
    polarity: float
    subjectivity: float
    cognitive: dict[str, Any]
    commitment_score: float
    commitment_level: str
    passion_score: float
    passion_level: str
    conviction_score: float
    lexical_markers: dict[str, Any]
    acoustic_reasoning: str
    confidence: float


class Moment(TypedDict, total=False):
    moment_id: str
    category: str
    speaker_id: str
    start_ms: int
    end_ms: int
    utterance_ids: list[str]
    summary: str
    labels: list[str]
    confidence: float


class Transition(TypedDict, total=False):
    transition_id: str
    at_ms: int
    from_state: dict[str, Any]
    to_state: dict[str, Any]
    evidence_utterance_ids: list[str]
    drivers: dict[str, Any]
    confidence: float
    stability: str


class TransitionEvent(Transition, total=False):
    """The SSE ``transition`` payload: the same fields as the REST ``Transition``."""


class MomentEvent(Moment, total=False):
    """The SSE ``moment`` payload: the REST ``Moment`` plus ``evidence`` (SSE only)."""

    evidence: Any


class Insights(TypedDict, total=False):
    overall_sentiment: dict[str, Any]
    dominant_emotions: list[str]
    engagement_pattern: str
    key_moments: list[Moment]
    speaker_profiles: dict[str, Any]
    conversation_dynamics: dict[str, Any]
    cognitive_profile: dict[str, Any]


class Phase(TypedDict, total=False):
    phase_id: str
    phase_name: str
    start_timestamp: float
    end_timestamp: float
    start_utterance_id: str
    end_utterance_id: str
    utterance_count: int
    theme: str
    summary: str
    emotional_tone: str
    key_moments: list[Any]
    transition_signal: Any


class ConversationSegmentation(TypedDict, total=False):
    phases: list[Phase]
    total_phases: int
    segmentation_rationale: str
    narrative_arc: str
    key_transitions: list[dict[str, Any]]


class AnalysisResponse(TypedDict, total=False):
    conversation_id: str
    utterances: int
    timeline: list[TimelineEntry]
    summary: ConversationSummary
    insights: Insights
    transitions: list[Transition]
    moments: list[Moment]
    segmentation: ConversationSegmentation
    agent_results: list[dict[str, Any]]
    artifact_dir: str
    upload_path: str
    agent_outputs_path: str
    context: str


class HTTPValidationErrorItem(TypedDict, total=False):
    """FastAPI's 422 item (``detail`` is a list of these)."""

    loc: list[str | int]
    msg: str
    type: str


__all__ = [
    "ANALYZE_PATH",
    "CHUNK_SIZE_DEFAULT",
    "DEFAULT_BASE_URL",
    "FILENAMES",
    "KEY_HEADER",
    "PASSTHROUGH_EVENTS",
    "PHASE_STATUS",
    "PROVIDER",
    "START_PATH",
    "SUMMARY_SECTIONS",
    "TTL_DEFAULT",
    "TTL_MAX",
    "TTL_MIN",
    "AnalysisResponse",
    "ChunkResponse",
    "CognitiveEvent",
    "ControlRequest",
    "ControlResponse",
    "ConversationSegmentation",
    "ConversationSummary",
    "DoneEvent",
    "EmotionEvent",
    "ErrorEvent",
    "FinalTranscriptEvent",
    "HTTPValidationErrorItem",
    "Insights",
    "LiveStartRequest",
    "LiveStartResponse",
    "Moment",
    "MomentEvent",
    "PartialTranscriptEvent",
    "Phase",
    "StatusEvent",
    "TimelineEntry",
    "Transition",
    "TransitionEvent",
    "live_path",
]
