"""Validation of Gladia payloads against the official OpenAPI document (shared/vendor-specs).

The document is OpenAPI 3.1 but keeps 3.0's ``nullable: true``; :class:`tests.support.openapi.
OpenAPIDocument` loads it, rewrites ``nullable: true`` to allow null and validates answers.
What is Gladia's own stays here: the error envelope of the statuses the document does not
list, and the WebSocket messages (:func:`message_errors`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import convoport.adapters.gladia
from tests.support.openapi import OpenAPIDocument

#: A copy of shared/vendor-specs/gladia-live-v2.openapi.json shipped with the adapter, so the
#: tests need nothing outside the repository.
SPEC_PATH = Path(convoport.adapters.gladia.__file__).parent / "openapi.json"
SPEC_URI = "urn:gladia-live-v2"
#: The envelope every Gladia REST error uses (statuses the spec does not list: 429, 5xx...).
ERROR_SCHEMA = "BadRequestErrorResponse"
#: WebSocket message type -> the spec's schema.
SERVER_MESSAGES = {
    "transcript": "TranscriptMessage",
    "speech_start": "SpeechStartMessage",
    "speech_end": "SpeechEndMessage",
    "audio_chunk": "AudioChunkAckMessage",
    "stop_recording": "StopRecordingAckMessage",
    "post_transcript": "PostTranscriptMessage",
    "post_final_transcript": "PostFinalTranscriptMessage",
    "post_summarization": "PostSummarizationMessage",
    "post_chapterization": "PostChapterizationMessage",
    "named_entity_recognition": "NamedEntityRecognitionMessage",
    "sentiment_analysis": "SentimentAnalysisMessage",
    "translation": "TranslationMessage",
    "start_session": "StartSessionMessage",
    "start_recording": "StartRecordingMessage",
    "end_recording": "EndRecordingMessage",
    "end_session": "EndSessionMessage",
}
CLIENT_MESSAGES = {"stop_recording": "StopRecordingAction", "audio_chunk": "AudioChunkAction"}


class GladiaDocument(OpenAPIDocument):
    """Gladia's document: an error status it does not list uses :data:`ERROR_SCHEMA`."""

    error_schema = ERROR_SCHEMA
    #: A started job (202) and a deleted one (204) answer with no body.
    empty_statuses = frozenset({202, 204})


DOCUMENT = GladiaDocument(SPEC_PATH, uri=SPEC_URI)
schema_errors = DOCUMENT.schema_errors
response_errors = DOCUMENT.response_errors
binary_allowed = DOCUMENT.binary_allowed


def spec() -> dict[str, Any]:
    """The document as shipped."""
    return DOCUMENT.spec


def message_errors(message: Any, *, client: bool = False) -> list[str]:
    """Errors of one WebSocket message against its ``*Message`` (or client action) schema."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return [f"not a typed message: {message!r}"[:200]]
    table = CLIENT_MESSAGES if client else SERVER_MESSAGES
    name = table.get(message["type"])
    if name is None:
        return [f"message type {message['type']!r} is not in the document"]
    return [f"{message['type']} ({name}) {e}" for e in schema_errors(name, message)]


__all__ = [
    "DOCUMENT",
    "binary_allowed",
    "message_errors",
    "response_errors",
    "schema_errors",
    "spec",
]
