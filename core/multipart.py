"""``multipart/form-data`` (RFC 7578): one parser and one writer for every adapter, emulator
and the test kit.

Parsing:

* :func:`parse` — a whole body (``bytes``) into its :class:`Part` list, in order;
* :func:`iter_parts` — a streamed body (async chunks in): yields ``(head, None)`` when a part
  starts, then ``(head, piece)`` for each piece of its data. It holds at most one network read
  plus a delimiter's length (and a part's headers, at most ``max_header_bytes``) in memory, so
  a file part of any size passes through in constant memory.

Both run the same state machine (:class:`MultipartParser`, fed bytes, returning events).
Malformed input raises :class:`MultipartError` — a :class:`~convoport.errors.ConvoportError`
and a ``ValueError`` — naming what was wrong.

Writing:

* :class:`MultipartWriter` — fields and file parts (a file's content is ``bytes`` or async
  chunks) out as async chunks, with its boundary, ``Content-Type`` and, when every size is
  known, ``Content-Length``. File contents are streamed as they are read, never buffered.
  The wire format is exactly what httpx writes for ``data=``/``files=`` (HTML5 form-data
  parameter quoting, ``\\r\\n`` after each part's data, ``--boundary--\\r\\n`` at the end).
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from typing import Final
from urllib.parse import unquote

import attrs

from convoport.errors import ConvoportError

#: The largest header block of one part the parser accepts, in bytes.
MAX_HEADER_BYTES: Final = 16 * 1024
#: The longest boundary RFC 2046 allows, in characters.
MAX_BOUNDARY_CHARS: Final = 70
#: The longest transport padding accepted after a boundary, in bytes.
_MAX_BOUNDARY_LINE: Final = 1024


class MultipartError(ConvoportError, ValueError):
    """A ``multipart/form-data`` body or content type that cannot be read.

    A ``ValueError`` too, so a caller that treats any unreadable body alike may catch that.
    An adapter reading a vendor's answer turns it into ``MalformedResponse``; an emulator into
    a 400.
    """


# -- header parameters ------------------------------------------------------------------------

_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_HTML5_ESCAPE = re.compile(r"%(22|[01][0-9A-Fa-f])")


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Splits ``form-data; name="a"; filename="b"`` into the lower-cased main value and its
    parameters (names lower-cased; quoted values unquoted; HTML5 ``%22``/``%0A`` escapes and
    RFC 5987 ``name*=utf-8''...`` values decoded; the ``*`` form wins over the plain one)."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            # The HTML5 form encoding (used by browsers and httpx) percent-escapes quotes and
            # control characters inside parameters.
            raw = _HTML5_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
        if key.endswith("*"):
            charset, _, encoded = raw.partition("'")
            _, _, encoded = encoded.partition("'")
            try:
                raw = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
            params[key[:-1]] = raw
        else:
            params.setdefault(key, raw)
    return main.strip().lower(), params


def boundary_of(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` content type, or ``None``."""
    if not content_type:
        return None
    main, params = header_params(content_type)
    if main != "multipart/form-data":
        return None
    return params.get("boundary") or None


# -- parsed parts -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PartHead:
    """The headers of one part: its form ``name``, ``filename`` (``None`` for a plain field),
    ``content_type`` (``None`` when the part has none) and every header (names lower-cased)."""

    name: str
    filename: str | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def is_file(self) -> bool:
        """Whether the part carries a filename (a file upload rather than a field)."""
        return self.filename is not None


@attrs.frozen(kw_only=True)
class Part:
    """One whole part of a parsed body: its head's fields and its ``data``."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def text(self) -> str:
        """The data as UTF-8 (``MultipartError`` when it is not)."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise MultipartError(f"multipart part {self.name!r} is not UTF-8 text") from None


def _head_from(raw: bytes) -> PartHead:
    headers: dict[str, str] = {}
    if raw:
        for line in raw.decode("utf-8", errors="replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise MultipartError(f"malformed multipart part header {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
    disposition, params = header_params(headers.get("content-disposition", ""))
    if disposition != "form-data" or "name" not in params:
        raise MultipartError("a multipart part has no 'Content-Disposition: form-data; name=...'")
    return PartHead(
        name=params["name"],
        filename=params.get("filename"),
        content_type=headers.get("content-type"),
        headers=headers,
    )


# -- the state machine ------------------------------------------------------------------------

_PREAMBLE, _BOUNDARY, _HEADERS, _BODY, _DONE = range(5)


class MultipartParser:
    """An incremental ``multipart/form-data`` parser: :meth:`feed` bytes, get events back.

    An event is a :class:`PartHead` (a part starts) or ``bytes`` (a piece of the current
    part's data, never empty). Call :meth:`close` at the end of the body: it raises when the
    closing boundary never came. Bytes after the closing boundary (the epilogue) and before
    the first one (the preamble) are ignored. Memory: the unconsumed tail is at most a
    delimiter's length, a boundary line's padding or one part's headers.
    """

    def __init__(self, content_type: str | None, *, max_header_bytes: int = MAX_HEADER_BYTES):
        boundary = boundary_of(content_type)
        if boundary is None:
            raise MultipartError(f"not multipart/form-data with a boundary: {content_type!r}")
        if len(boundary) > MAX_BOUNDARY_CHARS * 4:
            raise MultipartError("the multipart boundary is too long")
        try:
            encoded = boundary.encode("latin-1")
        except UnicodeEncodeError:
            raise MultipartError("the multipart boundary is not latin-1") from None
        self.boundary = boundary
        self._delim = b"\r\n--" + encoded
        self._max_header = max_header_bytes
        # A body may start with its boundary: a virtual CRLF in front lets one search do.
        self._buf = b"\r\n"
        self._state = _PREAMBLE
        self._seen_boundary = False

    @property
    def done(self) -> bool:
        """Whether the closing boundary has been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list[PartHead | bytes]:
        """Consumes ``data``; returns the events it completes, in order."""
        if self._state == _DONE:
            return []
        buf = self._buf + data if self._buf else bytes(data)
        events: list[PartHead | bytes] = []
        pos = 0
        delim = self._delim
        while True:
            if self._state == _PREAMBLE:
                idx = buf.find(delim, pos)
                if idx < 0:
                    pos = max(pos, len(buf) - len(delim) + 1)
                    break
                pos = idx + len(delim)
                self._seen_boundary = True
                self._state = _BOUNDARY
            elif self._state == _BOUNDARY:
                if len(buf) - pos < 2:
                    break
                if buf.startswith(b"--", pos):
                    self._state = _DONE
                    pos = len(buf)
                    break
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > _MAX_BOUNDARY_LINE:
                        raise MultipartError("malformed multipart boundary line")
                    break
                if buf[pos:eol].strip(b" \t"):
                    raise MultipartError("malformed multipart boundary line")
                pos = eol + 2
                self._state = _HEADERS
            elif self._state == _HEADERS:
                if len(buf) - pos < 2:
                    break
                if buf.startswith(b"\r\n", pos):
                    end, skip = pos, 2
                else:
                    end, skip = buf.find(b"\r\n\r\n", pos), 4
                if end < 0:
                    if len(buf) - pos > self._max_header:
                        raise MultipartError(
                            f"a multipart part's headers exceed {self._max_header} bytes"
                        )
                    break
                if end - pos > self._max_header:
                    raise MultipartError(
                        f"a multipart part's headers exceed {self._max_header} bytes"
                    )
                events.append(_head_from(buf[pos:end]))
                pos = end + skip
                self._state = _BODY
            else:  # _BODY
                idx = buf.find(delim, pos)
                if idx >= 0:
                    if idx > pos:
                        events.append(buf[pos:idx])
                    pos = idx + len(delim)
                    self._state = _BOUNDARY
                    continue
                safe = len(buf) - len(delim) + 1
                if safe > pos:
                    events.append(buf[pos:safe])
                    pos = safe
                break
        self._buf = buf[pos:]
        return events

    def close(self) -> None:
        """Checks the body ended after its closing boundary."""
        if self._state == _DONE:
            return
        if not self._seen_boundary:
            raise MultipartError("the multipart body does not contain its boundary")
        if self._state == _BODY:
            raise MultipartError("the multipart body has no closing boundary")
        raise MultipartError("the multipart body ended early")


def parse(
    content_type: str | None, body: bytes, *, max_header_bytes: int = MAX_HEADER_BYTES
) -> list[Part]:
    """Parses a whole ``multipart/form-data`` body into its parts, in order.

    Raises :class:`MultipartError` when the content type has no boundary or the body is
    malformed (no boundary, a part without ``Content-Disposition: form-data; name=...``, no
    closing boundary).
    """
    parser = MultipartParser(content_type, max_header_bytes=max_header_bytes)
    events = parser.feed(body)
    parser.close()
    return _collect(events)


def _collect(events: Iterable[PartHead | bytes]) -> list[Part]:
    parts: list[Part] = []
    head: PartHead | None = None
    data: list[bytes] = []

    def flush() -> None:
        if head is not None:
            parts.append(
                Part(
                    name=head.name,
                    filename=head.filename,
                    content_type=head.content_type,
                    data=b"".join(data),
                    headers=head.headers,
                )
            )

    for event in events:
        if isinstance(event, PartHead):
            flush()
            head, data = event, []
        else:
            data.append(event)
    flush()
    return parts


async def iter_parts(
    content_type: str | None,
    source: AsyncIterable[bytes],
    *,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> AsyncIterator[tuple[PartHead, bytes | None]]:
    """Parses a streamed ``multipart/form-data`` body as it arrives.

    Yields ``(head, None)`` when a part starts, then ``(head, piece)`` for each non-empty
    piece of its data. Holds at most one read of ``source`` plus a delimiter's length in
    memory. Raises :class:`MultipartError` on malformed input, including a body that ends
    before its closing boundary. Stops reading ``source`` at the closing boundary.
    """
    parser = MultipartParser(content_type, max_header_bytes=max_header_bytes)
    head: PartHead | None = None
    async for chunk in source:
        for event in parser.feed(chunk):
            if isinstance(event, PartHead):
                head = event
                yield head, None
            else:
                assert head is not None
                yield head, event
        if parser.done:
            return
    parser.close()


async def read_parts(
    content_type: str | None,
    source: AsyncIterable[bytes],
    *,
    max_bytes: int,
    max_header_bytes: int = MAX_HEADER_BYTES,
) -> list[Part]:
    """Reads a streamed body into whole parts, refusing (``MultipartError``) a body whose
    part data exceeds ``max_bytes`` in total. For small forms; stream files with
    :func:`iter_parts`."""
    events: list[PartHead | bytes] = []
    total = 0
    async for head, piece in iter_parts(content_type, source, max_header_bytes=max_header_bytes):
        if piece is None:
            events.append(head)
            continue
        total += len(piece)
        if total > max_bytes:
            raise MultipartError(f"the multipart parts exceed {max_bytes} bytes")
        events.append(piece)
    return _collect(events)


# -- writing ----------------------------------------------------------------------------------

_HTML5_REPLACEMENTS = {'"': "%22", "\\": "\\\\"}
_HTML5_REPLACEMENTS.update({chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B})
_HTML5_RE = re.compile("|".join(re.escape(c) for c in _HTML5_REPLACEMENTS))


def quote_param(value: str) -> str:
    """HTML5 form-data quoting of a parameter value (what browsers and httpx do): ``"`` as
    ``%22``, ``\\`` doubled, control characters (but ESC) as ``%XX``."""
    return _HTML5_RE.sub(lambda m: _HTML5_REPLACEMENTS[m.group(0)], value)


def guess_content_type(filename: str | None) -> str | None:
    """The media type for a file name (``application/octet-stream`` when unknown), ``None``
    without one: httpx's rule for a file part given no content type."""
    if filename:
        return mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return None


@attrs.frozen(kw_only=True)
class Field:
    """A plain form field: ``name`` and its text ``value`` (sent as UTF-8)."""

    name: str
    value: str


@attrs.frozen(kw_only=True)
class FilePart:
    """A file part. ``content`` is ``bytes`` or async chunks (read once, as they are sent);
    ``size`` is its length in bytes when known (always, for ``bytes``). ``content_type`` is
    sent as given (``None``: no ``Content-Type`` line)."""

    name: str
    filename: str | None
    content: bytes | AsyncIterable[bytes]
    content_type: str | None = "application/octet-stream"
    size: int | None = None

    @property
    def length(self) -> int | None:
        """The content's length in bytes, when known."""
        if isinstance(self.content, bytes):
            return len(self.content)
        return self.size


def new_boundary() -> str:
    """A fresh random boundary (32 hex digits, what httpx uses)."""
    return secrets.token_hex(16)


class MultipartWriter:
    """A ``multipart/form-data`` body written as async chunks.

    ``stream()`` yields each part's head, its content (a file's chunks as they are read)
    and the closing boundary; it may be called once when a file's content is an async
    iterator (``bytes`` content may be re-sent: :meth:`to_bytes`). ``sent`` counts the file
    content bytes yielded so far; ``content_length`` is the body's size in bytes when every
    file's size is known (``None`` otherwise). The boundary must not occur in any content:
    a random one (the default) makes that vanishingly unlikely.
    """

    def __init__(self, parts: Sequence[Field | FilePart], *, boundary: str | None = None) -> None:
        self.boundary = boundary or new_boundary()
        if not 1 <= len(self.boundary) <= MAX_BOUNDARY_CHARS or not self.boundary.isascii():
            raise MultipartError("a multipart boundary is 1 to 70 ASCII characters")
        self.parts = tuple(parts)
        self.sent = 0
        self._tail = f"--{self.boundary}--\r\n".encode()

    @classmethod
    def from_fields(
        cls,
        fields: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        files: Iterable[FilePart] = (),
        *,
        boundary: str | None = None,
    ) -> MultipartWriter:
        """Fields first (in order), then files: httpx's order for ``data=`` + ``files=``."""
        items = fields.items() if isinstance(fields, Mapping) else fields
        parts: list[Field | FilePart] = [Field(name=k, value=v) for k, v in items]
        parts.extend(files)
        return cls(parts, boundary=boundary)

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value, with the boundary."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int | None:
        """The body's length in bytes, or ``None`` when a file's size is unknown."""
        total = len(self._tail)
        for part in self.parts:
            size = len(part.value.encode()) if isinstance(part, Field) else part.length
            if size is None:
                return None
            total += len(self._head(part)) + size + 2
        return total

    @property
    def resendable(self) -> bool:
        """Whether every content is ``bytes`` (so :meth:`to_bytes` works and the body may be
        sent again, on a retry or a redirect)."""
        return all(isinstance(p, Field) or isinstance(p.content, bytes) for p in self.parts)

    def headers(self) -> dict[str, str]:
        """``Content-Type`` and, when known, ``Content-Length``."""
        headers = {"content-type": self.content_type}
        length = self.content_length
        if length is not None:
            headers["content-length"] = str(length)
        return headers

    def _head(self, part: Field | FilePart) -> bytes:
        disposition = f'form-data; name="{quote_param(part.name)}"'
        lines = [f"--{self.boundary}"]
        if isinstance(part, FilePart):
            if part.filename is not None:
                disposition += f'; filename="{quote_param(part.filename)}"'
            lines.append(f"Content-Disposition: {disposition}")
            if part.content_type is not None:
                lines.append(f"Content-Type: {part.content_type}")
        else:
            lines.append(f"Content-Disposition: {disposition}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def stream(self) -> AsyncIterator[bytes]:
        """The body, as chunks (never empty ones)."""
        for part in self.parts:
            yield self._head(part)
            if isinstance(part, Field):
                if part.value:
                    yield part.value.encode()
            elif isinstance(part.content, bytes):
                if part.content:
                    self.sent += len(part.content)
                    yield part.content
            else:
                got = 0
                async for chunk in part.content:
                    if chunk:
                        got += len(chunk)
                        self.sent += len(chunk)
                        yield bytes(chunk)
                if part.size is not None and got != part.size:
                    raise MultipartError(
                        f"file part {part.name!r} gave {got} bytes, {part.size} were declared"
                    )
            yield b"\r\n"
        yield self._tail

    def to_bytes(self) -> bytes:
        """The whole body, when every content is ``bytes`` (a re-sendable upload)."""
        out = []
        for part in self.parts:
            out.append(self._head(part))
            if isinstance(part, Field):
                out.append(part.value.encode())
            elif isinstance(part.content, bytes):
                out.append(part.content)
            else:
                raise MultipartError(f"file part {part.name!r} is streamed, not bytes")
            out.append(b"\r\n")
        out.append(self._tail)
        return b"".join(out)


__all__ = [
    "MAX_HEADER_BYTES",
    "Field",
    "FilePart",
    "MultipartError",
    "MultipartParser",
    "MultipartWriter",
    "Part",
    "PartHead",
    "boundary_of",
    "guess_content_type",
    "header_params",
    "iter_parts",
    "new_boundary",
    "parse",
    "quote_param",
    "read_parts",
]
