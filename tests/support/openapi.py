"""A vendor's OpenAPI document as a validator of the answers its emulator and cassettes give.

:class:`OpenAPIDocument` loads the copy of the vendor's document that ships with its adapter
(``adapters/<vendor>/openapi.json``), so the tests need nothing outside the repository. It is
validated as JSON Schema 2020-12 through a ``referencing`` registry under :attr:`uri`; OpenAPI
3.0's ``nullable: true`` is rewritten to ``anyOf: [{"type": "null"}, <schema>]`` first (a no-op
for a 3.1 document, which writes null as a type). ``jsonschema`` and ``referencing`` are dev
dependencies, imported on first validation.

What an answer is checked against is the vendor's policy: :meth:`OpenAPIDocument.schema_for`
gives, by default, the JSON schema the operation declares for the status and, for an error
status the document does not declare, :attr:`OpenAPIDocument.error_schema` (the vendor's
error envelope). A vendor subclasses to change that (its envelopes, documented deviations).
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

Schema = dict[str, Any]


def rewrite_nullable(node: Any) -> Any:
    """``node`` with every ``nullable: true`` (OpenAPI 3.0) as ``anyOf [null, <schema>]``; a
    ``nullable`` key whose value is not a boolean (a property of that name) is kept."""
    if isinstance(node, list):
        return [rewrite_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: rewrite_nullable(v)
        for k, v in node.items()
        if not (k == "nullable" and isinstance(v, bool))
    }
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


def json_pointer(*parts: str) -> str:
    """The JSON pointer fragment (``#/a/b~1c``) of a path of keys (RFC 6901 escaping)."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenAPIDocument:
    """One vendor's OpenAPI document: its path templates, operations, declared answers, and a
    validator for any value against any of its schemas.

    ``path`` is the JSON file; ``uri`` the (made-up, stable) base URI its refs resolve under;
    ``prefix`` a path prefix the vendor's URLs carry and the document's paths do not
    (``/client/v4``). Loading and the validator registry are built once per instance.
    """

    #: The schema (a ``components.schemas`` name) of an error answer the document does not
    #: declare for the operation and status; ``None``: such an answer has no schema.
    error_schema: ClassVar[str | None] = None
    #: Whether :meth:`response_errors` refuses a path that is not in the document outright.
    paths_must_be_documented: ClassVar[bool] = False
    #: The statuses whose answer may come with no body at all (:meth:`answer_errors`).
    empty_statuses: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, path: Path, *, uri: str, prefix: str = "") -> None:
        self.path = path
        self.uri = uri
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path.name!r}, uri={self.uri!r})"

    # -- the document --------------------------------------------------------------------------

    @cached_property
    def spec(self) -> dict[str, Any]:
        """The document as shipped (not rewritten)."""
        document: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return document

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        out = []
        for template in self.spec["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            out.append((re.compile(f"^{pattern}$"), template))
        # literal segments first: /sessions/recording/stream before /sessions/recording/{id}
        out.sort(key=lambda t: t[1].count("{"))
        return out

    def template_for(self, path: str) -> str | None:
        """The document's path template a request path matches (:attr:`prefix` stripped), or
        ``None``. A template with fewer parameters wins over one with more."""
        local = path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path
        for pattern, template in self._templates:
            if pattern.match(local):
                return template
        return None

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        """The operation object for a request, or ``None`` when the document has none."""
        template = self.template_for(path)
        found: dict[str, Any] | None = (self.spec["paths"].get(template or "", {}) or {}).get(
            method.lower()
        )
        return found

    def declared_response(
        self, method: str, path: str, status: int
    ) -> tuple[str, dict[str, Any]] | None:
        """(JSON pointer, response object) the operation declares for ``status`` (a response
        given by ``$ref`` is followed to ``components.responses``), or ``None``."""
        template = self.template_for(path)
        op = self.operation(method, path)
        if template is None or op is None:
            return None
        response: dict[str, Any] | None = op["responses"].get(str(status))
        if response is None:
            return None
        if "$ref" in response:
            name = str(response["$ref"]).rsplit("/", 1)[-1]
            return json_pointer("components", "responses", name), self.spec["components"][
                "responses"
            ][name]
        return json_pointer("paths", template, method.lower(), "responses", str(status)), response

    def json_schema(self, method: str, path: str, status: int) -> Schema | None:
        """The schema of the JSON body the document declares for this answer (a component by
        name where the document names one), or ``None`` (undeclared, or not JSON)."""
        found = self.declared_response(method, path, status)
        if found is None:
            return None
        pointer, response = found
        content = (response.get("content") or {}).get("application/json")
        if content is None:
            return None
        schema = content["schema"]
        ref = schema.get("$ref") if isinstance(schema, dict) and len(schema) == 1 else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return self.component(ref.rsplit("/", 1)[-1])
        return self.ref(pointer + "/content/application~1json/schema")

    def binary_allowed(self, method: str, path: str, status: int, content_type: str) -> bool:
        """Whether the document declares a body of ``content_type`` (the media type, without
        parameters) for this answer; a 206 is the declared 200's body, in part."""
        op = self.operation(method, path)
        if op is None:
            return False
        responses = op["responses"]
        response = responses.get(str(status)) or (responses.get("200") if status == 206 else None)
        media_type = content_type.split(";", 1)[0].strip()
        return media_type in ((response or {}).get("content") or {})

    def query_errors(self, method: str, path: str, pairs: list[tuple[str, str]]) -> list[str]:
        """One line per query parameter the operation does not declare (names only)."""
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: not an operation of the document"]
        declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        return [
            f"{method} {path}: undeclared query parameter {k}"
            for k, _ in pairs
            if k not in declared
        ]

    # -- validation ----------------------------------------------------------------------------

    def ref(self, pointer: str) -> Schema:
        """A schema that is the document's node at ``pointer`` (``#/...``)."""
        return {"$ref": self.uri + pointer}

    def component(self, name: str) -> Schema:
        """A schema that is ``components.schemas[name]``."""
        return self.ref(json_pointer("components", "schemas", name))

    @cached_property
    def _registry(self) -> Any:
        import referencing
        import referencing.jsonschema as specs

        resource = referencing.Resource.from_contents(
            rewrite_nullable(self.spec), default_specification=specs.DRAFT202012
        )
        return referencing.Registry().with_resource(self.uri, resource)

    def errors(self, schema: Schema, value: Any) -> list[str]:
        """One line per validation error of ``value`` (``where/in/value: message``, ``$`` for
        the root); formats are checked."""
        import jsonschema  # type: ignore[import-untyped]

        validator = jsonschema.Draft202012Validator(
            schema,
            registry=self._registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
            for e in validator.iter_errors(value)
        ]

    def schema_errors(self, name: str, value: Any) -> list[str]:
        """Validation errors of ``value`` against ``components.schemas[name]``."""
        return self.errors(self.component(name), value)

    def schema_for(self, method: str, path: str, status: int, body: Any) -> Schema | None:
        """The schema a JSON answer must follow; ``None`` when the document gives it none.

        By default: the declared JSON schema; for an error status the operation does not
        declare, or declares with no body at all, :attr:`error_schema`."""
        found = self.declared_response(method, path, status)
        undeclared = found is None or not found[1].get("content")
        if status >= 400 and undeclared and self.error_schema is not None:
            return self.component(self.error_schema)
        return self.json_schema(method, path, status)

    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """One line per way a JSON answer departs from the document (``METHOD path status
        (Schema) where: message``); a line saying so when the document gives it no schema."""
        where = f"{method} {path} {status}"
        if self.paths_must_be_documented and self.template_for(path) is None:
            return [f"{method} {path}: not a path of the document"]
        schema = self.schema_for(method, path, status, body)
        if schema is None:
            return [f"{where}: the document declares no JSON body"]
        ref = str(schema.get("$ref", ""))
        label = f" ({ref.rsplit('/', 1)[-1]})" if "#/components/schemas/" in ref else ""
        return [f"{where}{label} {e}" for e in self.errors(schema, body)]

    def answer_errors(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """One line per way any answer departs from the document: a JSON body (by its
        ``content_type``) through :meth:`response_errors`; no body only for
        :attr:`empty_statuses`; any other body must be declared with its media type."""
        where = f"{method} {path} {status}"
        if content_type.startswith("application/json"):
            try:
                value = json.loads(body)
            except ValueError as exc:
                return [f"{where}: a JSON content type on a body that is not JSON ({exc})"]
            return self.response_errors(method, path, status, value)
        if not body:
            if status in self.empty_statuses:
                return []
            return [f"{where}: an empty answer"]
        if self.binary_allowed(method, path, status, content_type):
            return []
        return [f"{where}: a {content_type or 'untyped'} body the document does not declare"]


__all__ = ["OpenAPIDocument", "Schema", "json_pointer", "rewrite_nullable"]
