"""Syllable sessions payloads, as Syllable names them, and the vocabularies the adapter maps.

Source: ``shared/vendors/syllable.md`` and the OpenAPI extract shipped beside this module
(``openapi.json``, a copy of ``shared/vendor-specs/syllable-sessions.openapi.json``); where the
two disagree the official SDK (``syllable-sdk`` 0.49.87) wins (reference §12). Every
``TypedDict`` is ``total=False``: only ``Session.timestamp`` is required and every other field
may be absent or null (§11.5); the translators read everything through
:class:`convoport.parsing.Payload` and never trust these types at run time. Enumerations the
SDK keeps closed (``LatencyCategory``, ``LatencyUnitType``, ``TimelineEventKind``,
``UtteranceSource``, ``SessionProperties``) are open strings here (§11.8): the tuples below list
the documented members, and an unknown member is kept as sent.
"""

from __future__ import annotations

from typing import Final, TypedDict

from convoport.model import SessionStatus

PROVIDER: Final = "syllable"
DEFAULT_BASE_URL: Final = "https://api.syllable.cloud"
#: The credential header, sent only to the configured origin (reference §1).
KEY_HEADER: Final = "Syllable-API-Key"

# -- paths (reference §2; the list endpoints keep their trailing slash, §11.1) ----------------

SESSIONS_PATH: Final = "/api/v1/sessions/"
SESSION_PATH: Final = "/api/v1/sessions/{session_id}"
RECORDING_URLS_PATH: Final = "/api/v1/sessions/recording/{session_id}"
RECORDING_STREAM_PATH: Final = "/api/v1/sessions/recording/stream"
TRANSCRIPT_PATH: Final = "/api/v1/sessions/transcript/{session_id}"
FULL_SUMMARY_PATH: Final = "/api/v1/sessions/full-summary/{session_id}"
LATENCY_PATH: Final = "/api/v1/sessions/latency/{session_id}"
TIMELINE_PATH: Final = "/api/v1/sessions/timeline/{session_id}"
SESSION_LABELS_PATH: Final = "/api/v1/session_labels/"

#: The server's page size when ``limit`` is not sent (the SDK always sends 25).
DEFAULT_LIMIT: Final = 25

# -- vocabularies ------------------------------------------------------------------------------

#: ``SessionProperties`` (SDK 0.49.87 order; 19 members): what ``search_fields``,
#: ``order_by`` and ``fields`` accept.
SESSION_PROPERTIES: Final = (
    "timestamp",
    "session_id",
    "conversation_id",
    "channel_manager_service",
    "channel_manager_type",
    "channel_manager_sid",
    "agent_type",
    "agent_id",
    "agent_name",
    "prompt_id",
    "prompt_name",
    "experiment_id",
    "experiment_variant_id",
    "source",
    "target",
    "duration",
    "is_outbound",
    "is_legacy",
    "is_test",
)
#: Boolean properties: the server does not filter on them reliably (``is_outbound`` gives no
#: rows or a 422, ``is_test=true`` means "include test sessions"), so they are filtered on the
#: client (§3.5, §11.6). ``is_test=true`` is also sent, to include the test sessions the
#: default listing leaves out.
BOOLEAN_PROPERTIES: Final = frozenset({"is_outbound", "is_legacy", "is_test"})
#: String properties searched on the server (repeated ``search_fields``/``search_field_values``).
STRING_PROPERTIES: Final = tuple(
    p
    for p in SESSION_PROPERTIES
    if p not in BOOLEAN_PROPERTIES and p not in ("timestamp", "duration")
)
#: ``SessionLabelProperties``.
SESSION_LABEL_PROPERTIES: Final = (
    "timestamp",
    "session_id",
    "type",
    "code",
    "user_email",
    "issue_categories",
    "session_id_list",
)
#: Documented members of the enumerations the SDK keeps closed (open strings here).
LATENCY_CATEGORIES: Final = ("tts", "stt", "llm", "tool", "http")
LATENCY_UNIT_TYPES: Final = ("minutes", "seconds", "milliseconds", "microseconds", "nanoseconds")
TIMELINE_EVENT_KINDS: Final = ("transcript", "tool", "latency")
UTTERANCE_SOURCES: Final = ("provider", "derived_min")
ORDER_BY_DIRECTIONS: Final = ("asc", "desc")

#: ``SessionText.source`` -> the neutral speaker label (= the participant's role). Any other
#: word is kept as the speaker label as sent.
SPEAKERS: Final[dict[str, str]] = {"agent": "agent", "user": "caller"}
#: The participants' roles (and ids, after the session id).
AGENT: Final = "agent"
CALLER: Final = "caller"

#: Syllable sends no session status: the adapter derives a state word from the payload —
#: ``"ended"`` when the session has a ``duration``, else ``"in_progress"`` — and maps it with
#: this table (``Session.provider_status`` stays None: Syllable has no word of its own).
STATUS_TABLE: Final[dict[str, SessionStatus]] = {
    "ended": SessionStatus.COMPLETED,
    "in_progress": SessionStatus.ACTIVE,
}
STATUS_FALLBACK: Final = SessionStatus.ACTIVE

#: ``channel_manager_type`` prefixes of voice channels: only voice reports the expected record
#: count, so only a voice transcript ever becomes ``transcript_complete`` (§7).
VOICE_CHANNEL_PREFIX: Final = "voice"

#: File name extension -> media type, for recording URLs whose path names a file.
AUDIO_TYPES: Final[dict[str, str]] = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".webm": "audio/webm",
}

#: ``LegacySessionLinkDetail.code``.
LEGACY_SESSION_LINK: Final = "legacy_session_link"

# -- payloads ----------------------------------------------------------------------------------


class Session(TypedDict, total=False):
    """``Session``: a building block of a conversation. Only ``timestamp`` is required."""

    timestamp: str
    session_id: str | None
    conversation_id: str | None
    channel_manager_service: str | None
    channel_manager_type: str | None
    channel_manager_sid: str | None
    agent_id: str | None
    agent_name: str | None
    agent_type: str | None
    agent_timezone: str | None
    prompt_id: str | None
    prompt_name: str | None
    prompt_version: str | None
    prompt_version_number: int | None
    experiment_id: str | None
    experiment_variant_id: str | None
    experiment_variant: str | None
    experiment_variant_is_control: bool | None
    duration: float | None
    session_label_id: str | None
    source: str | None
    target: str | None
    is_legacy: bool | None
    is_test: bool | None
    is_outbound: bool | None
    user_terminated: bool | None
    transfer_voicemail_detected: bool | None
    override_timestamp: str | None


class ListResponse_Session_(TypedDict, total=False):
    """``GET /api/v1/sessions/``: ``items``, 0-based ``page``, ``page_size``; the totals are
    optional and nullable."""

    items: list[Session]
    page: int
    page_size: int
    total_pages: int | None
    total_count: int | None


class SessionRecordingResponse(TypedDict, total=False):
    """``POST /api/v1/sessions/recording/{session_id}``: short-lived recording URLs."""

    session_id: str | None
    recordings: list[str] | None


class TranscriptWordConfidence(TypedDict, total=False):
    word: str
    confidence: float | None
    start: float | None
    end: float | None


class TranscriptConfidence(TypedDict, total=False):
    provider: str
    model: str | None
    utterance: float | None
    utterance_source: str | None
    words: list[TranscriptWordConfidence] | None
    words_truncated: bool | None


class SessionText(TypedDict, total=False):
    """One message of a transcript (``source`` is ``"user"`` or ``"agent"``)."""

    timestamp: str
    lang: str | None
    source: str | None
    text: str | None
    stt_confidence: TranscriptConfidence | None


class SessionAction(TypedDict, total=False):
    """One tool invocation; the ``tool_*`` fields are JSON-encoded strings (§11.11)."""

    timestamp: str
    tool_name: str | None
    tool_request: str | None
    tool_result: str | None
    tool_error: str | None
    duration_ms: float | None


class SessionTranscriptionResponse(TypedDict, total=False):
    session_id: str
    transcription: list[SessionText]
    actions: list[SessionAction]
    transcript_complete: bool


class SessionSummaryResponse(TypedDict, total=False):
    summary: str | None
    rating: str | None


class LatencyEntry(TypedDict, total=False):
    timestamp: str
    measurement_start: str
    category: str
    label: str
    unit_type: str
    value: float
    value_str: str
    time_delta: str
    metadata: list[str] | None


class SummaryEntry(TypedDict, total=False):
    category: str
    event_count: int
    sum_ms: float
    sum_str: str
    average_ms: float
    average_str: str
    sub_category: str | None


class InspectLatencyResponse(TypedDict, total=False):
    session_id: str
    timeline: list[LatencyEntry]
    summary: list[SummaryEntry]


class TimelineEvent(TypedDict, total=False):
    kind: str
    timestamp: str
    offset: str
    turn_index: int | None
    source: str | None
    text: str | None
    lang: str | None
    category: str | None
    label: str | None
    metadata: list[str] | None
    duration_ms: float | None
    tool_request: str | None
    tool_result: str | None
    tool_error: str | None


class SessionTimelineResponse(TypedDict, total=False):
    session_id: str
    events: list[TimelineEvent]
    session_start: str | None


class SessionLabel(TypedDict, total=False):
    """A rating of a session. ``session_id`` and ``id`` are integers here (§11.4)."""

    session_id: int
    type: str
    code: str
    user_email: str
    id: int
    timestamp: str
    comments: str | None
    issue_categories: list[str] | None


class ListResponse_SessionLabel_(TypedDict, total=False):
    items: list[SessionLabel]
    page: int
    page_size: int
    total_pages: int | None
    total_count: int | None


class ValidationError(TypedDict, total=False):
    """One item of a 422's ``detail``; production adds ``input``, ``ctx``, ``url``."""

    loc: list[str | int]
    msg: str
    type: str


class HTTPValidationError(TypedDict, total=False):
    """Every 422: ``detail`` is a list."""

    detail: list[ValidationError]


class LegacySessionLinkDetail(TypedDict, total=False):
    code: str
    session_id: str
    redirect_to: str
    message: str


class SessionsListBadRequestError(TypedDict, total=False):
    """A 400 from the sessions list: ``detail`` is a string or a
    :class:`LegacySessionLinkDetail`."""

    detail: str | LegacySessionLinkDetail
