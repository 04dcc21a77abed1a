"""Replaying and recording cassettes as httpx transports.

:class:`ReplayTransport` answers requests from a :class:`~convoport.contracts.cassette.Cassette`
and fails loudly (:class:`CassetteMismatch`) on any request the cassette does not hold, naming
the closest recorded request and what differed. :class:`RecordingTransport` wraps a real
transport, forwards every request and keeps a redacted copy of each exchange.

Matching (for each recorded request, on what its ``match`` list names; by default method, URL
and body):

* method: case-insensitive;
* URL: scheme, host, port (default ports filled in) and path exactly; the query as an
  order-insensitive multiset of ``(name, value)`` pairs, so ``status=done&status=error`` is not
  ``status=done``, but ``a=1&b=2`` is ``b=2&a=1``;
* body: ``null`` matches an empty body; JSON is compared as parsed JSON (``1`` and ``1.0`` are
  equal, ``true`` and ``1`` are not); text as text; base64 as bytes; multipart by parsing the
  incoming ``multipart/form-data`` body and comparing field values and, for files, filename,
  content type, SHA-256 and size;
* ``headers:<name>``: the header value as recorded (absent if the recording has none).

Wherever a recorded string (path, query value, header value, JSON string, text body, multipart
field) contains ``[REDACTED]``, that part matches any text: the recorder put it where a
credential was.

The first *unused* matching interaction answers, so repeated requests replay in order.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import attrs
import httpcore
import httpx

from convoport import multipart
from convoport.contracts.cassette import (
    BinaryBody,
    Body,
    Cassette,
    CassetteError,
    Interaction,
    JsonBody,
    MultipartBody,
    MultipartFile,
    RecordedRequest,
    RecordedResponse,
    TextBody,
    is_allowed_header,
    load_cassette,
)
from convoport.redact import REDACTED, SECRET_KEYS, Redactor

#: How many differences a mismatch message lists.
MAX_DIFF_LINES = 10

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CassetteMismatch(AssertionError):
    """A request the cassette does not hold, or recorded interactions nobody requested.

    An ``AssertionError`` on purpose: it is a test failure, never a network error, so no retry
    policy ever repeats it.
    """


# -- multipart ----------------------------------------------------------------------------------


#: One part of a parsed ``multipart/form-data`` body (the one parser is
#: :mod:`convoport.multipart`; these names stay for the kit's users).
MultipartPart = multipart.Part
multipart_boundary = multipart.boundary_of


def parse_multipart(content_type: str | None, body: bytes) -> list[MultipartPart]:
    """Parses a ``multipart/form-data`` body (RFC 7578) into its parts, in order.

    Raises ``ValueError`` (:class:`convoport.multipart.MultipartError`) when the content type
    has no boundary or the body is malformed.
    """
    return multipart.parse(content_type, body)


def multipart_digest(parts: Iterable[MultipartPart]) -> MultipartBody:
    """The cassette form of parsed parts: field values, and digests for files.

    A part is a file when it has a filename, or when its value is not UTF-8.
    """
    fields: dict[str, list[str]] = {}
    files: dict[str, list[MultipartFile]] = {}
    for part in parts:
        if part.filename is None:
            try:
                fields.setdefault(part.name, []).append(part.data.decode("utf-8"))
                continue
            except UnicodeDecodeError:
                pass
        files.setdefault(part.name, []).append(
            MultipartFile(
                filename=part.filename,
                content_type=part.content_type,
                sha256=hashlib.sha256(part.data).hexdigest(),
                size=len(part.data),
            )
        )
    return MultipartBody(
        fields={k: tuple(v) for k, v in fields.items()},
        files={k: tuple(v) for k, v in files.items()},
    )


# -- comparison ---------------------------------------------------------------------------------


def _wild_equal(recorded: str, actual: str) -> bool:
    """Equality where each ``[REDACTED]`` in ``recorded`` stands for any text."""
    if REDACTED not in recorded:
        return recorded == actual
    pattern = "(?s)" + ".*?".join(re.escape(piece) for piece in recorded.split(REDACTED))
    return re.fullmatch(pattern, actual) is not None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def _scalar_equal(got: Any, recorded: Any) -> bool:
    if isinstance(got, bool) or isinstance(recorded, bool):
        return type(got) is type(recorded) and got == recorded
    if isinstance(got, int | float) and isinstance(recorded, int | float):
        return bool(got == recorded)
    if got is None or recorded is None:
        return got is None and recorded is None
    return False


def json_diff(got: Any, recorded: Any, path: str = "$") -> list[str]:
    """The differences between two JSON values as ``"$.a.b[0]: got X, recorded Y"`` lines."""
    out: list[str] = []
    _json_diff(got, recorded, path, out)
    return out


def _json_diff(got: Any, recorded: Any, path: str, out: list[str]) -> None:
    if isinstance(recorded, str) and isinstance(got, str):
        if not _wild_equal(recorded, got):
            out.append(f"{path}: got {_short(got)}, recorded {_short(recorded)}")
    elif isinstance(recorded, dict) and isinstance(got, dict):
        for key in recorded:
            if key not in got:
                out.append(f"{_json_path(path, key)}: missing (recorded {_short(recorded[key])})")
        for key in got:
            if key not in recorded:
                out.append(f"{_json_path(path, key)}: extra (got {_short(got[key])})")
        for key in recorded:
            if key in got:
                _json_diff(got[key], recorded[key], _json_path(path, key), out)
    elif isinstance(recorded, list) and isinstance(got, list):
        if len(got) != len(recorded):
            out.append(f"{path}: got {len(got)} items, recorded {len(recorded)}")
        for index, (g, r) in enumerate(zip(got, recorded, strict=False)):
            _json_diff(g, r, f"{path}[{index}]", out)
    elif not _scalar_equal(got, recorded):
        out.append(f"{path}: got {_short(got)}, recorded {_short(recorded)}")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _origin_text(url: httpx.URL) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}"


def _query_diff(got: list[tuple[str, str]], recorded: list[tuple[str, str]]) -> tuple[int, str]:
    """Matches query pairs as multisets; returns (pairs matched, difference or "")."""
    left = Counter(got)
    wanted = Counter(recorded)
    common = left & wanted
    missing = list((wanted - common).elements())
    extra = list((left - common).elements())
    matched = sum(common.values())
    still_missing: list[tuple[str, str]] = []
    for key, value in missing:
        for index, (extra_key, extra_value) in enumerate(extra):
            if extra_key == key and _wild_equal(value, extra_value):
                del extra[index]
                matched += 1
                break
        else:
            still_missing.append((key, value))
    if not still_missing and not extra:
        return matched, ""

    def show(pairs: list[tuple[str, str]]) -> str:
        return ", ".join(
            f"{k}={REDACTED if k.lower() in SECRET_KEYS else v}" for k, v in sorted(pairs)
        )

    pieces = []
    if still_missing:
        pieces.append(f"missing {show(still_missing)}")
    if extra:
        pieces.append(f"extra {show(extra)}")
    return matched, "query: " + "; ".join(pieces)


@attrs.frozen(kw_only=True)
class _Incoming:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes

    @classmethod
    def of(cls, request: httpx.Request, content: bytes) -> _Incoming:
        return cls(
            method=request.method.upper(),
            url=request.url,
            headers=request.headers,
            content=content,
        )


@attrs.frozen(kw_only=True)
class _Comparison:
    differences: tuple[str, ...]
    score: tuple[int, int, float]

    @property
    def matches(self) -> bool:
        return not self.differences


def _compare(recorded: RecordedRequest, incoming: _Incoming) -> _Comparison:
    differences: list[str] = []
    match_on = recorded.match_on
    method_equal = recorded.method.upper() == incoming.method
    if "method" in match_on and not method_equal:
        differences.append(f"method: got {incoming.method}, recorded {recorded.method.upper()}")
    recorded_url = httpx.URL(recorded.url)
    same_origin = _origin(recorded_url) == _origin(incoming.url)
    same_path = _wild_equal(recorded_url.path, incoming.url.path)
    got_query = incoming.url.params.multi_items()
    want_query = recorded_url.params.multi_items()
    matched, query_difference = _query_diff(got_query, want_query)
    if "url" in match_on:
        if not same_origin:
            differences.append(
                f"origin: got {_origin_text(incoming.url)}, recorded {_origin_text(recorded_url)}"
            )
        if not same_path:
            differences.append(
                f"path: got {_short(incoming.url.path, 120)}, recorded "
                f"{_short(recorded_url.path, 120)}"
            )
        if query_difference:
            differences.append(query_difference)
    body_differences = _body_diff(recorded.body, incoming)
    if "body" in match_on:
        differences.extend(body_differences)
    for entry in match_on:
        if entry.startswith("headers:"):
            name = entry[len("headers:") :]
            want = recorded.headers.get(name)
            got = incoming.headers.get(name)
            if want is None or got is None:
                if want is not got:
                    differences.append(f"header {name}: got {_short(got)}, recorded {_short(want)}")
            elif not _wild_equal(want, got):
                differences.append(f"header {name}: got {_short(got)}, recorded {_short(want)}")
    total_pairs = max(len(got_query), len(want_query), 1)
    overlap = matched / total_pairs + 1.0 / (1 + len(body_differences))
    score = (int(method_equal), int(same_origin) + int(same_path), overlap)
    return _Comparison(differences=tuple(differences), score=score)


def _body_diff(recorded: Body | None, incoming: _Incoming) -> list[str]:
    content = incoming.content
    if recorded is None:
        return [] if not content else [f"body: got {len(content)} bytes, recorded no body"]
    if isinstance(recorded, JsonBody):
        if not content:
            return ["body: got no body, recorded a JSON body"]
        try:
            got = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [f"body: got a body that is not JSON ({exc}), recorded a JSON body"]
        return [f"body: {line}" for line in json_diff(got, recorded.value)]
    if isinstance(recorded, TextBody):
        text = content.decode("utf-8", errors="replace")
        if _wild_equal(recorded.text, text):
            return []
        return [f"body: {_text_difference(text, recorded.text)}"]
    if isinstance(recorded, BinaryBody):
        if content == recorded.data:
            return []
        return [
            f"body: got {len(content)} bytes (sha256 {hashlib.sha256(content).hexdigest()[:12]}), "
            f"recorded {len(recorded.data)} bytes "
            f"(sha256 {hashlib.sha256(recorded.data).hexdigest()[:12]})"
        ]
    content_type = incoming.headers.get("content-type")
    try:
        parts = parse_multipart(content_type, content)
    except ValueError as exc:
        return [f"body: recorded multipart/form-data, got a body that is not ({exc})"]
    return [f"body: {line}" for line in _multipart_diff(multipart_digest(parts), recorded)]


def _text_difference(got: str, recorded: str) -> str:
    if REDACTED in recorded:
        return f"text got {_short(got)}, recorded {_short(recorded)}"
    index = next(
        (i for i, (a, b) in enumerate(zip(got, recorded, strict=False)) if a != b),
        min(len(got), len(recorded)),
    )
    start = max(0, index - 20)
    return (
        f"text differs at character {index}: got {_short(got[start : index + 30])}, "
        f"recorded {_short(recorded[start : index + 30])}"
    )


def _multipart_diff(got: MultipartBody, recorded: MultipartBody) -> list[str]:
    out: list[str] = []
    for name in recorded.fields.keys() | got.fields.keys():
        want, have = recorded.fields.get(name), got.fields.get(name)
        if want is None:
            out.append(f"multipart field {name!r}: extra (got {_short(list(have or ()))})")
        elif have is None:
            out.append(f"multipart field {name!r}: missing (recorded {_short(list(want))})")
        elif len(want) != len(have) or not all(map(_wild_equal, want, have)):
            out.append(
                f"multipart field {name!r}: got {_short(list(have))}, recorded {_short(list(want))}"
            )
    for name in recorded.files.keys() | got.files.keys():
        want_files, have_files = recorded.files.get(name), got.files.get(name)
        if want_files is None:
            out.append(f"multipart file {name!r}: extra")
            continue
        if have_files is None:
            out.append(f"multipart file {name!r}: missing")
            continue
        if len(want_files) != len(have_files):
            out.append(
                f"multipart file {name!r}: got {len(have_files)} files, recorded {len(want_files)}"
            )
        for index, (have_file, want_file) in enumerate(zip(have_files, want_files, strict=False)):
            label = f"multipart file {name!r}" + (f"[{index}]" if len(want_files) > 1 else "")
            for attribute in ("filename", "content_type", "sha256", "size"):
                have_value = getattr(have_file, attribute)
                want_value = getattr(want_file, attribute)
                if have_value != want_value:
                    out.append(
                        f"{label}: {attribute} got {_short(have_value)}, "
                        f"recorded {_short(want_value)}"
                    )
    return sorted(out)


# -- replay -------------------------------------------------------------------------------------


class ReplayStream(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A response body delivered in ``chunk_size`` pieces (all at once when ``None``)."""

    def __init__(self, data: bytes, chunk_size: int | None = None) -> None:
        self._data = data
        self._chunk_size = chunk_size

    def _chunks(self) -> Iterator[bytes]:
        if not self._data:
            return
        size = self._chunk_size or len(self._data)
        for start in range(0, len(self._data), size):
            yield self._data[start : start + size]

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


def build_response(
    recorded: RecordedResponse, request: httpx.Request | None = None
) -> httpx.Response:
    """The ``httpx.Response`` replay sends for a recorded response."""
    content = recorded.content()
    headers = list(recorded.headers.items())
    if "content-length" not in recorded.headers:
        headers.append(("content-length", str(len(content))))
    return httpx.Response(
        recorded.status,
        headers=headers,
        stream=ReplayStream(content, recorded.chunk_size),
        request=request,
    )


class ReplayTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Answers requests from a cassette, strictly (see the module docstring for matching).

    Works as both a sync and an async httpx transport. Raises :class:`CassetteMismatch` for a
    request no unused interaction matches; call :meth:`assert_all_used` at the end of a test.
    ``redactor`` removes known secrets from mismatch messages.
    """

    def __init__(self, cassette: Cassette, *, redactor: Redactor | None = None) -> None:
        self._cassette = cassette
        self._redactor = redactor or Redactor()
        self._used = [False] * len(cassette.interactions)
        self._lock = threading.Lock()

    @classmethod
    def from_path(cls, path: str | Path, *, redactor: Redactor | None = None) -> ReplayTransport:
        """Loads the cassette at ``path`` and replays it."""
        return cls(load_cassette(path), redactor=redactor)

    @property
    def cassette(self) -> Cassette:
        """The cassette being replayed."""
        return self._cassette

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        return build_response(self._consume(_Incoming.of(request, content)), request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        return build_response(self._consume(_Incoming.of(request, content)), request)

    def unused(self) -> list[Interaction]:
        """The interactions no request has consumed yet, in cassette order."""
        with self._lock:
            return [
                i
                for i, used in zip(self._cassette.interactions, self._used, strict=True)
                if not used
            ]

    def assert_all_used(self) -> None:
        """Raises :class:`CassetteMismatch` listing every interaction nobody requested."""
        with self._lock:
            left = [
                (index, interaction)
                for index, (interaction, used) in enumerate(
                    zip(self._cassette.interactions, self._used, strict=True)
                )
                if not used
            ]
        if not left:
            return
        lines = [
            f"{len(left)} recorded interaction(s) in cassette {self._cassette.name} were never "
            "requested:"
        ]
        lines.extend(
            f"  #{index}: {interaction.request.method.upper()} "
            f"{self._redactor.url(interaction.request.url)}"
            for index, interaction in left
        )
        raise CassetteMismatch("\n".join(lines))

    def _consume(self, incoming: _Incoming) -> RecordedResponse:
        with self._lock:
            best: tuple[tuple[int, int, float], int, _Comparison] | None = None
            for index, interaction in enumerate(self._cassette.interactions):
                if self._used[index]:
                    continue
                comparison = _compare(interaction.request, incoming)
                if comparison.matches:
                    self._used[index] = True
                    return interaction.response
                if best is None or comparison.score > best[0]:
                    best = (comparison.score, index, comparison)
        raise self._mismatch(incoming, best)

    def _mismatch(
        self, incoming: _Incoming, best: tuple[tuple[int, int, float], int, _Comparison] | None
    ) -> CassetteMismatch:
        redact = self._redactor
        lines = [
            f"no recorded interaction in cassette {self._cassette.name} matches "
            f"{incoming.method} {redact.url(str(incoming.url))}"
        ]
        if best is None:
            total = len(self._cassette.interactions)
            if total:
                lines.append(
                    f"every recorded interaction ({total}) has already been used: "
                    "the request was not expected (again)"
                )
            else:
                lines.append("the cassette has no interactions")
            return CassetteMismatch("\n".join(lines))
        _, index, comparison = best
        closest = self._cassette.interactions[index].request
        lines.append(
            f"closest unused recorded request (interaction #{index}): "
            f"{closest.method.upper()} {redact.url(closest.url)}"
        )
        lines.append("differences (got = this request, recorded = the cassette):")
        shown = comparison.differences[:MAX_DIFF_LINES]
        lines.extend(f"  - {redact.text(line)}" for line in shown)
        hidden = len(comparison.differences) - len(shown)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
        return CassetteMismatch("\n".join(lines))


# -- recording ----------------------------------------------------------------------------------


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def classify_body(content_type: str | None, content: bytes, *, request: bool) -> Body | None:
    """Chooses how a body is stored from its ``Content-Type`` (``None`` for an empty body)."""
    if not content:
        return None
    mime = _mime(content_type)
    if request and mime == "multipart/form-data":
        try:
            return multipart_digest(parse_multipart(content_type, content))
        except ValueError:
            return BinaryBody(data=content)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return BinaryBody(data=content)
    if mime == "application/json" or mime.endswith("+json"):
        try:
            return JsonBody(value=json.loads(text, parse_constant=_reject_constant))
        except ValueError:
            return TextBody(text=text)
    if mime.startswith("text/") or mime == "application/x-www-form-urlencoded":
        return TextBody(text=text)
    return BinaryBody(data=content)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _redact_json(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if isinstance(item, str) and item and key.lower() in SECRET_KEYS
                else _redact_json(item, redactor)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(item, redactor) for item in value]
    if isinstance(value, str):
        return redactor.text(value)
    return value


def redact_body(body: Body | None, redactor: Redactor) -> Body | None:
    """A body with credentials replaced by ``[REDACTED]`` (binary bodies are kept as they are)."""
    if isinstance(body, JsonBody):
        return JsonBody(value=_redact_json(body.value, redactor))
    if isinstance(body, TextBody):
        return TextBody(text=redactor.text(body.text))
    if isinstance(body, MultipartBody):
        fields = {
            name: tuple(
                REDACTED if name.lower() in SECRET_KEYS and v else redactor.text(v) for v in values
            )
            for name, values in body.fields.items()
        }
        files = {
            name: tuple(
                attrs.evolve(f, filename=None if f.filename is None else redactor.text(f.filename))
                for f in digests
            )
            for name, digests in body.files.items()
        }
        return MultipartBody(fields=fields, files=files)
    return body


def redact_url(url: httpx.URL, redactor: Redactor) -> str:
    """The URL as stored: no user info or fragment, credentials in path and query replaced."""
    path = redactor.text(url.path)
    pairs = url.params.multi_items()
    redacted = [(k, REDACTED if k.lower() in SECRET_KEYS else redactor.text(v)) for k, v in pairs]
    clean = url.copy_with(username=None, password=None, fragment=None)
    if path != url.path:
        clean = clean.copy_with(path=path)
    if redacted != pairs:
        query = urlencode(redacted, safe="[]", quote_via=quote)
        clean = clean.copy_with(query=query.encode("ascii"))
    return str(clean)


def _stored_headers(
    headers: httpx.Headers, redactor: Redactor, *, response: bool
) -> dict[str, str]:
    stored: dict[str, str] = {}
    for name, value in headers.multi_items():
        lower = name.lower()
        if lower == "content-length" or not is_allowed_header(lower, response=response):
            continue
        if lower == "content-type" and _mime(value) == "multipart/form-data":
            value = "multipart/form-data"  # the boundary is random on every request
        value = redactor.text(value)
        stored[lower] = f"{stored[lower]}, {value}" if lower in stored else value
    return stored


#: What a multipart upload's recorder keeps raw (to store a malformed body as base64 instead).
RAW_MULTIPART_LIMIT = 1 << 20
#: A multipart part without a filename longer than this is stored as a file digest.
FIELD_LIMIT = 1 << 16


class _RequestBody:
    """Collects a request body as the inner transport reads it: whole for JSON, text and
    binary bodies (they are stored whole), as field values and SHA-256 digests for
    ``multipart/form-data`` (parsed as it streams: file parts are never kept)."""

    def __init__(self, content_type: str | None) -> None:
        self.content_type = content_type
        self._raw = bytearray()
        self._size = 0
        self._parser: multipart.MultipartParser | None = None
        self._failed = False
        self._parts: list[tuple[multipart.PartHead, Any, int, bytearray | None]] = []
        if _mime(content_type) == "multipart/form-data":
            try:
                self._parser = multipart.MultipartParser(content_type)
            except multipart.MultipartError:
                self._failed = True

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._parser is None or self._size <= RAW_MULTIPART_LIMIT:
            self._raw += chunk
        if self._parser is None or self._failed:
            return
        try:
            events = self._parser.feed(chunk)
        except multipart.MultipartError:
            self._failed = True
            return
        for event in events:
            if isinstance(event, multipart.PartHead):
                keep = None if event.filename is not None else bytearray()
                self._parts.append((event, hashlib.sha256(), 0, keep))
                continue
            head, digest, size, kept = self._parts[-1]
            digest.update(event)
            if kept is not None:
                kept += event
                if len(kept) > FIELD_LIMIT:
                    kept = None
            self._parts[-1] = (head, digest, size + len(event), kept)

    def body(self) -> Body | None:
        if self._parser is None:
            return classify_body(self.content_type, bytes(self._raw), request=True)
        if not self._failed:
            try:
                self._parser.close()
            except multipart.MultipartError:
                self._failed = True
        if self._failed:
            if self._size > RAW_MULTIPART_LIMIT:
                raise CassetteError(
                    f"a malformed multipart upload of {self._size} bytes cannot be recorded "
                    f"(only bodies up to {RAW_MULTIPART_LIMIT} bytes are kept raw)"
                )
            return BinaryBody(data=bytes(self._raw)) if self._raw else None
        fields: dict[str, list[str]] = {}
        files: dict[str, list[MultipartFile]] = {}
        for head, digest, size, kept in self._parts:
            if kept is not None:
                try:
                    fields.setdefault(head.name, []).append(bytes(kept).decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    pass
            files.setdefault(head.name, []).append(
                MultipartFile(
                    filename=head.filename,
                    content_type=head.content_type,
                    sha256=digest.hexdigest(),
                    size=size,
                )
            )
        return MultipartBody(
            fields={k: tuple(v) for k, v in fields.items()},
            files={k: tuple(v) for k, v in files.items()},
        )


class _TeeRequestStream(httpx.AsyncByteStream):
    """The request body as the inner transport reads it, noted on the way."""

    def __init__(self, inner: httpx.AsyncByteStream, sink: _RequestBody, done: Any) -> None:
        self._inner = inner
        self._sink = sink
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._sink.feed(chunk)
            yield chunk
        self._done()

    async def aclose(self) -> None:
        await self._inner.aclose()


class _TeeResponseStream(httpx.AsyncByteStream):
    """The response body passed to the caller chunk by chunk as it arrives; a copy is kept
    for the cassette, stored when the caller closes the response (as far as it was read)."""

    def __init__(self, inner: httpx.AsyncByteStream, done: Any) -> None:
        self._inner = inner
        self._done = done
        self._data = bytearray()
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._data += chunk
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if not self._closed:
                self._closed = True
                self._done(bytes(self._data))


class _SyncToAsync(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        self._inner.close()


@attrs.define
class _Exchange:
    request: RecordedRequest | None = None
    response: RecordedResponse | None = None


# -- WebSocket frames -----------------------------------------------------------------------------


class _FrameRecorder:
    """Parses the bytes of one direction of a WebSocket connection into cassette frames
    (``convoport.contracts.ws`` documents the format): text as JSON when it is a JSON object
    or list, else as text; binary ``send`` frames as digests, ``recv`` frames as base64;
    the first close frame in either direction ends the recording."""

    def __init__(self, session: _WebSocketSession, direction: str) -> None:
        from wsproto.frame_protocol import FrameProtocol

        self._session = session
        self._direction = direction
        # Frames from the client are masked: parse them as the server does, and vice versa.
        self._protocol = FrameProtocol(client=direction == "recv", extensions=[])
        self._text: list[str] = []
        self._binary = bytearray()

    def feed(self, data: bytes) -> None:
        from wsproto.frame_protocol import Opcode, ParseFailed

        if self._session.closed or not data:
            return
        self._protocol.receive_bytes(data)
        try:
            for frame in self._protocol.received_frames():
                if self._session.is_closed():
                    return
                opcode = frame.opcode
                payload: Any = frame.payload
                if opcode is Opcode.CLOSE:
                    code, reason = payload
                    self._session.add(
                        self._direction,
                        "close",
                        {"code": int(code), "reason": self._session.redactor.text(reason or "")},
                    )
                    self._session.closed = True
                    return
                if opcode in (Opcode.PING, Opcode.PONG):
                    continue
                if opcode is Opcode.TEXT or (opcode is Opcode.CONTINUATION and self._text):
                    self._text.append(payload)
                    if frame.message_finished:
                        self._session.add_text(self._direction, "".join(self._text))
                        self._text = []
                    continue
                self._binary += payload
                if frame.message_finished:
                    self._session.add_binary(self._direction, bytes(self._binary))
                    self._binary = bytearray()
        except ParseFailed as exc:
            self._session.add_problem(f"unreadable {self._direction} frame: {exc}")


class _WebSocketSession:
    def __init__(self, url: str, redactor: Redactor) -> None:
        self.url = url
        self.redactor = redactor
        self.frames: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def add(self, direction: str, kind: str, data: Any) -> None:
        self.frames.append({"dir": direction, "type": kind, "data": data})

    def add_text(self, direction: str, text: str) -> None:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict | list):
            self.add(direction, "text", _redact_json(value, self.redactor))
        else:
            self.add(direction, "text", self.redactor.text(text))

    def add_binary(self, direction: str, data: bytes) -> None:
        if direction == "send":
            self.add(
                direction, "binary", {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            )
        else:
            self.add(direction, "binary", base64.b64encode(data).decode("ascii"))

    def add_problem(self, problem: str) -> None:
        self.problems.append(problem)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "frames": list(self.frames)}


class _RecordingNetworkStream(httpcore.AsyncNetworkStream):
    """A WebSocket connection's network stream, with each direction's frames recorded."""

    def __init__(self, inner: Any, session: _WebSocketSession) -> None:
        self._inner = inner
        self._sent = _FrameRecorder(session, "send")
        self._received = _FrameRecorder(session, "recv")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._inner.read(max_bytes, timeout)
        self._received.feed(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._sent.feed(buffer)
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        stream: httpcore.AsyncNetworkStream = await self._inner.start_tls(*args, **kwargs)
        return stream

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _is_websocket(request: httpx.Request) -> bool:
    return (
        request.url.scheme in ("ws", "wss")
        or request.headers.get("upgrade", "").lower() == "websocket"
    )


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards requests to ``inner`` and records a redacted copy of every exchange.

    Nothing is buffered on the caller's behalf (the recorder *tees*): a response body reaches
    the caller chunk by chunk as it arrives (server-sent events, chunked downloads), and a
    streamed request body (a multipart upload, an async generator) reaches the inner transport
    the same way, each noted on the way. A response is stored when the caller closes it, with
    the part of the body the caller read; ``text/event-stream`` responses get
    ``stream_chunk_size`` as their replay ``chunk_size`` (so a replay streams them too).
    Exchanges are kept in the order their requests were sent.

    WebSocket sessions (a ``ws``/``wss`` upgrade answered 101 with a ``network_stream``, as
    httpx-ws uses — over the network or in-process) are recorded frame by frame into the
    cassette's ``"websocket"`` list (the format of :mod:`convoport.contracts.ws`): text frames
    as JSON or text, audio the client sends as SHA-256 digests, binary frames it receives as
    base64, the first close frame last.

    What is stored: allow-listed headers only (``content-length`` is left out: the stored body
    is the decoded one); no URL user info; query parameters named in ``SECRET_KEYS`` as
    ``[REDACTED]``; every secret ``redactor`` knows, and every credential-shaped string, replaced
    in URLs, text frames and text, JSON and multipart bodies (JSON values under keys in
    ``SECRET_KEYS`` too). Multipart uploads are stored as field values and file digests, never
    raw. ``lost_response``: what to store when the inner transport raises (a response lost on
    the way, e.g. the gateway's 504); by default such an exchange is not stored.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        redactor: Redactor | None = None,
        lost_response: RecordedResponse | None = None,
        stream_chunk_size: int | None = None,
    ):
        self._inner = inner
        self._redactor = redactor or Redactor()
        self._lost = lost_response
        self._chunk_size = stream_chunk_size
        self._exchanges: list[_Exchange] = []
        self._websockets: list[_WebSocketSession] = []
        self._lock = threading.Lock()

    @property
    def redactor(self) -> Redactor:
        """The redactor applied to everything stored (add secrets to it as they appear)."""
        return self._redactor

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        """The finished exchanges so far, in the order their requests were sent."""
        with self._lock:
            return tuple(
                Interaction(request=e.request, response=e.response)
                for e in self._exchanges
                if e.request is not None and e.response is not None
            )

    @property
    def open_exchanges(self) -> int:
        """How many exchanges are still streaming (their responses not closed yet)."""
        with self._lock:
            return sum(1 for e in self._exchanges if e.request is None or e.response is None)

    @property
    def websocket_sessions(self) -> list[dict[str, Any]]:
        """The recorded WebSocket sessions as the cassette's ``"websocket"`` value."""
        with self._lock:
            return [s.to_json() for s in self._websockets]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _is_websocket(request):
            return await self._websocket(request)
        exchange = _Exchange()
        with self._lock:
            self._exchanges.append(exchange)
        url = redact_url(request.url, self._redactor)
        headers = _stored_headers(request.headers, self._redactor, response=False)
        sink = _RequestBody(request.headers.get("content-type"))

        def request_done() -> None:
            if exchange.request is None:
                exchange.request = RecordedRequest(
                    method=request.method.upper(),
                    url=url,
                    headers=headers,
                    body=redact_body(sink.body(), self._redactor),
                )

        try:
            content = request.content
        except httpx.RequestNotRead:
            stream = request.stream
            inner = stream if isinstance(stream, httpx.AsyncByteStream) else None
            if inner is None:
                assert isinstance(stream, httpx.SyncByteStream)
                inner = _SyncToAsync(stream)
            request.stream = _TeeRequestStream(inner, sink, request_done)
        else:
            sink.feed(content)
            request_done()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            request_done()
            with self._lock:
                if self._lost is not None:
                    exchange.response = self._lost
                else:
                    self._exchanges.remove(exchange)
            raise
        request_done()  # whatever of a streamed body the server read before it answered
        status = response.status_code
        response_headers = response.headers
        stored_headers = _stored_headers(response_headers, self._redactor, response=True)
        event_stream = _mime(response_headers.get("content-type")) == "text/event-stream"

        def response_done(raw: bytes) -> None:
            # Decode (gzip, br, ...) the way a client would, for the stored copy.
            try:
                content = httpx.Response(status, headers=response_headers, content=raw).content
            except httpx.DecodingError:
                content = raw
            body = redact_body(
                classify_body(response_headers.get("content-type"), content, request=False),
                self._redactor,
            )
            headers = dict(stored_headers)
            declared = response_headers.get("content-length", "")
            if (
                declared.isdigit()
                and int(declared) > len(raw)
                and "content-encoding" not in response_headers
            ):
                headers["content-length"] = declared  # the body ended early: keep it so
            exchange.response = RecordedResponse(
                status=status,
                headers=headers,
                body=_response_body(body),
                chunk_size=self._chunk_size if event_stream and content else None,
            )

        stream = response.stream
        tee_inner = stream if isinstance(stream, httpx.AsyncByteStream) else None
        if tee_inner is None:
            assert isinstance(stream, httpx.SyncByteStream)
            tee_inner = _SyncToAsync(stream)
        return httpx.Response(
            status,
            headers=response_headers,
            stream=_TeeResponseStream(tee_inner, response_done),
            extensions=response.extensions,
            request=request,
        )

    async def _websocket(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        network = response.extensions.get("network_stream")
        if response.status_code != 101 or network is None:
            return response  # a refused upgrade: nothing a WebSocket replay could play
        session = _WebSocketSession(redact_url(request.url, self._redactor), self._redactor)
        with self._lock:
            self._websockets.append(session)
        extensions = {
            **response.extensions,
            "network_stream": _RecordingNetworkStream(network, session),
        }
        return httpx.Response(
            101,
            headers=response.headers,
            stream=response.stream,
            extensions=extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()

    def cassette(self, meta: Mapping[str, Any] | None = None) -> Cassette:
        """A cassette holding everything recorded so far (finished exchanges, and every
        WebSocket session under ``"websocket"``)."""
        websockets = self.websocket_sessions
        extensions = {"websocket": websockets} if websockets else {}
        return Cassette(
            meta=dict(meta or {}), interactions=self.interactions, extensions=extensions
        )

    def save(self, path: str | Path, meta: Mapping[str, Any] | None = None) -> Cassette:
        """Writes the recorded cassette to ``path`` and returns it. Raises
        :class:`~convoport.contracts.cassette.CassetteError` while an exchange is still
        streaming (close every response first) or when a WebSocket frame was unreadable."""
        if self.open_exchanges:
            raise CassetteError(
                f"{self.open_exchanges} exchange(s) are still streaming: close their responses "
                "before saving the cassette",
                path=path,
            )
        problems = [p for s in self._websockets for p in s.problems]
        if problems:
            raise CassetteError("WebSocket recording failed: " + "; ".join(problems), path=path)
        cassette = attrs.evolve(self.cassette(meta), path=Path(path))
        cassette.save(path)
        return cassette


def _response_body(body: Body | None) -> JsonBody | TextBody | BinaryBody | None:
    assert not isinstance(body, MultipartBody)  # classify_body(request=False) never makes one
    return body


__all__ = [
    "FIELD_LIMIT",
    "MAX_DIFF_LINES",
    "RAW_MULTIPART_LIMIT",
    "CassetteMismatch",
    "MultipartPart",
    "RecordingTransport",
    "ReplayStream",
    "ReplayTransport",
    "build_response",
    "classify_body",
    "json_diff",
    "multipart_boundary",
    "multipart_digest",
    "parse_multipart",
    "redact_body",
    "redact_url",
]
