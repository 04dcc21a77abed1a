"""Gladia live v2 payloads, as Gladia names them, and the vocabularies the adapter maps.

Source: ``shared/vendors/gladia.md`` and the official OpenAPI document
(``shared/vendor-specs/gladia-live-v2.openapi.json``). Every ``TypedDict`` is ``total=False``:
the reference says required-but-nullable keys may also be missing, so the translators read
everything through :class:`convoport.Payload` and never trust these types at run time; they
document the shapes for readers and for mypy.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypedDict

from convoport.model import SessionStatus

PROVIDER: Final = "gladia"
DEFAULT_BASE_URL: Final = "https://api.gladia.io"
#: The credential header (``x-gladia-key``), sent only to the configured origin.
KEY_HEADER: Final = "x-gladia-key"

LIVE_PATH: Final = "/v2/live"

#: Audio frames larger than this are refused by Gladia with close code 1009.
MAX_FRAME_BYTES: Final = 1 << 20

#: Gladia job status -> neutral status. Any other value maps to :data:`STATUS_FALLBACK`
#: (a job exists but its state is not one we know: treat it as still being worked on);
#: ``Session.provider_status`` keeps Gladia's word.
STATUS_TABLE: Final[dict[str, SessionStatus]] = {
    "queued": SessionStatus.PENDING,
    "processing": SessionStatus.PROCESSING,
    "done": SessionStatus.COMPLETED,
    "error": SessionStatus.FAILED,
}
STATUS_FALLBACK: Final = SessionStatus.PROCESSING
#: Neutral status -> the ``status=`` list filter value (ACTIVE and CANCELLED have none).
STATUS_FILTER: Final[dict[SessionStatus, str]] = {v: k for k, v in STATUS_TABLE.items()}
TERMINAL_STATUSES: Final = frozenset({"done", "error"})

#: Neutral ``LiveOptions.encoding`` -> Gladia ``encoding``.
ENCODINGS: Final[dict[str, str]] = {"pcm": "wav/pcm", "alaw": "wav/alaw", "ulaw": "wav/ulaw"}
BIT_DEPTHS: Final = (8, 16, 24, 32)
SAMPLE_RATES: Final = (8000, 16000, 32000, 44100, 48000)
MAX_CHANNELS: Final = 8
REGIONS: Final = ("us-west", "eu-west")
SUMMARY_TYPES: Final = ("general", "bullet_points", "concise")
_LANGUAGE_CODES = """
af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi
hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no
oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo
zh
"""
#: ``TranscriptionLanguageCode`` (99 codes).
LANGUAGES: Final = frozenset(_LANGUAGE_CODES.split())

#: WebSocket close codes: 1000/1001 end the session normally; 4400-4499 are refusals that a
#: reconnect cannot fix (the SDK does not retry them either); anything else is a drop.
NORMAL_CLOSE_CODES: Final = frozenset({1000, 1001})
NO_RETRY_CLOSE_RANGE: Final = range(4400, 4500)

# -- REST payloads ------------------------------------------------------------------------


class ErrorResponse(TypedDict, total=False):
    """Every REST error (``BadRequestErrorResponse``, ``NotFoundErrorResponse``, ...)."""

    timestamp: str
    path: str
    request_id: str
    statusCode: int
    message: str
    validation_errors: list[str]


class InitStreamingResponse(TypedDict, total=False):
    """``POST /v2/live`` 201."""

    id: str
    created_at: str
    url: str


class FileResponse(TypedDict, total=False):
    id: str
    filename: str | None
    source: str | None
    audio_duration: float | None
    number_of_channels: int | None


class WordDTO(TypedDict, total=False):
    word: str
    start: float
    end: float
    confidence: float


class UtteranceDTO(TypedDict, total=False):
    start: float
    end: float
    confidence: float
    channel: int
    speaker: int
    words: list[WordDTO]
    text: str
    language: str


class TranscriptionDTO(TypedDict, total=False):
    full_transcript: str
    languages: list[str]
    utterances: list[UtteranceDTO]
    sentences: list[dict[str, Any]]
    subtitles: list[dict[str, Any]]


class TranscriptionMetadataDTO(TypedDict, total=False):
    audio_duration: float
    number_of_distinct_channels: int
    billing_time: float
    transcription_time: float


class AddonErrorDTO(TypedDict, total=False):
    status_code: int
    exception: str
    message: str


class SummarizationDTO(TypedDict, total=False):
    success: bool
    is_empty: bool
    exec_time: float
    error: AddonErrorDTO | None
    results: str | None


class StreamingTranscriptionResultWithMessagesDTO(TypedDict, total=False):
    metadata: TranscriptionMetadataDTO
    transcription: TranscriptionDTO
    translation: dict[str, Any]
    summarization: SummarizationDTO
    named_entity_recognition: dict[str, Any]
    sentiment_analysis: dict[str, Any]
    chapterization: dict[str, Any]
    messages: list[str]


class LanguageConfig(TypedDict, total=False):
    languages: list[str]
    code_switching: bool


class MessagesConfig(TypedDict, total=False):
    receive_partial_transcripts: bool
    receive_final_transcripts: bool
    receive_speech_events: bool
    receive_pre_processing_events: bool
    receive_realtime_processing_events: bool
    receive_post_processing_events: bool
    receive_acknowledgments: bool
    receive_errors: bool
    receive_lifecycle_events: bool


class StreamingRequest(TypedDict, total=False):
    """``POST /v2/live`` body (every field optional)."""

    encoding: str
    bit_depth: int
    sample_rate: int
    channels: int
    custom_metadata: dict[str, Any]
    model: str
    endpointing: float
    maximum_duration_without_endpointing: float
    language_config: LanguageConfig
    pre_processing: dict[str, Any]
    realtime_processing: dict[str, Any]
    post_processing: dict[str, Any]
    messages_config: MessagesConfig
    callback: bool
    callback_config: dict[str, Any]


class StreamingResponse(TypedDict, total=False):
    """``GET /v2/live/{id}`` and each item of the list."""

    id: str
    request_id: str
    version: int
    status: str
    created_at: str
    completed_at: str | None
    custom_metadata: dict[str, Any]
    error_code: int | None
    post_session_metadata: dict[str, Any]
    kind: Literal["live"]
    file: FileResponse | None
    request_params: dict[str, Any] | None
    result: StreamingTranscriptionResultWithMessagesDTO | None


class ListStreamingResponse(TypedDict, total=False):
    """``GET /v2/live``: absolute ``first``/``current``/``next`` links (``next`` null last)."""

    first: str
    current: str
    next: str | None
    items: list[StreamingResponse]


# -- WebSocket messages (server -> client; all JSON text) ---------------------------------


class TranscriptMessageData(TypedDict, total=False):
    id: str
    is_final: bool
    utterance: UtteranceDTO


class AudioChunkAckData(TypedDict, total=False):
    byte_range: list[int]
    time_range: list[float]


class LiveMessage(TypedDict, total=False):
    """The common envelope: ``session_id``, ``created_at``, ``type`` and per-type fields
    (``data``; ``error`` and ``acknowledged`` on acknowledgements and add-ons)."""

    session_id: str
    created_at: str
    type: str
    acknowledged: bool
    error: dict[str, Any] | None
    data: Any


#: Message types (§9.3 of the reference). Anything else passes through as a VendorEvent.
MSG_TRANSCRIPT: Final = "transcript"
MSG_SPEECH_START: Final = "speech_start"
MSG_SPEECH_END: Final = "speech_end"
MSG_AUDIO_CHUNK: Final = "audio_chunk"
MSG_STOP_RECORDING: Final = "stop_recording"
MSG_POST_TRANSCRIPT: Final = "post_transcript"
MSG_POST_FINAL_TRANSCRIPT: Final = "post_final_transcript"
MSG_POST_SUMMARIZATION: Final = "post_summarization"
MSG_POST_CHAPTERIZATION: Final = "post_chapterization"
MSG_START_SESSION: Final = "start_session"
MSG_START_RECORDING: Final = "start_recording"
MSG_END_RECORDING: Final = "end_recording"
MSG_END_SESSION: Final = "end_session"
ADDON_MESSAGES: Final = frozenset(
    {"named_entity_recognition", "sentiment_analysis", "translation", MSG_POST_CHAPTERIZATION}
)

#: What the client sends to end the audio.
STOP_RECORDING_ACTION: Final = {"type": "stop_recording"}
