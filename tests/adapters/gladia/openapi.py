"""Validation of Gladia payloads against the official OpenAPI document (shared/vendor-specs).

The document is OpenAPI 3.1 but keeps 3.0's ``nullable: true``; it is preprocessed so that
``nullable: true`` allows null (``anyOf: [{"type": "null"}, <schema>]``). Components are
resolved through a ``referencing`` registry. ``jsonschema`` is imported lazily (tests skip
when it is not installed).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import convoport.adapters.gladia

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
_PATHS = (
    (re.compile(r"^/v2/live$"), "/v2/live"),
    (re.compile(r"^/v2/live/[^/]+$"), "/v2/live/{id}"),
    (re.compile(r"^/v2/live/[^/]+/file$"), "/v2/live/{id}/file"),
)


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return document


@cache
def _validator_factory() -> Any:
    import jsonschema  # type: ignore[import-untyped]
    import referencing
    import referencing.jsonschema as specs

    resource = referencing.Resource.from_contents(
        _nullable(spec()), default_specification=specs.DRAFT202012
    )
    registry = referencing.Registry().with_resource(SPEC_URI, resource)

    def make(schema: dict[str, Any]) -> Any:
        return jsonschema.Draft202012Validator(
            schema,
            registry=registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )

    return make


def schema_errors(schema_name: str, value: Any) -> list[str]:
    """Validation errors of ``value`` against ``components.schemas[schema_name]``."""
    validator = _validator_factory()({"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"})
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


def template_for(path: str) -> str | None:
    for pattern, template in _PATHS:
        if pattern.match(path):
            return template
    return None


def response_schema(method: str, path: str, status: int) -> str | None:
    """The schema name the spec gives for a JSON answer (the common error envelope for
    statuses it does not list); ``None`` when the spec says there is no JSON body."""
    template = template_for(path)
    operation = (spec()["paths"].get(template or "", {}) or {}).get(method.lower())
    if operation is None:
        return ERROR_SCHEMA if status >= 400 else None
    response = operation["responses"].get(str(status))
    if response is None:
        return ERROR_SCHEMA if status >= 400 else None
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    ref: str = content["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Errors of one JSON response against the document ("undocumented" when a JSON body came
    where the document declares none)."""
    name = response_schema(method, path, status)
    if name is None:
        return [f"{method} {path} {status}: the document declares no JSON body"]
    return [f"{method} {path} {status} ({name}) {e}" for e in schema_errors(name, body)]


def message_errors(message: Any, *, client: bool = False) -> list[str]:
    """Errors of one WebSocket message against its ``*Message`` (or client action) schema."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return [f"not a typed message: {message!r}"[:200]]
    table = CLIENT_MESSAGES if client else SERVER_MESSAGES
    name = table.get(message["type"])
    if name is None:
        return [f"message type {message['type']!r} is not in the document"]
    return [f"{message['type']} ({name}) {e}" for e in schema_errors(name, message)]


__all__ = ["message_errors", "response_errors", "response_schema", "schema_errors", "spec"]
