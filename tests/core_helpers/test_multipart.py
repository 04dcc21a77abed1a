"""``convoport.multipart``: one parser (whole and streamed) and one writer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport import multipart as mp
from convoport.errors import ConvoportError

BOUNDARY = "b0undary"
CT = f"multipart/form-data; boundary={BOUNDARY}"


async def _chunks(data: bytes, cuts: Sequence[int]) -> AsyncIterator[bytes]:
    last = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        yield data[last:cut]
        last = cut
    yield data[last:]


def _split(data: bytes, cuts: Sequence[int]) -> AsyncIterator[bytes]:
    return _chunks(data, cuts)


async def _stream_parse(content_type: str, data: bytes, cuts: Sequence[int]) -> list[mp.Part]:
    events: list[mp.PartHead | bytes] = []
    async for head, piece in mp.iter_parts(content_type, _split(data, cuts)):
        events.append(head if piece is None else piece)
    return mp._collect(events)


async def _drain(writer: mp.MultipartWriter) -> bytes:
    return b"".join([chunk async for chunk in writer.stream()])


def test_writer_matches_httpx_bytes_exactly() -> None:
    request = httpx.Request(
        "POST",
        "http://x/",
        data={'na"me': "va\r\nlue", "seq": "3"},
        files={"f": ('we"ird\\name\n.bin', b"\r\n\r\n--x", "application/x-thing")},
    )
    body = request.read()
    boundary = mp.boundary_of(request.headers["content-type"])
    assert boundary is not None
    writer = mp.MultipartWriter.from_fields(
        {'na"me': "va\r\nlue", "seq": "3"},
        [
            mp.FilePart(
                name="f",
                filename='we"ird\\name\n.bin',
                content=b"\r\n\r\n--x",
                content_type="application/x-thing",
            )
        ],
        boundary=boundary,
    )
    assert writer.to_bytes() == body
    assert asyncio.run(_drain(writer)) == body
    assert writer.content_length == len(body) == int(request.headers["content-length"])
    assert writer.content_type == request.headers["content-type"]
    assert writer.sent == len(b"\r\n\r\n--x")


def test_streamed_file_content_and_declared_size() -> None:
    async def content() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b""
        yield b"def"

    writer = mp.MultipartWriter(
        [mp.FilePart(name="file", filename="a.wav", content=content(), size=6)], boundary="B"
    )
    assert writer.headers()["content-length"] == str(writer.content_length)
    body = asyncio.run(_drain(writer))
    assert len(body) == writer.content_length
    [part] = mp.parse(writer.content_type, body)
    assert (part.name, part.filename, part.content_type, part.data) == (
        "file",
        "a.wav",
        "application/octet-stream",
        b"abcdef",
    )
    assert writer.sent == 6

    short = mp.MultipartWriter(
        [mp.FilePart(name="file", filename="a", content=_split(b"abc", []), size=4)]
    )
    with pytest.raises(mp.MultipartError, match="gave 3 bytes, 4 were declared"):
        asyncio.run(_drain(short))
    unknown = mp.MultipartWriter([mp.FilePart(name="f", filename=None, content=_split(b"", []))])
    assert unknown.content_length is None
    assert "content-length" not in unknown.headers()
    with pytest.raises(mp.MultipartError, match="streamed"):
        unknown.to_bytes()


def test_parse_preamble_epilogue_padding_and_no_headers() -> None:
    body = (
        b"ignored preamble\r\n--b0undary  \t\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--b0undary\r\n"
        b"content-disposition: form-data; name*=utf-8''%C3%A9t%C3%A9; name=\"x\"\r\n"
        b"Content-Type: text/plain\r\n\r\n\r\n"
        b"--b0undary--\r\nepilogue --b0undary\r\n"
    )
    parts = mp.parse(CT, body)
    assert [(p.name, p.content_type, p.data) for p in parts] == [
        ("a", None, b"1"),
        ("\u00e9t\u00e9", "text/plain", b""),
    ]
    assert parts[0].text == "1"
    assert mp.parse(f'multipart/form-data; boundary="{BOUNDARY}"', body) == parts


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/json", b"{}", "not multipart"),
        ("multipart/form-data", b"", "not multipart"),
        (CT, b"nothing here", "does not contain its boundary"),
        (CT, b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\nx", "no closing"),
        (CT, b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n", "ended early"),
        (CT, b"--b0undaryX\r\n", "malformed multipart boundary line"),
        (CT, b"--b0undary\r\nno colon\r\n\r\nx\r\n--b0undary--", "malformed multipart part"),
        (CT, b"--b0undary\r\nContent-Type: a/b\r\n\r\nx\r\n--b0undary--", "Content-Disposition"),
        (CT, b"--b0undary\r\n" + b"X: " + b"y" * 20000, "headers exceed"),
        (CT, b"--b0undary" + b" " * 2000, "boundary line"),
    ],
)
def test_malformed_bodies_raise_multipart_error(
    content_type: str, body: bytes, message: str
) -> None:
    with pytest.raises(mp.MultipartError, match=message) as info:
        mp.parse(content_type, body)
    assert isinstance(info.value, ConvoportError)
    assert isinstance(info.value, ValueError)
    if content_type == CT:
        with pytest.raises(mp.MultipartError, match=message):
            asyncio.run(_stream_parse(content_type, body, [3, 7, 11]))


def test_streamed_parse_holds_a_bounded_buffer() -> None:
    """A 4 MiB file part read in 64 KiB chunks: no event and no buffer grows past one read
    plus a delimiter."""
    size, step = 4 * 1024 * 1024, 64 * 1024
    writer = mp.MultipartWriter(
        [mp.FilePart(name="f", filename="big", content=b"\x00" * size)], boundary=BOUNDARY
    )
    body = writer.to_bytes()
    parser = mp.MultipartParser(CT)
    total = 0
    for start in range(0, len(body), step):
        for event in parser.feed(body[start : start + step]):
            if isinstance(event, bytes):
                assert len(event) <= step + len(BOUNDARY) + 4
                total += len(event)
        assert len(parser._buf) <= mp.MAX_HEADER_BYTES
    parser.close()
    assert total == size


def test_read_parts_limits_total_size() -> None:
    writer = mp.MultipartWriter.from_fields({"a": "x" * 100})
    body = writer.to_bytes()
    parts = asyncio.run(mp.read_parts(writer.content_type, _split(body, [5]), max_bytes=100))
    assert parts[0].data == b"x" * 100
    with pytest.raises(mp.MultipartError, match="exceed 99 bytes"):
        asyncio.run(mp.read_parts(writer.content_type, _split(body, [5]), max_bytes=99))


def test_part_text_and_boundary_rules() -> None:
    part = mp.Part(name="a", filename=None, content_type=None, data=b"\xff")
    with pytest.raises(mp.MultipartError, match="not UTF-8"):
        _ = part.text
    with pytest.raises(mp.MultipartError, match="1 to 70"):
        mp.MultipartWriter([], boundary="x" * 71)
    assert mp.guess_content_type("a.wav") in ("audio/x-wav", "audio/wav")
    assert mp.guess_content_type("a.unknownext") == "application/octet-stream"
    assert mp.guess_content_type(None) is None


# "%" is left out: HTML5 form-data quoting does not escape it, so a literal "%22" in a name is
# read back as a quote (by every implementation of that encoding, httpx's included).
_names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="%"),
    min_size=1,
    max_size=12,
)
_boundary_like = st.sampled_from(
    [b"", b"\r\n", b"--", b"\r\n--", f"\r\n--{BOUNDARY}".encode()[:-1], b"\r\n\r\n", b"-" * 5]
)
_content = st.lists(st.one_of(st.binary(max_size=40), _boundary_like), max_size=6).map(b"".join)
_parts = st.lists(
    st.one_of(
        st.builds(lambda n, v: mp.Field(name=n, value=v), _names, st.text(max_size=30)),
        st.builds(
            lambda n, f, c, t: mp.FilePart(name=n, filename=f, content=c, content_type=t),
            _names,
            st.one_of(st.none(), _names),
            _content,
            st.one_of(st.none(), st.sampled_from(["audio/wav", "application/octet-stream"])),
        ),
    ),
    max_size=5,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    parts=_parts,
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    streamed=st.booleans(),
)
def test_write_then_parse_round_trips(
    parts: list[mp.Field | mp.FilePart], cuts: list[int], streamed: bool
) -> None:
    def content(p: mp.Field | mp.FilePart) -> bytes:
        if isinstance(p, mp.Field):
            return p.value.encode()
        assert isinstance(p.content, bytes)
        return p.content

    expected = [
        (
            p.name,
            p.filename if isinstance(p, mp.FilePart) else None,
            p.content_type if isinstance(p, mp.FilePart) else None,
            content(p),
        )
        for p in parts
    ]
    if streamed:
        parts = [
            mp.FilePart(
                name=p.name,
                filename=p.filename,
                content=_split(content(p), cuts),
                content_type=p.content_type,
                size=len(content(p)),
            )
            if isinstance(p, mp.FilePart)
            else p
            for p in parts
        ]
    writer = mp.MultipartWriter(parts, boundary=BOUNDARY)
    body = asyncio.run(_drain(writer))
    if not streamed:
        assert body == writer.to_bytes()
    assert len(body) == writer.content_length
    whole = mp.parse(writer.content_type, body)
    chunked = asyncio.run(_stream_parse(writer.content_type, body, cuts))
    for got in (whole, chunked):
        assert [(p.name, p.filename, p.content_type, p.data) for p in got] == expected


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=5))
def test_hostile_bodies_raise_only_multipart_error(body: bytes, cuts: list[int]) -> None:
    prefix = b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n"
    for data in (body, prefix + body):
        with contextlib.suppress(mp.MultipartError):
            mp.parse(CT, data)
        with contextlib.suppress(mp.MultipartError):
            asyncio.run(_stream_parse(CT, data, cuts))
