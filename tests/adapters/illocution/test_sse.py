"""SSE parsing: however the stream is split across network reads, the same events come out."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import ServerSentEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport.adapters.illocution import translate
from convoport.live import (
    DoneEvent,
    ErrorEvent,
    FinalUtterance,
    LiveEvent,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
)
from convoport.sse import live_events

SID = "live_1"


class _Pieces(httpx.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            await asyncio.sleep(0)
            yield piece


async def _events(pieces: list[bytes]) -> list[LiveEvent]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Pieces(pieces)
        )

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        client.stream("GET", "https://api.illocution.ai/analyze/live/live_1/events") as response,
    ):
        return [
            e
            async for e in live_events(
                response, translate.sse_translator(SID), provider="illocution"
            )
        ]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


# -- a documented-looking stream ---------------------------------------------------------------

STREAM = (
    ": connected\n\n"
    'event: status\ndata: {"phase": "waiting_media", "progress": 0}\n\n'
    "event: final_transcript\r\n"
    ": a comment inside an event\r\n"
    'data: {"utterance_id": "u0", "speaker": "Speaker_0",\r\n'
    'data:  "t_start": 0.0, "t_end": 1.5, "text": "Grüße — hello"}\r\n\r\n'
    'event: emotion\rdata: {"speaker_id": "Speaker_0", "emotion": {"joy": 0.6}}\r\r'
    'event: brand_new_event\ndata: {"x_ms": 1500}\n\n'
    "id: 7\n\n"
    'event: summary_update\ndata: {\ndata:   "overview": "Done."\ndata: }\n\n'
    'event: done\ndata: {"conversation_id": "liveconv_1"}\n\n'
)


def test_a_stream_with_comments_multiline_data_and_unknown_events() -> None:
    events = asyncio.run(_events([STREAM.encode()]))
    assert [type(e) for e in events] == [
        StatusEvent,
        FinalUtterance,
        VendorEvent,
        VendorEvent,
        SummaryEvent,
        DoneEvent,
    ]
    final = events[1]
    assert isinstance(final, FinalUtterance)
    assert final.utterance.text == "Grüße — hello"
    assert final.utterance.end == 1.5
    emotion, unknown = events[2], events[3]
    assert isinstance(emotion, VendorEvent)
    assert isinstance(unknown, VendorEvent)
    assert emotion.data == {"speaker": "Speaker_0", "emotions": {"joy": 0.6}}
    assert (unknown.name, unknown.data) == ("brand_new_event", {"x": 1.5})
    summary = events[4]
    assert isinstance(summary, SummaryEvent)
    assert summary.summary.text == "Done."


def test_a_byte_at_a_time_gives_the_same_events() -> None:
    data = STREAM.encode()
    whole = asyncio.run(_events([data]))
    assert asyncio.run(_events([data[i : i + 1] for i in range(len(data))])) == whole


def test_data_that_is_not_json_is_a_non_fatal_error() -> None:
    event = translate.sse_event_from_wire(
        ServerSentEvent(event="final_transcript", data="{oops"), session_id=SID
    )
    assert isinstance(event, ErrorEvent)
    assert (event.code, event.fatal) == ("malformed_event", False)
    assert event.provider_data == {"event": "final_transcript", "data": "{oops"}


# -- property: splits never change the events ----------------------------------------------

NAMES = st.sampled_from(
    ["status", "final_transcript", "partial_transcript", "emotion", "moment", "transition",
     "cognitive", "summary_update", "x_custom", "", "error_v2"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)
OBJECTS = st.dictionaries(
    st.sampled_from(["phase", "text", "t_start", "speaker_id", "start_ms", "k", "ü"]),
    SCALARS,
    max_size=4,
)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_stream(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """An SSE text and the (name, data) events it must dispatch."""
    nl = draw(NEWLINES)
    blocks: list[str] = []
    expected: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            blocks.append(f": {draw(st.sampled_from(['ping', 'keepalive', '']))}{nl}{nl}")
        name = draw(NAMES)
        payload: dict[str, Any] = draw(OBJECTS)
        pretty = draw(st.booleans())
        text = json.dumps(payload, ensure_ascii=False, indent=2 if pretty else None)
        lines = [f"event: {name}"] if name else []
        lines += [f"data: {line}" for line in text.split("\n")]
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), ": comment")
        if draw(st.booleans()):
            lines.append(f"id: {draw(st.integers(0, 99))}")
        blocks.append(nl.join(lines) + nl + nl)
        expected.append((name, text))
    return "".join(blocks), expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=sse_stream(), cuts=st.lists(st.integers(0, 10_000), max_size=25))
def test_splits_never_change_the_events(
    stream: tuple[str, list[tuple[str, str]]], cuts: list[int]
) -> None:
    text, expected_raw = stream
    data = text.encode()
    whole = asyncio.run(_events([data]))
    split = asyncio.run(_events(_split(data, cuts)))
    assert split == whole
    expected = [
        translate.sse_event_from_wire(ServerSentEvent(event=name, data=payload), session_id=SID)
        for name, payload in expected_raw
    ]
    assert whole == expected
