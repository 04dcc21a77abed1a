"""Validation of Syllable payloads against the vendor's OpenAPI document (the extract shipped
as ``adapters/syllable/openapi.json``, a copy of ``shared/vendor-specs/
syllable-sessions.openapi.json``: OpenAPI 3.1, JSON Schema 2020-12, nullable fields as
``anyOf [..., {"type": "null"}]``). Components are resolved through a ``referencing`` registry;
``jsonschema`` is a dev dependency.

Statuses the document does not declare for an operation (401, 403, 404 on most routes, 429,
5xx, the 400 of a non-numeric id) are checked against :data:`FALLBACK_SCHEMA`, FastAPI's
``{"detail": <string>}`` envelope (the reference's "presumably"; the labels list's declared 400
has that exact shape).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import convoport.adapters.syllable

SPEC_PATH = Path(convoport.adapters.syllable.__file__).parent / "openapi.json"
SPEC_URI = "urn:syllable-sessions"
FALLBACK_SCHEMA = "SessionLabelsListBadRequestError"
_PATHS = (
    (re.compile(r"^/api/v1/sessions/$"), "/api/v1/sessions/"),
    (re.compile(r"^/api/v1/sessions/recording/stream$"), "/api/v1/sessions/recording/stream"),
    (re.compile(r"^/api/v1/sessions/recording/[^/]+$"), "/api/v1/sessions/recording/{session_id}"),
    (
        re.compile(r"^/api/v1/sessions/transcript/[^/]+$"),
        "/api/v1/sessions/transcript/{session_id}",
    ),
    (
        re.compile(r"^/api/v1/sessions/full-summary/[^/]+$"),
        "/api/v1/sessions/full-summary/{session_id}",
    ),
    (re.compile(r"^/api/v1/sessions/latency/[^/]+$"), "/api/v1/sessions/latency/{session_id}"),
    (re.compile(r"^/api/v1/sessions/timeline/[^/]+$"), "/api/v1/sessions/timeline/{session_id}"),
    (re.compile(r"^/api/v1/sessions/[^/]+$"), "/api/v1/sessions/{session_id}"),
    (re.compile(r"^/api/v1/session_labels/$"), "/api/v1/session_labels/"),
    (re.compile(r"^/api/v1/session_labels/[^/]+$"), "/api/v1/session_labels/{session_label_id}"),
)


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return document


@cache
def _validator_factory() -> Any:
    import jsonschema  # type: ignore[import-untyped]
    import referencing
    import referencing.jsonschema as specs

    resource = referencing.Resource.from_contents(spec(), default_specification=specs.DRAFT202012)
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


def operation(method: str, path: str) -> dict[str, Any] | None:
    template = template_for(path)
    found: dict[str, Any] | None = (spec()["paths"].get(template or "", {}) or {}).get(
        method.lower()
    )
    return found


def response_schema(method: str, path: str, status: int) -> str | None:
    """The schema the document gives a JSON answer (:data:`FALLBACK_SCHEMA` for an error
    status it does not declare); ``None`` when it declares a non-JSON body."""
    op = operation(method, path)
    if op is None:
        return FALLBACK_SCHEMA if status >= 400 else None
    response = op["responses"].get(str(status))
    if response is None:
        return FALLBACK_SCHEMA if status >= 400 else None
    content = (response.get("content") or {}).get("application/json")
    if content is None:
        return FALLBACK_SCHEMA if status >= 400 and not response.get("content") else None
    ref: str = content["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Errors of one JSON answer against the document."""
    if template_for(path) is None:
        return [f"{method} {path}: not a path of the document"]
    name = response_schema(method, path, status)
    if name is None:
        return [f"{method} {path} {status}: the document declares no JSON body"]
    return [f"{method} {path} {status} ({name}) {e}" for e in schema_errors(name, body)]


def binary_allowed(method: str, path: str, status: int, content_type: str) -> bool:
    """Whether the document declares a binary body of ``content_type`` for this answer."""
    op = operation(method, path)
    if op is None:
        return False
    response = op["responses"].get(str(status)) or op["responses"].get("200")
    return content_type in ((response or {}).get("content") or {})


def query_errors(method: str, path: str, pairs: list[tuple[str, str]]) -> list[str]:
    """Query parameters the operation does not declare (names only)."""
    op = operation(method, path)
    if op is None:
        return [f"{method} {path}: not an operation of the document"]
    declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    return [
        f"{method} {path}: undeclared query parameter {k}" for k, _ in pairs if k not in declared
    ]


__all__ = [
    "FALLBACK_SCHEMA",
    "binary_allowed",
    "query_errors",
    "response_errors",
    "response_schema",
    "schema_errors",
    "spec",
]
