"""Hostile Syllable payloads: the translators give a neutral object or a typed convoport error.

Realistic payloads (from the emulator's seeded data) are mutated at random places — a key
removed, a value set to null, to a value of another type, or to an unknown enum word — and
arbitrary JSON is thrown at every reader. Through the translators and through
``convoport.AsyncClient`` (over ``httpx.MockTransport``) nothing but ``ConvoportError`` (for
payloads: ``MalformedResponse``) may come out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convoport
from convoport.adapters.syllable import translate
from convoport.adapters.syllable.emulator import SyllableEmulator
from convoport.errors import ConfigError, ConvoportError, MalformedResponse
from tests.support.fuzz import mutated as mutate

HARNESS = SyllableEmulator()
VOICE = next(s for s in HARNESS.listed() if s.voice and s.ended and s.recordings)
SESSION = VOICE.wire
PAGE = {"items": [s.wire for s in HARNESS.listed()[:3]], "page": 0, "page_size": 3}
TRANSCRIPT = HARNESS.transcript_for(VOICE)
LATENCY = HARNESS.latency_for(VOICE)
TIMELINE = HARNESS.timeline_for(VOICE)
RECORDINGS = {
    "session_id": VOICE.id,
    "recordings": ["https://api.syllable.cloud/api/v1/sessions/recording/stream?token=t"],
}
LABELS = {"items": list(HARNESS.labels.values())[:2], "page": 0, "page_size": 25}

JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
WORDS = st.sampled_from(["vad", "", "2026-13-45T99:00:00Z", "-1", "NaN", "unset", "\x00", "é" * 3])


def mutated(base: Any) -> st.SearchStrategy[Any]:
    """``base`` with 1 to 3 mutations (a key or item removed, null, any JSON, an unknown
    word)."""
    return mutate(base, values=JSON, words=WORDS, max_mutations=3)


def _session() -> Any:
    return translate.session_from_wire(SESSION)


READERS: dict[str, Any] = {
    "session": lambda d: translate.session_from_wire(d),
    "page": lambda d: translate.list_page_from_wire(d, page=0, limit=3),
    "transcript": lambda d: translate.transcript_from_wire(d, session_id="1"),
    "summary": lambda d: translate.summary_from_wire(d, session_id="1"),
    "participants": lambda d: translate.participants_from_wire(d, session_id="1"),
    "recordings": lambda d: translate.recordings_from_wire(d, session=_session()),
    "latency": translate.latency_from_wire,
    "timeline": translate.timeline_from_wire,
    "labels": lambda d: translate.labels_page_from_wire(d, page=0, limit=25),
}
BASES = {
    "session": SESSION,
    "page": PAGE,
    "transcript": TRANSCRIPT,
    "summary": {"summary": "ok", "rating": "Good"},
    "participants": SESSION,
    "recordings": RECORDINGS,
    "latency": LATENCY,
    "timeline": TIMELINE,
    "labels": LABELS,
}


def _only_typed_errors(name: str, data: Any) -> None:
    with contextlib.suppress(MalformedResponse):
        READERS[name](data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(READERS)), st.data())
def test_mutated_payloads_give_a_result_or_malformed_response(
    name: str, data: st.DataObject
) -> None:
    _only_typed_errors(name, data.draw(mutated(BASES[name])))


@settings(max_examples=200)
@given(st.sampled_from(sorted(READERS)), JSON)
def test_arbitrary_json_gives_a_result_or_malformed_response(name: str, value: Any) -> None:
    _only_typed_errors(name, value)


@settings(max_examples=200)
@given(
    st.integers(min_value=100, max_value=599),
    st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v).encode()),
)
def test_error_hook_never_raises(status: int, body: bytes) -> None:
    request = httpx.Request("GET", "https://api.syllable.cloud/api/v1/sessions/")
    translate.error_info_from_wire(httpx.Response(status, content=body, request=request), body)


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_search_text_gives_terms_or_config_error(text: str) -> None:
    try:
        terms = translate.search_terms(text)
    except ConfigError:
        return
    assert terms
    assert all(field and value for field, value in terms)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_through_the_client_only_convoport_errors(data: st.DataObject) -> None:
    """A mutated answer on every route reaches the user as a result or a ConvoportError."""
    page = data.draw(mutated(PAGE))
    session = data.draw(mutated(SESSION))
    transcript = data.draw(mutated(TRANSCRIPT))

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/sessions/":
            return httpx.Response(200, json=page)
        if "/transcript/" in path:
            return httpx.Response(200, json=transcript)
        return httpx.Response(200, json=session)

    async def run() -> None:
        async with convoport.connect(
            "syllable", api_key="k", transport=httpx.MockTransport(handler), transcript_wait=0
        ) as client:
            for call in (
                lambda: client.get_session("801"),
                lambda: client.get_transcript("801"),
                lambda: client.list_participants("801"),
            ):
                with contextlib.suppress(ConvoportError):
                    await call()
            try:
                async for _ in client.list_sessions(limit=5):
                    pass
            except ConvoportError:
                pass

    asyncio.run(run())
