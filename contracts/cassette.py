"""The cassette format: recorded HTTP exchanges the contract kit replays.

This docstring is the reference for plugin authors who write or review cassettes.

A cassette is one UTF-8 JSON file per scenario (``list_sessions_two_pages``,
``get_session_completed``, ...). It is written pretty-printed with two-space indentation,
sorted keys, non-ASCII characters kept as they are and a trailing newline, so that loading and
saving a cassette gives back the same bytes and diffs stay small.

Version 1
=========

::

    {
      "convoport_cassette": 1,
      "meta": {...},
      "interactions": [
        {"request": {...}, "response": {...}},
        ...
      ]
    }

``convoport_cassette`` (required)
    The format version, the integer ``1``. A file without it is not a cassette; a file with
    another value is refused with a message saying which versions this convoport reads.

``meta`` (required, an object)
    Free-form. The kit reads these keys:

    * ``provider`` -- the backend's name (``"gladia"``);
    * ``scenario`` -- the kit scenario the cassette plays (``"get_session_completed"``);
    * ``source`` -- where the exchanges come from. Cassettes written by hand from the vendor's
      reference say so: ``"written from the vendor reference ... (no vendor account was
      used)"``;
    * ``args`` -- the arguments the kit scenario passes to the client (any JSON).

``interactions`` (required, a list, possibly empty)
    The exchanges in the order they happened. Each is ``{"request": ..., "response": ...}``.

Any other top-level key is kept as raw JSON (see :attr:`Cassette.extensions`) and written back
unchanged. ``"websocket"`` is reserved for WebSocket sessions (an ordered list of frames).

Requests
--------

``method`` (required)
    The HTTP method (``"GET"``). Compared case-insensitively.
``url`` (required)
    The absolute URL, query included: ``"https://api.gladia.io/v2/live?limit=2&status=done"``.
    No user info (``user:password@``).
``headers`` (required, an object, may be empty)
    Only allow-listed headers (:data:`REQUEST_HEADERS`), with lower-case names.
``body`` (required, ``null`` or a body object, see below)
    ``null`` means the request had no body.
``match`` (optional, a list)
    What replay compares, from ``"method"``, ``"url"``, ``"body"`` and ``"headers:<name>"``
    (lower-case header name). Without it: ``["method", "url", "body"]``.

Responses
---------

``status`` (required)
    The HTTP status code, an integer from 100 to 599.
``headers`` (required, an object, may be empty)
    Only allow-listed headers (:data:`RESPONSE_HEADERS`), with lower-case names. Replay sends
    them as written (a ``content-type`` is not invented) and adds ``content-length`` when it is
    missing; a ``content-length`` given here is sent as is: equal to the bytes replay sends
    (JSON bodies are sent compactly: ``json.dumps(value, separators=(",", ":"),
    ensure_ascii=False)``), or larger for a body that ended early (the recorder keeps the
    vendor's ``content-length`` only then: a download cut short mid-stream).
``body`` (required, ``null`` or a body object, not multipart)
``chunk_size`` (optional, a positive integer)
    Replay delivers the body in pieces of this many bytes (to exercise streaming readers).
    Without it the body arrives in one piece.

Bodies
------

A body object has exactly one of these keys:

``{"json": <any JSON>}``
    A JSON document, stored as JSON (``{"json": null}`` is the JSON document ``null``, which is
    not the same as no body).
``{"text": "..."}``
    A text body: server-sent events, CSV, plain text, form-encoded bodies. Stored as the text.
``{"base64": "..."}``
    Any other body (audio, archives), standard base64 with padding.
``{"multipart": {"fields": {...}, "files": {...}}}`` (requests only)
    A ``multipart/form-data`` upload. ``fields`` maps a field name to its value, a string (or a
    list of strings when the name is repeated). ``files`` maps a field name to a file digest
    (or a list of them when the name is repeated)::

        {"filename": "chunk-0", "content_type": "application/octet-stream",
         "sha256": "<64 lower-case hex digits>", "size": 123}

    ``filename`` and ``content_type`` may be ``null``. File contents are never stored, only
    their digest and size. A part is a file when its ``Content-Disposition`` has a filename.

The recorder chooses the kind from the ``Content-Type``: ``application/json`` and ``*/*+json``
are stored as JSON (as text if they do not parse), ``text/*`` and
``application/x-www-form-urlencoded`` as text, ``multipart/form-data`` as multipart, anything
else (and text that is not UTF-8) as base64.

Secrets
-------

A cassette never holds a credential. Headers outside the allow-list (notably
``Authorization``, ``x-gladia-key`` and every name in ``convoport.redact.SECRET_HEADERS``) are
never written, and :func:`load_cassette` refuses them. Credentials inside URLs and bodies are
replaced by the literal ``"[REDACTED]"`` (``convoport.redact.REDACTED``), which replay treats
as a wildcard: a recorded string containing ``[REDACTED]`` matches any string that has the rest
of the recorded text around it. Hand-written cassettes may use placeholders instead
(``fake-...``, ``test-...``, ``example...``); ``convoport.contracts.scan`` flags anything else.

Replay matching
---------------

See ``convoport.contracts.transport.ReplayTransport``: methods compare case-insensitively;
scheme, host, port and path exactly; the query as an order-insensitive multiset of
``(name, value)`` pairs (repeated names matter); JSON bodies as parsed JSON, text as text,
base64 as bytes, multipart by field values and file digests. The first unused interaction that
matches answers, so a request recorded twice (a 429, then a 200) replays in order.

Example
-------

::

    {
      "convoport_cassette": 1,
      "interactions": [
        {
          "request": {
            "body": null,
            "headers": {"accept": "application/json"},
            "method": "GET",
            "url": "https://api.gladia.io/v2/live/abc"
          },
          "response": {
            "body": {"json": {"id": "abc", "status": "done"}},
            "headers": {"content-type": "application/json"},
            "status": 200
          }
        }
      ],
      "meta": {"provider": "gladia", "scenario": "get_session_completed",
               "source": "written from the vendor reference (no vendor account was used)"}
    }
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import attrs

from convoport.errors import ConvoportError

#: The version this module writes.
CASSETTE_VERSION = 1
#: The versions this module reads.
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
#: The top-level key that holds the version and marks a JSON file as a cassette.
VERSION_KEY = "convoport_cassette"

#: Header names (lower case) a cassette may hold on requests and responses.
ALLOWED_HEADERS = frozenset(
    {
        "content-type",
        "content-disposition",
        "retry-after",
        "location",
        "x-request-id",
        "request-id",
        "cf-ray",
        "accept",
        "ratelimit",
        "ratelimit-policy",
        "content-range",
        "accept-ranges",
        "etag",
    }
)
#: Header-name prefixes (lower case) a cassette may hold on requests and responses.
ALLOWED_HEADER_PREFIXES: tuple[str, ...] = ("x-ratelimit-",)
#: Headers allowed on responses only.
RESPONSE_ONLY_HEADERS = frozenset({"content-length"})
#: Every header name allowed on a recorded request.
REQUEST_HEADERS = ALLOWED_HEADERS
#: Every header name allowed on a recorded response (plus :data:`ALLOWED_HEADER_PREFIXES`).
RESPONSE_HEADERS = ALLOWED_HEADERS | RESPONSE_ONLY_HEADERS

#: What replay compares when a request has no ``match`` list.
DEFAULT_MATCH: tuple[str, ...] = ("method", "url", "body")

_BODY_KINDS = ("json", "text", "base64", "multipart")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_allowed_header(name: str, *, response: bool) -> bool:
    """Whether a cassette may hold the header ``name`` (any case) on a request or response."""
    lower = name.lower()
    if lower in ALLOWED_HEADERS or lower.startswith(ALLOWED_HEADER_PREFIXES):
        return True
    return response and lower in RESPONSE_ONLY_HEADERS


class CassetteError(ConvoportError):
    """A cassette file cannot be read: not JSON, wrong version, or not the documented shape.

    ``path`` is the file (``None`` when the text did not come from a file).
    """

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None):
        self.path = path
        super().__init__(message, hint=hint)


# -- bodies -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class JsonBody:
    """A JSON document (``value`` is any JSON value, ``None`` for the document ``null``)."""

    value: Any

    def to_bytes(self) -> bytes:
        """The body as sent on replay: compact JSON, UTF-8."""
        return json.dumps(self.value, separators=(",", ":"), ensure_ascii=False).encode()


@attrs.frozen(kw_only=True)
class TextBody:
    """A text body (SSE, CSV, plain text, form-encoded)."""

    text: str

    def to_bytes(self) -> bytes:
        """The body as sent on replay: UTF-8."""
        return self.text.encode()


@attrs.frozen(kw_only=True)
class BinaryBody:
    """Any other body, stored as base64."""

    data: bytes

    def to_bytes(self) -> bytes:
        """The body as sent on replay."""
        return self.data


@attrs.frozen(kw_only=True)
class MultipartFile:
    """The digest of one file part of a ``multipart/form-data`` body."""

    filename: str | None
    content_type: str | None
    sha256: str
    size: int


@attrs.frozen(kw_only=True)
class MultipartBody:
    """A ``multipart/form-data`` request body: field values and file digests, in order.

    Each name maps to a tuple because a form may repeat a name.
    """

    fields: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    files: Mapping[str, tuple[MultipartFile, ...]] = attrs.field(factory=dict)


#: A request or response body.
Body: TypeAlias = JsonBody | TextBody | BinaryBody | MultipartBody


# -- interactions -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One recorded request. ``match`` is ``None`` for the default (:data:`DEFAULT_MATCH`)."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: Body | None = None
    match: tuple[str, ...] | None = None

    @property
    def match_on(self) -> tuple[str, ...]:
        """What replay compares for this request."""
        return DEFAULT_MATCH if self.match is None else self.match


@attrs.frozen(kw_only=True)
class RecordedResponse:
    """One recorded response. ``chunk_size`` splits the replayed body into pieces."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: JsonBody | TextBody | BinaryBody | None = None
    chunk_size: int | None = None

    def content(self) -> bytes:
        """The body bytes replay sends."""
        return b"" if self.body is None else self.body.to_bytes()


@attrs.frozen(kw_only=True)
class Interaction:
    """A request and the response it received."""

    request: RecordedRequest
    response: RecordedResponse


@attrs.frozen(kw_only=True)
class Cassette:
    """A loaded cassette.

    ``extensions`` holds unknown top-level keys as raw JSON (``"websocket"`` for instance) so
    they survive a load and a save. ``path`` is the file the cassette came from, for messages;
    it is not part of the format and not compared.
    """

    meta: Mapping[str, Any] = attrs.field(factory=dict)
    interactions: tuple[Interaction, ...] = ()
    extensions: Mapping[str, Any] = attrs.field(factory=dict)
    version: int = CASSETTE_VERSION
    path: Path | None = attrs.field(default=None, eq=False)

    @property
    def name(self) -> str:
        """The file name for messages (``"<memory>"`` when the cassette has no file)."""
        return str(self.path) if self.path is not None else "<memory>"

    def to_json(self) -> dict[str, Any]:
        """The cassette as the JSON value the file holds."""
        document: dict[str, Any] = dict(self.extensions)
        document[VERSION_KEY] = self.version
        document["meta"] = dict(self.meta)
        document["interactions"] = [_interaction_to_json(i) for i in self.interactions]
        return document

    def dumps(self) -> str:
        """The file text: indented by two spaces, sorted keys, a trailing newline."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        """Writes the cassette to ``path`` (UTF-8), creating parent folders."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.dumps(), encoding="utf-8", newline="\n")


# -- writing ------------------------------------------------------------------------------------


def body_to_json(body: Body | None) -> dict[str, Any] | None:
    """The JSON form of a body (``None`` for no body)."""
    if body is None:
        return None
    if isinstance(body, JsonBody):
        return {"json": body.value}
    if isinstance(body, TextBody):
        return {"text": body.text}
    if isinstance(body, BinaryBody):
        return {"base64": base64.b64encode(body.data).decode("ascii")}
    fields = {k: (v[0] if len(v) == 1 else list(v)) for k, v in body.fields.items()}
    files: dict[str, Any] = {}
    for name, digests in body.files.items():
        rendered = [_file_to_json(d) for d in digests]
        files[name] = rendered[0] if len(rendered) == 1 else rendered
    return {"multipart": {"fields": fields, "files": files}}


def _file_to_json(digest: MultipartFile) -> dict[str, Any]:
    return {
        "filename": digest.filename,
        "content_type": digest.content_type,
        "sha256": digest.sha256,
        "size": digest.size,
    }


def _interaction_to_json(interaction: Interaction) -> dict[str, Any]:
    req = interaction.request
    request: dict[str, Any] = {
        "method": req.method,
        "url": req.url,
        "headers": dict(req.headers),
        "body": body_to_json(req.body),
    }
    if req.match is not None:
        request["match"] = list(req.match)
    resp = interaction.response
    response: dict[str, Any] = {
        "status": resp.status,
        "headers": dict(resp.headers),
        "body": body_to_json(resp.body),
    }
    if resp.chunk_size is not None:
        response["chunk_size"] = resp.chunk_size
    return {"request": request, "response": response}


# -- reading ------------------------------------------------------------------------------------


def load_cassette(path: str | Path) -> Cassette:
    """Reads and validates the cassette at ``path``.

    Raises :class:`CassetteError` naming the file (and the interaction, when one is wrong).
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cannot read cassette {source}: {exc}", path=source) from exc
    except UnicodeDecodeError as exc:
        raise CassetteError(f"cassette {source} is not UTF-8: {exc}", path=source) from exc
    return loads_cassette(text, path=source)


def loads_cassette(text: str, *, path: str | Path | None = None) -> Cassette:
    """Parses and validates cassette text; ``path`` only names the source in messages."""
    where = str(path) if path is not None else "<memory>"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CassetteError(
            f"cassette {where} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}",
            path=path,
        ) from exc
    return cassette_from_json(document, path=path)


def cassette_from_json(document: Any, *, path: str | Path | None = None) -> Cassette:
    """Validates a parsed cassette document and builds the :class:`Cassette`."""
    where = str(path) if path is not None else "<memory>"
    supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    if not isinstance(document, dict):
        raise CassetteError(
            f"{where} is not a convoport cassette: the top level is not a JSON object", path=path
        )
    if VERSION_KEY not in document:
        raise CassetteError(
            f"{where} is not a convoport cassette: the version key {VERSION_KEY!r} is missing "
            f"(supported versions: {supported})",
            path=path,
        )
    version = document[VERSION_KEY]
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise CassetteError(
            f"{where} is cassette format version {version!r}, which this convoport cannot read "
            f"(supported versions: {supported})",
            path=path,
            hint="upgrade convoport, or re-record the cassette",
        )
    for key in ("meta", "interactions"):
        if key not in document:
            raise CassetteError(f"cassette {where}: the required key {key!r} is missing", path=path)
    meta = document["meta"]
    if not isinstance(meta, dict):
        raise CassetteError(f"cassette {where}: 'meta' must be an object", path=path)
    raw_interactions = document["interactions"]
    if not isinstance(raw_interactions, list):
        raise CassetteError(f"cassette {where}: 'interactions' must be a list", path=path)
    interactions = tuple(
        _interaction_from_json(item, _Where(where, path, index))
        for index, item in enumerate(raw_interactions)
    )
    extensions = {
        k: v for k, v in document.items() if k not in (VERSION_KEY, "meta", "interactions")
    }
    return Cassette(
        meta=meta,
        interactions=interactions,
        extensions=extensions,
        version=version,
        path=Path(path) if path is not None else None,
    )


@attrs.frozen
class _Where:
    name: str
    path: str | Path | None
    index: int

    def error(self, part: str, message: str) -> CassetteError:
        label = f"interaction #{self.index}" + (f" {part}" if part else "")
        return CassetteError(f"cassette {self.name}, {label}: {message}", path=self.path)


def _interaction_from_json(item: Any, where: _Where) -> Interaction:
    if not isinstance(item, dict):
        raise where.error("", "must be an object with 'request' and 'response'")
    _check_keys(item, required=("request", "response"), optional=(), where=where, part="")
    return Interaction(
        request=_request_from_json(item["request"], where),
        response=_response_from_json(item["response"], where),
    )


def _check_keys(
    obj: dict[str, Any],
    *,
    required: Sequence[str],
    optional: Sequence[str],
    where: _Where,
    part: str,
) -> None:
    for key in required:
        if key not in obj:
            raise where.error(part, f"the required key {key!r} is missing")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(repr(k) for k in (*required, *optional))
        raise where.error(
            part, f"unknown key(s) {', '.join(map(repr, unknown))} (allowed: {allowed})"
        )


def _request_from_json(obj: Any, where: _Where) -> RecordedRequest:
    part = "request"
    if not isinstance(obj, dict):
        raise where.error(part, "must be an object")
    _check_keys(
        obj,
        required=("method", "url", "headers", "body"),
        optional=("match",),
        where=where,
        part=part,
    )
    method = obj["method"]
    if not isinstance(method, str) or not method.strip():
        raise where.error(part, "'method' must be a non-empty string")
    url = obj["url"]
    if not isinstance(url, str):
        raise where.error(part, "'url' must be a string")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise where.error(part, f"'url' is not a URL: {exc}") from exc
    if not parts.scheme or not parts.hostname:
        raise where.error(part, f"'url' must be absolute (scheme and host), got {url!r}")
    if "@" in parts.netloc:
        raise where.error(part, "'url' must not carry user info (user:password@)")
    headers = _headers_from_json(obj["headers"], where, part, response=False)
    body = _body_from_json(obj["body"], where, part, allow_multipart=True)
    match: tuple[str, ...] | None = None
    if "match" in obj:
        raw_match = obj["match"]
        if not isinstance(raw_match, list) or not all(isinstance(m, str) for m in raw_match):
            raise where.error(part, "'match' must be a list of strings")
        for entry in raw_match:
            if entry in DEFAULT_MATCH:
                continue
            if entry.startswith("headers:") and entry[8:] and entry[8:] == entry[8:].lower():
                continue
            raise where.error(
                part,
                f"'match' entry {entry!r} is not one of 'method', 'url', 'body', "
                "'headers:<lower-case name>'",
            )
        match = tuple(raw_match)
    return RecordedRequest(method=method, url=url, headers=headers, body=body, match=match)


def _response_from_json(obj: Any, where: _Where) -> RecordedResponse:
    part = "response"
    if not isinstance(obj, dict):
        raise where.error(part, "must be an object")
    _check_keys(
        obj,
        required=("status", "headers", "body"),
        optional=("chunk_size",),
        where=where,
        part=part,
    )
    status = obj["status"]
    if type(status) is not int or not 100 <= status <= 599:
        raise where.error(part, f"'status' must be an integer from 100 to 599, got {status!r}")
    headers = _headers_from_json(obj["headers"], where, part, response=True)
    body = _body_from_json(obj["body"], where, part, allow_multipart=False)
    assert not isinstance(body, MultipartBody)
    chunk_size: int | None = None
    if "chunk_size" in obj:
        chunk_size = obj["chunk_size"]
        if type(chunk_size) is not int or chunk_size < 1:
            raise where.error(part, f"'chunk_size' must be a positive integer, got {chunk_size!r}")
    return RecordedResponse(status=status, headers=headers, body=body, chunk_size=chunk_size)


def _headers_from_json(obj: Any, where: _Where, part: str, *, response: bool) -> dict[str, str]:
    if not isinstance(obj, dict):
        raise where.error(part, "'headers' must be an object")
    headers: dict[str, str] = {}
    for name, value in obj.items():
        if name != name.lower():
            raise where.error(part, f"header name {name!r} must be lower case")
        if not isinstance(value, str):
            raise where.error(part, f"header {name!r} must have a string value")
        if not is_allowed_header(name, response=response):
            raise where.error(
                part,
                f"header {name!r} is not in the allow-list "
                f"({', '.join(sorted(RESPONSE_HEADERS if response else REQUEST_HEADERS))}, "
                "x-ratelimit-*); credentials and other headers are never stored",
            )
        headers[name] = value
    return headers


def _body_from_json(obj: Any, where: _Where, part: str, *, allow_multipart: bool) -> Body | None:
    if obj is None:
        return None
    kinds = _BODY_KINDS if allow_multipart else _BODY_KINDS[:3]
    expected = ", ".join(repr(k) for k in kinds)
    if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in kinds:
        shown = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise where.error(
            part, f"'body' must be null or an object with exactly one of {expected}, got {shown}"
        )
    kind, value = next(iter(obj.items()))
    if kind == "json":
        return JsonBody(value=value)
    if kind == "text":
        if not isinstance(value, str):
            raise where.error(part, "a 'text' body must be a string")
        return TextBody(text=value)
    if kind == "base64":
        if not isinstance(value, str):
            raise where.error(part, "a 'base64' body must be a string")
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise where.error(part, f"the 'base64' body is not valid base64: {exc}") from exc
        return BinaryBody(data=data)
    return _multipart_from_json(value, where, part)


def _multipart_from_json(obj: Any, where: _Where, part: str) -> MultipartBody:
    if not isinstance(obj, dict) or set(obj) - {"fields", "files"}:
        raise where.error(part, "a 'multipart' body must be an object with 'fields' and 'files'")
    raw_fields = obj.get("fields", {})
    raw_files = obj.get("files", {})
    if not isinstance(raw_fields, dict) or not isinstance(raw_files, dict):
        raise where.error(part, "multipart 'fields' and 'files' must be objects")
    fields: dict[str, tuple[str, ...]] = {}
    for name, value in raw_fields.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise where.error(
                part, f"multipart field {name!r} must be a string or a non-empty list of strings"
            )
        fields[name] = tuple(values)
    files: dict[str, tuple[MultipartFile, ...]] = {}
    for name, value in raw_files.items():
        entries = value if isinstance(value, list) else [value]
        if not entries:
            raise where.error(part, f"multipart file {name!r} must not be an empty list")
        files[name] = tuple(_file_from_json(e, name, where, part) for e in entries)
    return MultipartBody(fields=fields, files=files)


def _file_from_json(obj: Any, name: str, where: _Where, part: str) -> MultipartFile:
    keys = {"filename", "content_type", "sha256", "size"}
    if not isinstance(obj, dict) or set(obj) != keys:
        raise where.error(
            part, f"multipart file {name!r} must be an object with exactly {sorted(keys)}"
        )
    filename, content_type = obj["filename"], obj["content_type"]
    if not (filename is None or isinstance(filename, str)):
        raise where.error(part, f"multipart file {name!r}: 'filename' must be a string or null")
    if not (content_type is None or isinstance(content_type, str)):
        raise where.error(part, f"multipart file {name!r}: 'content_type' must be a string or null")
    sha256 = obj["sha256"]
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise where.error(
            part, f"multipart file {name!r}: 'sha256' must be 64 lower-case hex digits"
        )
    size = obj["size"]
    if type(size) is not int or size < 0:
        raise where.error(part, f"multipart file {name!r}: 'size' must be a non-negative integer")
    return MultipartFile(filename=filename, content_type=content_type, sha256=sha256, size=size)


__all__ = [
    "ALLOWED_HEADERS",
    "ALLOWED_HEADER_PREFIXES",
    "CASSETTE_VERSION",
    "DEFAULT_MATCH",
    "REQUEST_HEADERS",
    "RESPONSE_HEADERS",
    "SUPPORTED_VERSIONS",
    "VERSION_KEY",
    "BinaryBody",
    "Body",
    "Cassette",
    "CassetteError",
    "Interaction",
    "JsonBody",
    "MultipartBody",
    "MultipartFile",
    "RecordedRequest",
    "RecordedResponse",
    "TextBody",
    "body_to_json",
    "cassette_from_json",
    "is_allowed_header",
    "load_cassette",
    "loads_cassette",
]
