"""Murmur Notes' payloads, as Murmur names them.

The API (made up for this example)::

    GET /v1/calls?limit=N&cursor=C&state=S   -> {"data": [Call], "next_cursor": str | null}
    GET /v1/calls/{id}                       -> Call
    GET /v1/calls/{id}/transcript            -> {"call_id": str, "segments": [Segment]}
    errors                                   -> {"error": {"type": str, "message": str}}

Auth: ``Authorization: Bearer <token>``.
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
