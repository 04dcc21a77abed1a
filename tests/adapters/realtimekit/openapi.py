"""Validation of RealtimeKit payloads against the OpenAPI document (shared/vendor-specs).

The document is OpenAPI 3.0.3 with ``nullable: true``; :class:`tests.support.openapi.
OpenAPIDocument` loads it, rewrites ``nullable: true`` to allow null and validates it as JSON
Schema 2020-12 (paths carry the ``/client/v4`` prefix the document leaves out). A response's
schema is the one its operation declares for the status (responses given by ``$ref`` are
followed); what is RealtimeKit's own stays here: an error body is checked against the envelope
it uses, the Cloudflare gateway's (``cf_api-response-common-failure``) or RealtimeKit's
(``realtimekit_GenericErrorResponse``).

One documented deviation: the legacy session-details shape (``data.session``, reference §3.2,
from SDK 5.0.0 and Dyte) is not in this document; it is checked against :data:`LEGACY_DETAILS`,
the current ``realtimekit_ActiveSession`` nested in ``data.session``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import convoport.adapters.realtimekit
from tests.support.openapi import OpenAPIDocument, Schema

#: A copy of shared/vendor-specs/realtimekit-sessions.openapi.json shipped with the adapter.
SPEC_PATH = Path(convoport.adapters.realtimekit.__file__).parent / "openapi.json"
SPEC_URI = "urn:realtimekit-sessions"
PREFIX = "/client/v4"
#: The Cloudflare gateway's error envelope and RealtimeKit's own (component names).
GATEWAY_ERROR = "cf_api-response-common-failure"
SERVICE_ERROR = "realtimekit_GenericErrorResponse"
#: The template of the session-details route (the one with a legacy shape).
DETAILS = "/accounts/{account_id}/realtime/kit/{app_id}/sessions/{session_id}"
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


class RealtimeKitDocument(OpenAPIDocument):
    """RealtimeKit's document: an error answer follows the envelope it uses, and a legacy
    details answer :data:`LEGACY_DETAILS`."""

    def schema_for(self, method: str, path: str, status: int, body: Any) -> Schema | None:
        """:data:`GATEWAY_ERROR` or :data:`SERVICE_ERROR` for an error (by the envelope's
        ``errors`` key), else the declared JSON schema (:data:`LEGACY_DETAILS` for a
        legacy details answer)."""
        if status >= 400:
            if isinstance(body, dict) and "errors" in body:
                return self.component(GATEWAY_ERROR)
            return self.component(SERVICE_ERROR)
        declared = self.json_schema(method, path, status)
        data = body.get("data") if isinstance(body, dict) else None
        legacy = (
            declared is not None
            and status == 200
            and self.template_for(path) == DETAILS
            and isinstance(data, dict)
            and "session" in data
            and "id" not in data
        )
        return LEGACY_DETAILS if legacy else declared


DOCUMENT = RealtimeKitDocument(SPEC_PATH, uri=SPEC_URI, prefix=PREFIX)
schema_errors = DOCUMENT.schema_errors
response_errors = DOCUMENT.response_errors
template_for = DOCUMENT.template_for


def spec() -> dict[str, Any]:
    """The document as shipped."""
    return DOCUMENT.spec


__all__ = ["DOCUMENT", "response_errors", "schema_errors", "spec", "template_for"]
