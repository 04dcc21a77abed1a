"""``convoport.csvreader``: CSV rows from async byte chunks, errors that name row and column."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport.csvreader import CsvReader, CsvRow, read_rows
from convoport.errors import MalformedResponse


async def _chunks(data: bytes, cuts: Sequence[int] = ()) -> AsyncIterator[bytes]:
    last = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        yield data[last:cut]
        last = cut
    yield data[last:]


def _reader(data: bytes, cuts: Sequence[int] = (), label: str = "transcript.csv") -> CsvReader:
    return CsvReader(_chunks(data, cuts), provider="acme", label=label)


async def _rows(reader: CsvReader) -> list[CsvRow]:
    return [row async for row in reader]


def test_bom_crlf_quoted_newlines_and_split_characters() -> None:
    text = (
        "\ufeffTimestamp, Participant ID ,Transcript\r\n"
        '2026-01-01T00:00:01Z,p1,"Hello, ""world""\r\nsecond line"\r\n'
        "\r\n"
        "2026-01-01T00:00:02.5+01:00,p2,Grüße — 日本\r\n"
    )
    data = text.encode()
    for cuts in ([], list(range(len(data))), [1, 2, 3, 50, 51, 52, len(data) - 3]):
        reader = _reader(data, cuts)
        rows = asyncio.run(_rows(reader))
        assert reader.header == ["Timestamp", "Participant ID", "Transcript"]
        assert [dict(r) for r in rows] == [
            {
                "Timestamp": "2026-01-01T00:00:01Z",
                "Participant ID": "p1",
                "Transcript": 'Hello, "world"\r\nsecond line',
            },
            {
                "Timestamp": "2026-01-01T00:00:02.5+01:00",
                "Participant ID": "p2",
                "Transcript": "Grüße — 日本",
            },
        ]
        assert [r.row_number for r in rows] == [2, 4]
        assert rows[1].timestamp("Timestamp") == datetime(
            2025, 12, 31, 23, 0, 2, 500000, tzinfo=UTC
        )


def test_typed_accessors_and_their_errors() -> None:
    data = (
        b"start_time,ms,n,flag,when,name,empty\n"
        b"1.5,1500,42,TRUE,2026-01-01 10:00:00Z,Ann,\n"
        b"abc,-3,4.5,maybe,2026-01-01T10:00:00,,\n"
        b"nan\n"
    )
    first, second, third = asyncio.run(_rows(_reader(data)))
    assert first.seconds("start_time") == 1.5
    assert first.seconds("ms", unit="ms") == 1.5
    assert first.integer("n") == 42
    assert first.number("n") == 42.0
    assert first.boolean("flag") is True
    assert first.timestamp("when") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert first.string("name") == "Ann"
    assert first.opt_string("empty") is None
    assert first.opt_seconds("empty") is None
    assert first.opt_integer("empty") is None
    assert first.opt_timestamp("empty") is None
    assert first.opt_boolean("empty") is None
    assert first.opt_number("empty") is None
    assert second.opt_string("name") is None
    assert second.timestamp("when", naive_is_utc=True) == datetime(2026, 1, 1, 10, tzinfo=UTC)
    cases: list[tuple[Callable[[], object], str]] = [
        (
            lambda: second.seconds("start_time"),
            'row 3, column "start_time": expected a number of seconds, got "abc"',
        ),
        (
            lambda: second.seconds("ms", unit="ms"),
            'column "ms": expected a number of milliseconds (not negative), got "-3"',
        ),
        (lambda: second.integer("n"), 'column "n": expected an integer, got "4.5"'),
        (lambda: second.boolean("flag"), 'column "flag": expected true or false, got "maybe"'),
        (
            lambda: second.timestamp("when"),
            'column "when": expected an ISO 8601 timestamp with a timezone',
        ),
        (
            lambda: third.seconds("start_time"),
            'row 4, column "start_time": expected a number of seconds, got "nan"',
        ),
        (lambda: third.string("name"), 'transcript.csv row 4, column "name": is missing'),
    ]
    for call, message in cases:
        with pytest.raises(MalformedResponse) as info:
            call()
        assert message in str(info.value)
        assert info.value.provider == "acme"
        assert info.value.details["file"] == "transcript.csv"


def test_headerless_layout_detection_and_required_columns() -> None:
    data = b'"1000","peer-123","user-456","cust-789","Alice","Hello everyone"\n'
    reader = _reader(data)
    first = asyncio.run(reader.first_row())
    assert first == ["1000", "peer-123", "user-456", "cust-789", "Alice", "Hello everyone"]
    reader.use_columns(["start", "peer", "user", "custom", "name", "text"])
    [row] = asyncio.run(_rows(reader))
    assert row.seconds("start", unit="ms") == 1.0
    assert row.row_number == 1

    reader = _reader(b"id,payload\n1,x\n", label="chat.csv")
    with pytest.raises(MalformedResponse, match=r'chat\.csv row 1: has no column "createdAt"'):
        asyncio.run(reader.require_columns("id", "createdAt"))

    async def collect() -> list[dict[str, str]]:
        return [
            dict(r)
            async for r in read_rows(
                _chunks(b"a,b\n1,2,3\n4\n"), provider="p", label="f.csv", columns=["a"]
            )
        ]

    assert asyncio.run(collect()) == [{"a": "1", "b": "2"}, {"a": "4"}]
    with pytest.raises(MalformedResponse, match='has the column "a" twice'):
        asyncio.run(_rows(_reader(b"a,a\n")))
    with pytest.raises(MalformedResponse, match="is empty"):
        asyncio.run(_rows(_reader(b"")))
    reader = _reader(b"a\n1\n")
    asyncio.run(_rows(reader))
    with pytest.raises(RuntimeError, match="read once"):
        asyncio.run(_rows(reader))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a\n\xff\xfe\n", "row 2: is not UTF-8 text"),
        (b"a\n\xc3", "row 2: is not UTF-8 text"),
        (b'a\n"open\n', "row 2: has an unterminated quoted field"),
        (b"a\nx\x00y\n", "row 2: contains a NUL character"),
        (b"a,b\n1\r2,3\n", "row 2: is not valid CSV"),
    ],
)
def test_bad_files(data: bytes, message: str) -> None:
    with pytest.raises(MalformedResponse, match=message):
        asyncio.run(_rows(_reader(data, [3])))


def test_a_record_is_bounded() -> None:
    reader = CsvReader(
        _chunks(b'a\n"' + b"x" * 5000, list(range(0, 5000, 100))),
        provider="acme",
        label="t.csv",
        max_record_chars=1000,
    )
    with pytest.raises(MalformedResponse, match="longer than 1000 characters"):
        asyncio.run(_rows(reader))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_random_bytes_raise_only_malformed_response(data: bytes, cuts: list[int]) -> None:
    async def run() -> None:
        reader = _reader(data, cuts)
        await reader.first_row()
        async for row in reader:
            for column in [*row, "missing"]:
                for read in (row.seconds, row.integer, row.timestamp, row.boolean, row.string):
                    with contextlib.suppress(MalformedResponse):
                        read(column)

    with contextlib.suppress(MalformedResponse):
        asyncio.run(run())


_cells = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00\r", exclude_categories=["Cs"]),
    max_size=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(1, 4),
    rows=st.lists(st.lists(_cells, min_size=4, max_size=4), max_size=8),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
    bom=st.booleans(),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_round_trip_through_csv_writer(
    width: int, rows: list[list[str]], cuts: list[int], bom: bool, terminator: str
) -> None:
    header = [f"c{i}" for i in range(width)]
    body = [row[:width] for row in rows]
    # A row whose cells are all blank is a blank record: the reader skips it.
    expected = [r for r in body if width > 1 or r[0].strip()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(body)
    data = (("\ufeff" if bom else "") + out.getvalue()).encode()
    got = asyncio.run(_rows(_reader(data, cuts)))
    assert [[row[c] for c in header] for row in got] == expected
