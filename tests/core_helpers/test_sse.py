"""``convoport.sse``: the generic SSE glue any adapter passes its translation to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from convoport import sse
from convoport.errors import MalformedResponse
from convoport.live import ErrorEvent, LiveEvent, VendorEvent


def _vendor(name: str, data: Any) -> LiveEvent:
    if name == "boom":
        raise MalformedResponse("cannot read boom", provider="acme")
    if name == "float":
        return VendorEvent(name=name, data={"x": float(data["x"])})
    return VendorEvent(name=name, data={"value": data})


async def _events(body: bytes) -> list[LiveEvent]:
    class _Once(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield body

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Once())

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client,
        client.stream("GET", "https://sse.example/events") as response,
    ):
        return [e async for e in sse.live_events(response, _vendor, provider="acme")]


def _malformed(event: LiveEvent) -> ErrorEvent:
    assert isinstance(event, ErrorEvent)
    assert (event.code, event.fatal) == ("malformed_event", False)
    return event


def test_default_name_empty_data_and_a_bad_event_does_not_end_the_stream() -> None:
    body = (
        b"data: 1\n\n"
        b"event: skipped\ndata:\n\n"
        b"event: boom\ndata: {}\n\n"
        b"event: x\ndata: {oops\n\n"
        b"event: x\ndata:  \n\n"
        b"event: last\ndata: [1, 2]\n\n"
    )
    events = asyncio.run(_events(body))
    assert events[0] == VendorEvent(name="message", data={"value": 1})
    assert "cannot read boom" in _malformed(events[1]).message
    bad = _malformed(events[2])
    assert bad.provider_data == {"event": "x", "data": "{oops"}
    assert events[3] == VendorEvent(name="x", data={"value": {}})
    assert events[4] == VendorEvent(name="last", data={"value": [1, 2]})
    assert len(events) == 5


@pytest.mark.parametrize(
    "data",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        "1" * 5000,
        '{"x": ' + "9" * 400 + "}",
        "[" * (sse.MAX_DEPTH + 1) + "]" * (sse.MAX_DEPTH + 1),
    ],
)
def test_deep_nesting_and_huge_integers_are_non_fatal(data: str) -> None:
    for name in ("x", "float"):
        event = sse.to_event(ServerSentEvent(event=name, data=data), _vendor, provider="acme")
        bad = _malformed(event)
        assert len(bad.provider_data["data"]) <= sse.MAX_RAW_CHARS + 1
        assert len(bad.message) < 400


def test_limits_allow_ordinary_payloads() -> None:
    nested = "[" * sse.MAX_DEPTH + "]" * sse.MAX_DEPTH
    assert sse.parse_event_data(nested) is not None
    text = json.dumps({"text": "[[[[{{{{" * 200 + '\\"]]]', "n": 10**30})
    assert sse.parse_event_data(text) == json.loads(text)
    assert sse.parse_event_data(" ") == {}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_data_becomes_an_event(data: str) -> None:
    event = sse.to_event(ServerSentEvent(event="float", data=data), _vendor, provider="acme")
    assert isinstance(event, VendorEvent | ErrorEvent)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), children, max_size=3)
        ),
        max_leaves=20,
    )
)
def test_parse_agrees_with_json_for_shallow_documents(value: Any) -> None:
    text = json.dumps(value)
    assert sse.parse_event_data(text, max_depth=1000) == json.loads(text)
