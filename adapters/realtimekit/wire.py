"""Cloudflare RealtimeKit payloads, as RealtimeKit names them, and the vocabularies the adapter
maps.

Source: ``shared/vendors/realtimekit.md`` and the OpenAPI document
(``shared/vendor-specs/realtimekit-sessions.openapi.json``, shipped here as ``openapi.json``).
RealtimeKit is the former Dyte: its REST API is Dyte's v2 API under the Cloudflare v4 API, at
``/accounts/{account_id}/realtime/kit/{app_id}/...``. Every ``TypedDict`` is ``total=False``
(the SDK types every field optional); the translators read everything through
:class:`convoport.Payload` and never trust these types at run time.

Key casing differs per endpoint and is kept as sent: ``sessionId`` beside
``transcript_download_url``; ``summaryDownloadUrl``; ``chat_download_url``; ``session_id`` in the
answer to ``POST .../summary``; ``user_Id`` in recording reasons.
"""

from __future__ import annotations

from typing import Any, Final, TypedDict

from convoport.model import SessionStatus

PROVIDER: Final = "realtimekit"
#: The Cloudflare v4 API (the SDK's default ``base_url``).
DEFAULT_BASE_URL: Final = "https://api.cloudflare.com/client/v4"
#: The credential header: ``Authorization: Bearer <Cloudflare API token>``, sent only to the
#: configured origin (never to the storage host of a pre-signed link).
KEY_HEADER: Final = "authorization"

#: The app's prefix under the base URL (ids percent-encoded by the adapter).
APP_PATH: Final = "/accounts/{account_id}/realtime/kit/{app_id}"

#: RealtimeKit session ``status`` -> neutral status. Any other word maps to
#: :data:`STATUS_FALLBACK`: the session exists in a state we do not know, so it is treated as
#: not finished (a migration skips it and a later run picks it up); ``provider_status`` keeps
#: the word.
STATUS_TABLE: Final[dict[str, SessionStatus]] = {
    "LIVE": SessionStatus.ACTIVE,
    "ENDED": SessionStatus.COMPLETED,
}
STATUS_FALLBACK: Final = SessionStatus.PROCESSING
#: Neutral status -> the ``status=`` list filter (only ACTIVE and COMPLETED have a word).
STATUS_FILTER: Final[dict[SessionStatus, str]] = {v: k for k, v in STATUS_TABLE.items()}

#: Session ``type`` -> ``Session.metadata["session_type"]``; any other word maps to
#: :data:`SESSION_TYPE_FALLBACK` (the raw word stays in ``provider_data``).
SESSION_TYPES: Final[dict[str, str]] = {
    "meeting": "meeting",
    "livestream": "livestream",
    "participant": "participant",
}
SESSION_TYPE_FALLBACK: Final = "other"

#: Recording statuses (§5.2). UPLOADED: the file is ready; ERRORED: it never will be.
RECORDING_STATUSES: Final = ("INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED")
RECORDING_UPLOADED: Final = "UPLOADED"
RECORDING_ERRORED: Final = "ERRORED"

#: Chat ``payloadType`` -> ``ChatMessage.kind``; any other word maps to itself lower-cased
#: without a ``_message`` suffix (``VOICE_MESSAGE`` -> ``voice``).
CHAT_KINDS: Final[dict[str, str]] = {
    "TEXT_MESSAGE": "text",
    "IMAGE_MESSAGE": "image",
    "FILE_MESSAGE": "file",
}

#: The chat dump's columns (§4.2; mapped by header name, in any order).
CHAT_COLUMNS: Final = (
    "id",
    "participantId",
    "sessionId",
    "meetingId",
    "displayName",
    "pinned",
    "isEdited",
    "payloadType",
    "payload",
    "createdAt",
)
#: The columns a chat dump must have to be read.
CHAT_REQUIRED: Final = ("id", "payload")

#: The current transcript CSV (§4.1): no header, every field quoted, start in milliseconds.
TRANSCRIPT_COLUMNS: Final = (
    "start_ms",
    "peer_id",
    "user_id",
    "custom_participant_id",
    "participant_name",
    "text",
)
#: The legacy transcript CSV's header (Dyte's documentation; ISO 8601 timestamps) -> the names
#: of :data:`TRANSCRIPT_COLUMNS` (``start_ms`` is the ``Timestamp`` column there).
LEGACY_TRANSCRIPT_HEADER: Final[dict[str, str]] = {
    "Timestamp": "start_ms",
    "Participant ID": "peer_id",
    "User ID": "user_id",
    "Custom Participant ID": "custom_participant_id",
    "Participant Name": "participant_name",
    "Transcript": "text",
}
#: A number in the first transcript column at least this large is epoch milliseconds, not an
#: offset from the session's start.
EPOCH_MS_THRESHOLD: Final = 10**12

#: File name extension -> media type of a recording.
MEDIA_TYPES: Final[dict[str, str]] = {
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
}

#: Cloudflare gateway error codes the adapter reads (§2).
CF_AUTHENTICATION_ERROR: Final = 10000
#: The message Cloudflare gives with the global block (its code is not documented; the
#: OpenAPI document wants codes >= 1000, and 10000 is what third parties quote).
CF_GLOBAL_LIMIT_CODE: Final = 10000
CF_GLOBAL_LIMIT_MESSAGE: Final = (
    "More than 1200 requests per 300 seconds reached. Please wait and consider throttling "
    "your request speed"
)
CF_NO_ROUTE: Final = 7003
#: After a breach of Cloudflare's global limit (1200 requests / 5 minutes) every call is
#: refused for five minutes; the wait assumed when a gateway 429 does not say.
GLOBAL_BLOCK_SECONDS: Final = 300.0
#: A 429 asking to wait longer than this (seconds) is the global block, not RealtimeKit's own
#: 250 requests / 10 s limiter: it is reported at once, never retried.
GLOBAL_BLOCK_THRESHOLD: Final = 60.0

#: Pages of a listing the adapter follows at most before it stops with an error (a vendor
#: whose ``paging`` never ends would otherwise be listed forever).
MAX_PAGES: Final = 10_000
#: Items per page when listing participants and recordings (the API's documented default is
#: 25 in Dyte's other lists; convoport asks for this many).
ARTIFACT_PAGE_SIZE: Final = 100
#: The largest JSON transcript or summary file read (bytes): they are read whole.
MAX_DOCUMENT_BYTES: Final = 64 << 20

# -- REST payloads ------------------------------------------------------------------------


class Paging(TypedDict, total=False):
    """``paging``: 1-based inclusive offsets of the page's first and last item."""

    total_count: float
    start_offset: float
    end_offset: float


class Session(TypedDict, total=False):
    """``realtimekit_ActiveSession``: a list item, and the details' ``data`` (current shape)."""

    id: str
    associated_id: str  # the meeting id (V1 meetings: a room name)
    meeting_display_name: str
    type: str  # meeting | livestream | participant
    status: str  # LIVE | ENDED
    live_participants: float
    max_concurrent_participants: float
    minutes_consumed: float
    organization_id: str  # the app id
    started_at: str
    created_at: str
    updated_at: str
    ended_at: str
    breakout_rooms: list[Session]
    meta: dict[str, Any]  # SDK 5.0.0-5.4.0 only


class LegacySessionData(TypedDict, total=False):
    """The details' ``data`` in the older shape (SDK 5.0.0, Dyte): the session nested."""

    session: Session


class GetSessionsData(TypedDict, total=False):
    sessions: list[Session]


class GetSessionsResponse(TypedDict, total=False):
    """``GET /sessions``: ``paging`` is a sibling of ``data``."""

    success: bool
    data: GetSessionsData
    paging: Paging


class PeerEvent(TypedDict, total=False):
    id: str
    created_at: str
    updated_at: str
    event_name: str  # PEER_CREATED | PEER_JOINING | PEER_LEAVING
    minutes_consumed: float
    participant_id: str
    peer_id: str
    session_id: str
    socket_session_id: str
    preset_view_type: str


class SessionParticipant(TypedDict, total=False):
    """One join of one person: ``id`` is the peer id of that join; ``user_id`` is stable
    across re-joins. ``duration`` is minutes."""

    id: str
    user_id: str
    custom_participant_id: str
    display_name: str
    preset_name: str
    joined_at: str
    left_at: str
    duration: float
    created_at: str
    updated_at: str
    peer_events: list[PeerEvent]


class ParticipantsData(TypedDict, total=False):
    participants: list[SessionParticipant]
    paging: Paging  # in the official example only, not in the schema


class PeerReportParticipant(SessionParticipant, total=False):
    """``GET /sessions/peer-report/{peer_id}``: ``role`` instead of ``preset_name``."""

    session_id: str
    role: str
    peer_report: dict[str, Any]  # {metadata, quality}


class ChatDownload(TypedDict, total=False):
    chat_download_url: str
    chat_download_url_expiry: str


class TranscriptDownload(TypedDict, total=False):
    sessionId: str
    transcript_download_url: str
    transcript_download_url_expiry: str


class SummaryDownload(TypedDict, total=False):
    sessionId: str
    summaryDownloadUrl: str
    summaryDownloadUrlExpiry: str


class GenerateSummaryData(TypedDict, total=False):
    """``POST .../summary``; Dyte's older answer was ``{success, message}``."""

    session_id: str
    status: str
    success: bool
    message: str


class TrackFile(TypedDict, total=False):
    download_url: str


class TrackLayer(TypedDict, total=False):
    """A track recording's ``download_url`` item (observed, UNCONFIRMED)."""

    layer_name: str
    download_urls: dict[str, TrackFile]


class Recording(TypedDict, total=False):
    """``realtimekit_Recording`` (+ ``meeting``/``storage_config`` in lists, + reasons on GET)."""

    id: str
    session_id: str | None
    status: str
    output_file_name: str
    download_url: str | list[TrackLayer] | None
    audio_download_url: str | None
    download_url_expiry: str | None
    file_size: float | None
    invoked_time: str
    started_time: str | None
    stopped_time: str | None
    recording_duration: int  # seconds
    meeting: dict[str, Any]
    storage_config: dict[str, Any] | None
    start_reason: dict[str, Any]
    stop_reason: dict[str, Any]


class GetRecordingsResponse(TypedDict, total=False):
    success: bool
    data: list[Recording]
    paging: Paging


# -- errors -------------------------------------------------------------------------------


class RealtimeKitError(TypedDict, total=False):
    code: float  # the HTTP status
    message: str


class ErrorResponse(TypedDict, total=False):
    """The RealtimeKit service's envelope: ``{success: false, error: {code, message}}``."""

    success: bool
    error: RealtimeKitError


class CloudflareMessage(TypedDict, total=False):
    code: int
    message: str
    error_chain: list[CloudflareMessage]


class CloudflareFailure(TypedDict, total=False):
    """The api.cloudflare.com gateway's envelope (auth, routing, the global rate limit)."""

    success: bool
    errors: list[CloudflareMessage]
    messages: list[CloudflareMessage]
    result: None
