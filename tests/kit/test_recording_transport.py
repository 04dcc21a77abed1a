"""Recording through a wrapped transport: redaction, body kinds, record -> replay round trips."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport.contracts.cassette import (
    BinaryBody,
    JsonBody,
    MultipartBody,
    TextBody,
    load_cassette,
)
from convoport.contracts.scan import scan_cassette
from convoport.contracts.transport import RecordingTransport, ReplayTransport
from convoport.redact import REDACTED, Redactor

API_KEY = "gk-live-0123456789abcdef"
BEARER = "bearer-secret-9876543210"
SESSION_TOKEN = "tok-xyz-5555-secret"
BASE = "https://api.gladia.io/v2/live"


def _vendor(request: httpx.Request) -> httpx.Response:
    """A fake vendor that insists on its credentials and hands out a session token."""
    assert request.headers["x-gladia-key"] == API_KEY
    assert request.headers["authorization"] == f"Bearer {BEARER}"
    if request.method == "POST":
        sent = json.loads(request.content)
        return httpx.Response(
            201,
            headers={"x-request-id": "req-42", "set-cookie": f"session={API_KEY}"},
            json={
                "id": "abc",
                "url": f"wss://api.gladia.io/v2/live?token={SESSION_TOKEN}",
                "access_token": SESSION_TOKEN,
                "echo": sent["custom_metadata"],
            },
        )
    return httpx.Response(
        200,
        headers={"retry-after": "0", "x-ratelimit-remaining": "99", "cf-ray": "8a1b-AMS"},
        json={"items": [], "next": None},
    )


async def _record(path: Path) -> tuple[RecordingTransport, list[httpx.Response]]:
    recorder = RecordingTransport(httpx.MockTransport(_vendor), redactor=Redactor([API_KEY]))
    headers = {"x-gladia-key": API_KEY, "authorization": f"Bearer {BEARER}"}
    async with httpx.AsyncClient(transport=recorder, headers=headers) as client:
        listed = await client.get(
            BASE, params={"status": "done", "token": "query-token-1", "api_key": API_KEY}
        )
        created = await client.post(
            BASE,
            json={
                "encoding": "wav/pcm",
                "custom_metadata": {"note": f"key is {API_KEY}", "token": "body-token-2"},
            },
        )
    recorder.save(path, {"provider": "gladia", "scenario": "recorded", "source": "test"})
    return recorder, [listed, created]


@pytest.mark.anyio
async def test_recording_redacts_credentials_and_passes_the_scan(tmp_path: Path) -> None:
    path = tmp_path / "recorded.json"
    _, (listed, created) = await _record(path)

    # The caller gets the vendor's real answer.
    assert listed.json() == {"items": [], "next": None}
    assert created.status_code == 201
    assert created.json()["access_token"] == SESSION_TOKEN
    assert created.headers["set-cookie"] == f"session={API_KEY}"

    text = path.read_text(encoding="utf-8")
    for secret in (API_KEY, BEARER, SESSION_TOKEN, "query-token-1", "body-token-2"):
        assert secret not in text
    for header in ("x-gladia-key", "authorization", "set-cookie", "content-length"):
        assert f'"{header}"' not in text

    cassette = load_cassette(path)
    get, post = cassette.interactions
    assert get.request.url == f"{BASE}?status=done&token={REDACTED}&api_key={REDACTED}"
    assert get.request.headers == {"accept": "*/*"}
    assert get.response.headers == {
        "retry-after": "0",
        "x-ratelimit-remaining": "99",
        "cf-ray": "8a1b-AMS",
        "content-type": "application/json",
    }
    assert post.request.body == JsonBody(
        value={
            "encoding": "wav/pcm",
            "custom_metadata": {"note": f"key is {REDACTED}", "token": REDACTED},
        }
    )
    assert post.response.headers == {"x-request-id": "req-42", "content-type": "application/json"}
    assert isinstance(post.response.body, JsonBody)
    assert post.response.body.value["access_token"] == REDACTED
    assert post.response.body.value["url"] == f"wss://api.gladia.io/v2/live?token={REDACTED}"
    assert cassette.meta["scenario"] == "recorded"

    assert scan_cassette(path, secrets=[API_KEY, BEARER, SESSION_TOKEN]) == []


@pytest.mark.anyio
async def test_recorded_cassette_replays_the_same_requests(tmp_path: Path) -> None:
    path = tmp_path / "recorded.json"
    await _record(path)
    replay = ReplayTransport.from_path(path)
    headers = {"x-gladia-key": API_KEY, "authorization": f"Bearer {BEARER}"}
    async with httpx.AsyncClient(transport=replay, headers=headers) as client:
        listed = await client.get(
            BASE, params={"api_key": API_KEY, "token": "another-token", "status": "done"}
        )
        created = await client.post(
            BASE,
            json={
                "encoding": "wav/pcm",
                "custom_metadata": {"note": f"key is {API_KEY}", "token": "body-token-2"},
            },
        )
    assert listed.json() == {"items": [], "next": None}
    assert created.status_code == 201
    assert created.json()["access_token"] == REDACTED
    replay.assert_all_used()


@pytest.mark.anyio
async def test_body_kinds_follow_content_type() -> None:
    def vendor(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 1)[-1]
        if kind == "sse":
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, text="data: 1\n\n"
            )
        if kind == "csv":
            return httpx.Response(200, headers={"content-type": "text/csv"}, text="a,b\n")
        if kind == "broken-json":
            return httpx.Response(200, headers={"content-type": "application/json"}, text="{oops")
        if kind == "problem":
            return httpx.Response(
                404, headers={"content-type": "application/problem+json"}, text='{"title":"x"}'
            )
        if kind == "gzip":
            raw = gzip.compress(b'{"zipped":true}')
            return httpx.Response(
                200,
                headers={"content-type": "application/json", "content-encoding": "gzip"},
                content=raw,
            )
        return httpx.Response(200, headers={"content-type": "audio/wav"}, content=b"\xffRIFF")

    recorder = RecordingTransport(httpx.MockTransport(vendor))
    async with httpx.AsyncClient(transport=recorder, base_url="https://v.example") as client:
        for kind in ("sse", "csv", "broken-json", "problem", "gzip", "wav"):
            response = await client.get(f"/{kind}")
            if kind == "gzip":
                assert response.json() == {"zipped": True}  # the caller still decodes it
    bodies = [i.response.body for i in recorder.interactions]
    assert bodies == [
        TextBody(text="data: 1\n\n"),
        TextBody(text="a,b\n"),
        TextBody(text="{oops"),
        JsonBody(value={"title": "x"}),
        JsonBody(value={"zipped": True}),
        BinaryBody(data=b"\xffRIFF"),
    ]
    assert all(i.request.body is None for i in recorder.interactions)


@pytest.mark.anyio
async def test_multipart_uploads_are_stored_as_digests(tmp_path: Path) -> None:
    audio = bytes(range(256)) * 4

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"received": len(request.content)})

    recorder = RecordingTransport(httpx.MockTransport(vendor))
    async with httpx.AsyncClient(transport=recorder) as client:
        await client.post(
            f"{BASE}/abc/chunks",
            data={"chunk_seq": "3", "api_key": "form-secret"},
            files={"chunk": ("chunk-3", audio, "application/octet-stream")},
        )
    path = tmp_path / "upload.json"
    cassette = recorder.save(path, {"scenario": "live_ingest_roundtrip"})
    (interaction,) = cassette.interactions
    body = interaction.request.body
    assert isinstance(body, MultipartBody)
    assert body.fields == {"chunk_seq": ("3",), "api_key": (REDACTED,)}
    assert body.files["chunk"][0].size == len(audio)
    assert interaction.request.headers["content-type"] == "multipart/form-data"
    assert "form-secret" not in path.read_text(encoding="utf-8")

    replay = ReplayTransport(load_cassette(path))
    async with httpx.AsyncClient(transport=replay) as replaying:
        response = await replaying.post(
            f"{BASE}/abc/chunks",
            data={"chunk_seq": "3", "api_key": "form-secret"},
            files={"chunk": ("chunk-3", audio, "application/octet-stream")},
        )
    assert response.json()["received"] > len(audio)
    replay.assert_all_used()


@pytest.mark.anyio
async def test_recording_strips_user_info_and_secrets_in_the_path() -> None:
    recorder = RecordingTransport(
        httpx.MockTransport(lambda request: httpx.Response(204)), redactor=Redactor([API_KEY])
    )
    async with httpx.AsyncClient(transport=recorder) as client:
        await client.get(f"https://me:pw@api.example/hooks/{API_KEY}/x#frag")
    (interaction,) = recorder.interactions
    assert interaction.request.url == f"https://api.example/hooks/{REDACTED}/x"
    assert interaction.response.body is None


# -- property: record -> save -> load -> replay ------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=12)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_query = st.lists(
    st.tuples(st.text(st.characters(codec="utf-8"), min_size=1, max_size=8), _text),
    max_size=5,
)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_json, query=_query, answer=_json)
def test_any_json_body_and_query_round_trip(
    body: Any, query: list[tuple[str, str]], answer: Any
) -> None:
    url = "https://api.example/v1/things"
    json_type = {"content-type": "application/json"}
    # Explicit content: httpx treats json=None as "no body", and the JSON document null is one.
    sent = json.dumps(body).encode()
    answered = json.dumps(answer, ensure_ascii=False).encode()

    async def record() -> RecordingTransport:
        recorder = RecordingTransport(
            httpx.MockTransport(
                lambda request: httpx.Response(200, headers=json_type, content=answered)
            )
        )
        async with httpx.AsyncClient(transport=recorder) as client:
            response = await client.post(url, params=tuple(query), content=sent, headers=json_type)
        assert response.json() == answer
        return recorder

    recorder = anyio.run(record)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "property.json"
        recorder.save(path, {"scenario": "property"})
        text = path.read_text(encoding="utf-8")
        cassette = load_cassette(path)
    assert cassette.dumps() == text
    assert cassette.interactions == recorder.interactions

    replay = ReplayTransport(cassette)
    with httpx.Client(transport=replay) as client:
        response = client.post(url, params=tuple(query), content=sent, headers=json_type)
    assert response.status_code == 200
    replay.assert_all_used()
    # Keys in SECRET_KEYS are redacted in the stored answer; everything else comes back as is.
    stored = cassette.interactions[0].response.body
    assert isinstance(stored, JsonBody)
    assert response.json() == stored.value
