"""Murmur Notes' payloads, as Murmur names them.

The API (made up for this example)::

    GET /v1/calls?limit=N&cursor=C&state=S   -> {"data": [Call], "next_cursor": str | null}
    GET /v1/calls/{id}                       -> Call
    GET /v1/calls/{id}/transcript            -> {"call_id": str, "segments": [Segment]}
    GET /v1/calls/{id}/participants          -> {"data": [Participant]}
    GET /v1/calls/{id}/messages              -> {"data": [Message]}  (oldest first)
    GET /v1/calls/{id}/recordings            -> {"data": [RecordingItem]}
    GET <RecordingItem.url>                  -> the WAV bytes, from the media host
                                                (https://media.murmur.example), no token:
                                                the link is pre-signed (``exp``, ``sig``);
                                                ``Range: bytes=N-`` is honoured (206); an
                                                expired link answers 403
    errors                                   -> {"error": {"type": str, "message": str}}

Auth: ``Authorization: Bearer <token>`` on the API host only. Each listing of recordings
signs fresh links.
"""

from typing import TypedDict


class Call(TypedDict, total=False):
    id: str
    state: str  # "recording" | "transcribing" | "ready" | "failed"
    started_at: str  # ISO 8601 with offset
    ended_at: str | None
    duration_ms: int | None
    title: str | None
    tags: dict[str, str]


class Segment(TypedDict, total=False):
    speaker: str
    start_ms: int
    end_ms: int
    text: str


class TranscriptPayload(TypedDict, total=False):
    call_id: str
    language: str | None
    segments: list[Segment]


class Participant(TypedDict, total=False):
    id: str
    name: str | None
    role: str | None  # "agent" | "caller"
    joined_at: str | None
    left_at: str | None


class Message(TypedDict, total=False):
    id: str
    author_id: str | None
    author_name: str | None
    text: str
    sent_at: str


class RecordingItem(TypedDict, total=False):
    id: str
    content_type: str
    size: int
    duration_ms: int
    url: str  # pre-signed, on the media host
    url_expires_at: str
