"""Validation of Syllable payloads against the vendor's OpenAPI document (the extract shipped
as ``adapters/syllable/openapi.json``, a copy of ``shared/vendor-specs/
syllable-sessions.openapi.json``: OpenAPI 3.1, JSON Schema 2020-12, nullable fields as
``anyOf [..., {"type": "null"}]``), loaded and validated by
:class:`tests.support.openapi.OpenAPIDocument`.

What is Syllable's own stays here: statuses the document does not declare for an operation
(401, 403, 404 on most routes, 429, 5xx, the 400 of a non-numeric id) are checked against
:data:`FALLBACK_SCHEMA`, FastAPI's ``{"detail": <string>}`` envelope (the reference's
"presumably"; the labels list's declared 400 has that exact shape), and an answer on a path
the document does not have is refused outright.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import convoport.adapters.syllable
from tests.support.openapi import OpenAPIDocument

SPEC_PATH = Path(convoport.adapters.syllable.__file__).parent / "openapi.json"
SPEC_URI = "urn:syllable-sessions"
FALLBACK_SCHEMA = "SessionLabelsListBadRequestError"


class SyllableDocument(OpenAPIDocument):
    """Syllable's document: undeclared error statuses use :data:`FALLBACK_SCHEMA`; a path
    outside the document is a problem in itself."""

    error_schema = FALLBACK_SCHEMA
    paths_must_be_documented = True


DOCUMENT = SyllableDocument(SPEC_PATH, uri=SPEC_URI)
schema_errors = DOCUMENT.schema_errors
response_errors = DOCUMENT.response_errors
binary_allowed = DOCUMENT.binary_allowed
query_errors = DOCUMENT.query_errors


def spec() -> dict[str, Any]:
    """The document as shipped."""
    return DOCUMENT.spec


__all__ = [
    "DOCUMENT",
    "FALLBACK_SCHEMA",
    "binary_allowed",
    "query_errors",
    "response_errors",
    "schema_errors",
    "spec",
]
