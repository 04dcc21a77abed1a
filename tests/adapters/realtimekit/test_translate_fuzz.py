"""Hostile RealtimeKit input: mutated JSON payloads, arbitrary CSV files and error bodies give
a neutral object or a typed convoport error — through the translators and through the client
over ``httpx.MockTransport`` — and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convoport
from convoport.adapters.realtimekit import translate
from convoport.errors import ConvoportError, MalformedResponse
from tests.adapters.realtimekit.test_translate import (
    SID,
    participant_payload,
    recording_payload,
    session_payload,
)
from tests.support.fuzz import json_values
from tests.support.fuzz import mutated as mutate

JSON_VALUES = json_values(int_bound=10**15, text_size=12)
WORDS = st.sampled_from(["", "live", "ENDED ", "2026-13-45T99", "-1", "1e400", "\x00", "会话"])
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PAYLOADS: dict[str, Any] = {
    "page": {
        "success": True,
        "data": {"sessions": [session_payload(breakout_rooms=[session_payload(id="r")])]},
        "paging": {"total_count": 3, "start_offset": 1, "end_offset": 1},
    },
    "details": {"success": True, "data": {"session": session_payload(), "meta": {}}},
    "participants": {
        "success": True,
        "data": {"participants": [participant_payload()], "paging": {"total_count": 1}},
    },
    "link": {
        "success": True,
        "data": {
            "sessionId": SID,
            "transcript_download_url": "https://storage.example/t.csv",
            "transcript_download_url_expiry": "2026-09-01T10:00:00.000Z",
        },
    },
    "recordings": {
        "success": True,
        "data": [
            recording_payload(),
            recording_payload(
                id="t",
                download_url=[
                    {"layer_name": "p", "download_urls": {"a.ogg": {"download_url": "https://s/a"}}}
                ],
            ),
        ],
        "paging": {"total_count": 2, "start_offset": 1, "end_offset": 2},
    },
}


def mutated(name: str) -> st.SearchStrategy[Any]:
    """``PAYLOADS[name]`` with 1 to 3 mutations (a key or item removed, null, another
    value, a hostile word)."""
    return mutate(PAYLOADS[name], values=JSON_VALUES, words=WORDS, max_mutations=3)


def _translate(name: str, doc: Any) -> None:
    if name == "page":
        translate.sessions_page_from_wire(doc)
    elif name == "details":
        translate.session_details_from_wire(doc)
    elif name == "participants":
        translate.participants_page_from_wire(SID, doc)
    elif name == "link":
        translate.link_from_wire(doc, "transcript")
    else:
        found, _paging = translate.recordings_page_from_wire(doc)
        translate.recordings_from_wire(SID, found)
        translate.recording_link_from_wire(
            {
                "success": True,
                "data": doc.get("data", [{}])[0]
                if isinstance(doc.get("data"), list) and doc["data"]
                else {},
            },
            "t:p:a.ogg",
        )


@FUZZ
@given(st.sampled_from(sorted(PAYLOADS)).flatmap(lambda n: st.tuples(st.just(n), mutated(n))))
def test_mutated_payloads_give_objects_or_malformed(case: tuple[str, Any]) -> None:
    name, doc = case
    with contextlib.suppress(MalformedResponse):
        _translate(name, doc)


@FUZZ
@given(
    status=st.integers(min_value=400, max_value=599),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            JSON_VALUES,
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["error", "errors", "code", "message", "error_chain", "success"]
                    ),
                    c,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    retry_after=st.one_of(st.none(), st.text(max_size=6), st.integers(-5, 10**6).map(str)),
)
def test_error_hook_never_raises(status: int, body: bytes, retry_after: str | None) -> None:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    try:
        response = httpx.Response(
            status,
            content=body,
            headers=headers,
            request=httpx.Request("GET", "https://api.cloudflare.com/x"),
        )
    except (ValueError, UnicodeEncodeError):
        return
    info = translate.error_info_from_wire(response, body)
    assert info is not None


# -- files through the client ---------------------------------------------------------------

CONNECT: dict[str, Any] = {"api_token": "t0ken-for-fuzz", "account_id": "acc", "app_id": "app"}


def _client(files: dict[str, bytes], details: Any | None = None) -> convoport.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "storage.example":
            assert "authorization" not in request.headers
            # a stream, not content=: SignedDownload reads the raw stream
            return httpx.Response(200, stream=httpx.ByteStream(files[path.rsplit("/", 1)[-1]]))
        if path.endswith("/participants"):
            return httpx.Response(200, json=PAYLOADS["participants"])
        for kind, name in (("transcript", "t.csv"), ("chat", "c.csv"), ("summary", "s.md")):
            if path.endswith("/" + kind):
                url_key, expiry_key = translate.LINK_KEYS[kind]
                data = {url_key: f"https://storage.example/{name}", expiry_key: ""}
                return httpx.Response(200, json={"success": True, "data": data})
        return httpx.Response(200, json=details or {"success": True, "data": session_payload()})

    return convoport.connect("realtimekit", transport=httpx.MockTransport(handler), **CONNECT)


async def _read(files: dict[str, bytes], what: str) -> Any:
    async with _client(files) as client:
        if what == "transcript":
            return await client.get_transcript(SID)
        if what == "chat":
            return await client.list_chat(SID)
        return await client.get_summary(SID)


CSV_TEXT = st.lists(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "1500",
                    "peer-1",
                    "Timestamp",
                    "id",
                    "payload",
                    "createdAt",
                    "2026-09-01T09:00:00Z",
                    "",
                    '"',
                    "a,b",
                    "\r\n",
                    "true",
                ]
            ),
            st.text(max_size=10),
        ),
        max_size=7,
    ),
    max_size=6,
).map(lambda rows: "\n".join(",".join(cells) for rows_ in [rows] for cells in rows_))


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=300), CSV_TEXT.map(str.encode), st.just(b"[{]")),
    what=st.sampled_from(["transcript", "chat", "summary"]),
)
def test_any_file_gives_a_result_or_a_typed_error(body: bytes, what: str) -> None:
    files = {"t.csv": body, "c.csv": body, "s.md": body}
    with contextlib.suppress(ConvoportError):
        asyncio.run(_read(files, what))


@FUZZ
@given(mutated("details"))
def test_mutated_details_through_the_client(doc: Any) -> None:
    async def get() -> Any:
        async with _client({}, details=doc) as client:
            return await client.get_session(SID)

    with contextlib.suppress(ConvoportError):
        asyncio.run(get())
