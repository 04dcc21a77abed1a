"""CSV files from vendors (transcripts, chat dumps), streamed from async byte chunks.

:class:`CsvReader` decodes UTF-8 incrementally (a character split across chunks is fine; a
leading BOM is dropped), cuts the text into records (RFC 4180: quoted fields may hold
commas, ``""`` and newlines; ``\\r\\n`` or ``\\n`` line ends), and parses each record with the
stdlib :mod:`csv` module. Memory is one record plus one chunk: a record longer than
``max_record_chars`` is refused, so an unterminated quote cannot swallow the file.

Each data row is a :class:`CsvRow`: a mapping from column name to the raw cell text, with
typed accessors that fail the way :class:`~convoport.parsing.Payload` does — one
:class:`~convoport.errors.MalformedResponse` naming the file (the ``label`` the adapter
gives), the row, the column and what was expected::

    transcript.csv row 7, column "start_time": expected a number of seconds, got "abc"

Row numbers count every record of the file from 1, the header included (what a spreadsheet
shows). Blank records are skipped (but counted).

Header layouts: by default the first record is the header (cells stripped, so
``Timestamp, Participant ID`` works). An adapter that must tell two layouts apart looks at
:meth:`CsvReader.first_row` first, then calls :meth:`CsvReader.use_header` or
:meth:`CsvReader.use_columns` (a headerless file with the documented column order), and
:meth:`CsvReader.require_columns` to fail early on a file it cannot read::

    reader = CsvReader(download.aiter_bytes(), provider="realtimekit", label="transcript.csv")
    first = await reader.first_row()
    if first and first[0].strip().lower() == "timestamp":
        reader.use_header()
    else:
        reader.use_columns(["start_ms", "peer_id", "user_id", "custom_id", "name", "text"])
    async for row in reader:
        start = row.seconds("start_ms", unit="ms")
"""

from __future__ import annotations

import codecs
import csv
import math
import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Final, Literal

from convoport.errors import MalformedResponse
from convoport.parsing import parse_timestamp

#: The longest record accepted, in characters.
MAX_RECORD_CHARS: Final = 1 << 20
_HINT: Final = "the vendor's file format may have changed; please report this"
_NOT_UTF8: Final = re.compile("[\udc80-\udcff]")
_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f"})


def _shown(value: str) -> str:
    """A cell value as messages quote it: in double quotes, at most 80 characters."""
    text = value if len(value) <= 80 else value[:79] + "…"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CsvRow(Mapping[str, str]):
    """One data row: column name -> raw cell text (only the columns the row has).

    ``row_number`` is the row's number in the file (see the module docstring); ``extras`` the
    cells beyond the named columns. Accessors raise ``MalformedResponse`` naming the row and
    column; the ``opt_`` ones give ``None`` for a missing column or an empty cell.
    """

    __slots__ = ("_cells", "extras", "label", "provider", "row_number")

    def __init__(
        self,
        cells: Mapping[str, str],
        *,
        number: int,
        label: str,
        provider: str,
        extras: Sequence[str] = (),
    ) -> None:
        self._cells = dict(cells)
        self.row_number = number
        self.label = label
        self.provider = provider
        self.extras = tuple(extras)

    def __getitem__(self, key: str) -> str:
        return self._cells[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __repr__(self) -> str:
        return f"CsvRow({self.label!r} row {self.row_number}, {self._cells!r})"

    def error(self, column: str, problem: str) -> MalformedResponse:
        """The error for ``column`` of this row: ``<label> row N, column "c": <problem>``."""
        return MalformedResponse(
            f'{self.label} row {self.row_number}, column "{column}": {problem}',
            provider=self.provider,
            hint=_HINT,
            details={"file": self.label, "row": self.row_number, "column": column},
        )

    def _required(self, column: str) -> str:
        value = self._cells.get(column)
        if value is None:
            raise self.error(column, "is missing")
        return value

    def string(self, column: str) -> str:
        """The cell's text; a missing column is an error (an empty cell is ``""``)."""
        return self._required(column)

    def opt_string(self, column: str) -> str | None:
        """The cell's text, ``None`` when the column is missing or the cell empty."""
        value = self._cells.get(column)
        return value if value else None

    def _float(self, column: str, value: str, expected: str) -> float:
        try:
            number = float(value.strip())
        except ValueError:
            raise self.error(column, f"expected {expected}, got {_shown(value)}") from None
        if not math.isfinite(number):
            raise self.error(column, f"expected {expected}, got {_shown(value)}")
        return number

    def seconds(self, column: str, *, unit: Literal["s", "ms"] = "s") -> float:
        """A non-negative offset or duration as float seconds; ``unit="ms"`` reads
        milliseconds (``"1500"`` -> ``1.5``)."""
        value = self._required(column)
        what = "a number of milliseconds" if unit == "ms" else "a number of seconds"
        number = self._float(column, value, what)
        if number < 0:
            raise self.error(column, f"expected {what} (not negative), got {_shown(value)}")
        return number / 1000 if unit == "ms" else number

    def opt_seconds(self, column: str, *, unit: Literal["s", "ms"] = "s") -> float | None:
        """Like :meth:`seconds`; ``None`` for a missing column or an empty cell."""
        if not self._cells.get(column, "").strip():
            return None
        return self.seconds(column, unit=unit)

    def number(self, column: str) -> float:
        """A finite number."""
        return self._float(column, self._required(column), "a number")

    def opt_number(self, column: str) -> float | None:
        """Like :meth:`number`; ``None`` for a missing column or an empty cell."""
        value = self._cells.get(column, "")
        return self._float(column, value, "a number") if value.strip() else None

    def integer(self, column: str) -> int:
        """An integer (decimal digits, optional sign; exact, never through a float)."""
        value = self._required(column)
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not digits.isascii() or not digits.isdigit() or len(digits) > 30:
            raise self.error(column, f"expected an integer, got {_shown(value)}")
        return int(text)

    def opt_integer(self, column: str) -> int | None:
        """Like :meth:`integer`; ``None`` for a missing column or an empty cell."""
        if not self._cells.get(column, "").strip():
            return None
        return self.integer(column)

    def boolean(self, column: str) -> bool:
        """``true``/``false`` (also ``1``/``0``, ``yes``/``no``; any case)."""
        value = self._required(column)
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise self.error(column, f"expected true or false, got {_shown(value)}")

    def opt_boolean(self, column: str) -> bool | None:
        """Like :meth:`boolean`; ``None`` for a missing column or an empty cell."""
        if not self._cells.get(column, "").strip():
            return None
        return self.boolean(column)

    def timestamp(self, column: str, *, naive_is_utc: bool = False) -> datetime:
        """An ISO 8601 timestamp as an aware UTC datetime
        (:func:`convoport.parsing.parse_timestamp`)."""
        value = self._required(column)
        try:
            return parse_timestamp(
                value, provider=self.provider, field=column, naive_is_utc=naive_is_utc
            )
        except MalformedResponse:
            problem = "expected an ISO 8601 timestamp"
            if not naive_is_utc and _parses_naive(value):
                problem += " with a timezone"
            raise self.error(column, f"{problem}, got {_shown(value)}") from None

    def opt_timestamp(self, column: str, *, naive_is_utc: bool = False) -> datetime | None:
        """Like :meth:`timestamp`; ``None`` for a missing column or an empty cell."""
        if not self._cells.get(column, "").strip():
            return None
        return self.timestamp(column, naive_is_utc=naive_is_utc)


def _parses_naive(value: str) -> bool:
    try:
        parse_timestamp(value, provider="", field="", naive_is_utc=True)
    except MalformedResponse:
        return False
    return True


class CsvReader:
    """Rows of a CSV file read from async byte chunks (see the module docstring).

    Iterate it once (``async for row in reader``). ``header`` is the column names once known
    (after :meth:`first_row`, :meth:`use_header`/:meth:`use_columns`, or the first row).
    """

    def __init__(
        self,
        source: AsyncIterable[bytes],
        *,
        provider: str,
        label: str,
        max_record_chars: int = MAX_RECORD_CHARS,
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel,
    ) -> None:
        self.provider = provider
        self.label = label
        self.max_record_chars = max_record_chars
        self.header: list[str] | None = None
        self._dialect = dialect
        self._source = source.__aiter__()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self._text = ""
        self._at_start = True
        self._ended = False
        self._number = 0
        self._peeked: tuple[int, list[str]] | None = None
        self._pending: deque[list[str]] = deque()
        self._header_row: int | None = None
        self._header_pending = True
        self._started = False

    def __repr__(self) -> str:
        return f"CsvReader({self.label!r}, header={self.header!r})"

    def error(self, row: int | None, problem: str) -> MalformedResponse:
        """The error for a whole row (``row=None``: the file)."""
        where = self.label if row is None else f"{self.label} row {row}"
        return MalformedResponse(
            f"{where}: {problem}",
            provider=self.provider,
            hint=_HINT,
            details={"file": self.label, **({"row": row} if row is not None else {})},
        )

    # -- records ----------------------------------------------------------------------------

    async def _fill(self) -> bool:
        """Decodes the next chunk into the text buffer; False at the end of the source.

        Bytes that are not UTF-8 become lone surrogates (``surrogateescape``), so the rows
        before them are still read and the record holding them is reported by its number.
        """
        if self._ended:
            return False
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._ended = True
            self._text += self._decoder.decode(b"", final=True)
            return False
        text = self._decoder.decode(chunk)
        if self._at_start and text:
            self._at_start = False
            if text.startswith("\ufeff"):
                text = text[1:]
        self._text += text
        return True

    async def _record(self) -> tuple[int, list[str]] | None:
        """The next non-blank record (its number and cells), or None at the end."""
        while True:
            if not self._pending:
                raw = await self._raw_record()
                if raw is None:
                    return None
                if "\x00" in raw:
                    raise self.error(self._number + 1, "contains a NUL character")
                if _NOT_UTF8.search(raw):
                    raise self.error(self._number + 1, "is not UTF-8 text")
                parts = raw.split("\n")
                lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
                try:
                    self._pending.extend(csv.reader(lines, self._dialect))
                except csv.Error as exc:
                    raise self.error(self._number + 1, f"is not valid CSV ({exc})") from None
                if not self._pending:  # a line end alone
                    self._number += 1
                    continue
            cells = self._pending.popleft()
            self._number += 1
            if len(cells) > 1 or (cells and cells[0].strip()):
                return self._number, cells

    async def _raw_record(self) -> str | None:
        """The text of the next record (through its line end), or None at the end."""
        scanned = 0
        quotes = 0
        while True:
            while True:
                end = self._text.find("\n", scanned)
                if end < 0:
                    quotes += self._text.count('"', scanned)
                    scanned = len(self._text)
                    break
                quotes += self._text.count('"', scanned, end)
                scanned = end + 1
                if quotes % 2 == 0:
                    record, self._text = self._text[:scanned], self._text[scanned:]
                    return record
            if scanned > self.max_record_chars:
                raise self.error(
                    self._number + 1,
                    f"is longer than {self.max_record_chars} characters "
                    "(an unterminated quoted field?)",
                )
            if not await self._fill():
                if not self._text:
                    return None
                if quotes % 2:
                    raise self.error(self._number + 1, "has an unterminated quoted field")
                record, self._text = self._text, ""
                return record

    # -- header ------------------------------------------------------------------------------

    async def first_row(self) -> list[str] | None:
        """The cells of the first non-blank record (not consumed), or None for an empty file."""
        if self._peeked is None and not self._started:
            self._peeked = await self._record()
        return None if self._peeked is None else list(self._peeked[1])

    def use_header(self) -> None:
        """The first record is the header (the default)."""
        self._header_pending = True
        self.header = None
        self._header_row = None

    def use_columns(self, names: Sequence[str]) -> None:
        """The file has no header: its columns are ``names``, in order."""
        self._check_names(list(names), None)
        self.header = list(names)
        self._header_row = None
        self._header_pending = False

    def _check_names(self, names: list[str], row: int | None) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise self.error(row, f'has the column "{name}" twice')
            seen.add(name)

    async def read_header(self) -> list[str]:
        """The column names (reading the header record if the file has one)."""
        if self.header is None:
            record = await self._next()
            if record is None:
                raise self.error(None, "is empty (expected a header row)")
            number, cells = record
            names = [cell.strip() for cell in cells]
            self._check_names(names, number)
            self.header = names
            self._header_row = number
            self._header_pending = False
        return list(self.header)

    async def require_columns(self, *names: str) -> None:
        """Fails (``MalformedResponse``) unless the header has every one of ``names``."""
        header = await self.read_header()
        missing = [n for n in names if n not in header]
        if missing:
            shown = ", ".join(f'"{n}"' for n in missing)
            raise self.error(
                self._header_row,
                f"has no column {shown} (columns: {', '.join(header) or 'none'})",
            )

    async def _next(self) -> tuple[int, list[str]] | None:
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            return record
        return await self._record()

    # -- rows --------------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[CsvRow]:
        return self.rows()

    async def rows(self) -> AsyncIterator[CsvRow]:
        """The data rows, in order."""
        if self._started:
            raise RuntimeError("a CsvReader is read once")
        header = await self.read_header()
        self._started = True
        width = len(header)
        while True:
            record = await self._next()
            if record is None:
                return
            number, cells = record
            yield CsvRow(
                dict(zip(header, cells, strict=False)),
                number=number,
                label=self.label,
                provider=self.provider,
                extras=cells[width:],
            )


async def read_rows(
    source: AsyncIterable[bytes], *, provider: str, label: str, columns: Sequence[str] = ()
) -> AsyncIterator[CsvRow]:
    """The rows of a CSV file with a header that must have ``columns``."""
    reader = CsvReader(source, provider=provider, label=label)
    await reader.require_columns(*columns)
    async for row in reader:
        yield row


__all__ = ["MAX_RECORD_CHARS", "CsvReader", "CsvRow", "read_rows"]
