"""Validation of RealtimeKit payloads against the OpenAPI document (shared/vendor-specs).

The document is OpenAPI 3.0.3 with ``nullable: true``; it is preprocessed so that
``nullable: true`` allows null (``anyOf: [{"type": "null"}, <schema>]``) and validated as
JSON Schema 2020-12 through a ``referencing`` registry. A response's schema is the one its
operation declares for the status (responses given by ``$ref`` are followed); an error body
is checked against the envelope it uses: the Cloudflare gateway's
(``cf_api-response-common-failure``) or RealtimeKit's (``realtimekit_GenericErrorResponse``).

One documented deviation: the legacy session-details shape (``data.session``, reference §3.2,
from SDK 5.0.0 and Dyte) is not in this document; it is checked against :data:`LEGACY_DETAILS`,
the current ``realtimekit_ActiveSession`` nested in ``data.session``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import convoport.adapters.realtimekit

#: A copy of shared/vendor-specs/realtimekit-sessions.openapi.json shipped with the adapter.
SPEC_PATH = Path(convoport.adapters.realtimekit.__file__).parent / "openapi.json"
SPEC_URI = "urn:realtimekit-sessions"
PREFIX = "/client/v4"
GATEWAY_ERROR = "#/components/schemas/cf_api-response-common-failure"
SERVICE_ERROR = "#/components/schemas/realtimekit_GenericErrorResponse"
#: The legacy details shape (reference §3.2), built on the document's session schema.
LEGACY_DETAILS: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "success": {"type": "boolean"},
        "data": {
            "type": "object",
            "required": ["session"],
            "properties": {
                "session": {"$ref": f"{SPEC_URI}#/components/schemas/realtimekit_ActiveSession"}
            },
        },
    },
}


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
def _factory() -> Any:
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


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile(f"^{pattern}$"), template))
    # literal segments first: /sessions/peer-report/{id} before /sessions/{id}/...
    out.sort(key=lambda t: t[1].count("{"))
    return out


def template_for(path: str) -> str | None:
    """The document's path template for a request path (``/client/v4`` stripped)."""
    local = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    for pattern, template in _templates():
        if pattern.match(local):
            return template
    return None


def response_pointer(method: str, path: str, status: int, body: Any) -> str | None:
    """The JSON pointer of the schema a response must follow; None when the document
    declares none for it."""
    if status >= 400:
        if isinstance(body, dict) and "errors" in body:
            return GATEWAY_ERROR
        return SERVICE_ERROR
    template = template_for(path)
    if template is None:
        return None
    operation = spec()["paths"][template].get(method.lower())
    if operation is None:
        return None
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[-1]
        return _pointer("components", "responses", name, "content", "application/json", "schema")
    return _pointer(
        "paths", template, method.lower(), "responses", str(status), "content",
        "application/json", "schema",
    )  # fmt: skip


def _errors(schema: dict[str, Any], value: Any) -> list[str]:
    validator = _factory()(schema)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Errors of one JSON answer against the document (a legacy details answer against
    :data:`LEGACY_DETAILS`)."""
    pointer = response_pointer(method, path, status, body)
    where = f"{method} {path} {status}"
    if pointer is None:
        return [f"{where}: the document declares no such answer"]
    data = body.get("data") if isinstance(body, dict) else None
    legacy = (
        status == 200
        and template_for(path)
        == "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}"
        and isinstance(data, dict)
        and "session" in data
        and "id" not in data
    )
    schema = LEGACY_DETAILS if legacy else {"$ref": SPEC_URI + pointer}
    return [f"{where} {e}" for e in _errors(schema, body)]


def schema_errors(name: str, value: Any) -> list[str]:
    """Errors of ``value`` against ``components.schemas[name]``."""
    return _errors({"$ref": f"{SPEC_URI}#/components/schemas/{name}"}, value)


__all__ = ["response_errors", "response_pointer", "schema_errors", "spec", "template_for"]
