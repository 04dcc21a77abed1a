"""The adapter over ``httpx.MockTransport``: what goes on the wire, and what comes back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import convoport
from convoport import LiveOptions, SessionQuery, SessionStatus
from convoport.adapters.gladia.adapter import GladiaAdapter
from convoport.errors import (
    AuthenticationError,
    ConfigError,
    Conflict,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    UnsupportedOperation,
)
from convoport.http import RetryPolicy
from tests.adapters.gladia.payloads import JOB_ID, done_job, error_body, page, queued_job
from tests.support.transports import Handler, Observed, observed_mock

KEY = "test-key-0123456789"


def _json(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def client(handler: Handler, **options: Any) -> tuple[convoport.AsyncClient, Observed]:
    recorder = observed_mock(handler)
    c = convoport.connect(
        "gladia",
        api_key=KEY,
        transport=recorder,
        retry=RetryPolicy(attempts=2, backoff_base=0, backoff_max=0),
        **options,
    )
    return c, recorder


def _adapter(c: convoport.AsyncClient) -> GladiaAdapter:
    adapter = c.adapter
    assert isinstance(adapter, GladiaAdapter)
    return adapter


@pytest.mark.anyio
async def test_filters_on_the_wire() -> None:
    c, rec = client(lambda r: _json(200, page([], None)))
    query = SessionQuery(
        created_after=datetime(2026, 9, 1, tzinfo=UTC),
        created_before=datetime(2026, 9, 30, tzinfo=UTC),
        created_on="2026-09-14",
        statuses={SessionStatus.COMPLETED, SessionStatus.FAILED},
        metadata={"user": "John Doe"},
    )
    async with c:
        assert [s async for s in c.list_sessions(query, page_size=7)] == []
    (request,) = rec.requests
    assert request.method == "GET"
    assert request.url.path == "/v2/live"
    assert sorted(request.url.params.multi_items()) == sorted(
        [
            ("offset", "0"),
            ("limit", "7"),
            ("date", "2026-09-14"),
            ("before_date", "2026-09-30T00:00:00.000Z"),
            ("after_date", "2026-09-01T00:00:00.000Z"),
            ("status", "done"),
            ("status", "error"),
            ("custom_metadata[user]", "John Doe"),
        ]
    )
    assert "region" not in request.url.params
    assert request.headers["x-gladia-key"] == KEY


@pytest.mark.anyio
async def test_statuses_gladia_cannot_express_list_nothing_without_a_request() -> None:
    c, rec = client(lambda r: _json(200, page([done_job()], None)))
    async with c:
        query = SessionQuery(statuses={SessionStatus.ACTIVE})
        assert [s async for s in c.list_sessions(query)] == []
    assert rec.requests == []


@pytest.mark.anyio
async def test_pagination_follows_next_until_null() -> None:
    second = "https://api.gladia.io/v2/live?offset=1&limit=1&status=done"
    jobs = [done_job(), {**done_job(), "id": "11111111-2222-4333-8444-555555555555"}]
    del jobs[1]["post_session_metadata"]  # list items may lack it

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("offset") == "1":
            return _json(200, page([jobs[1]], None))
        return _json(200, page([jobs[0]], second))

    c, rec = client(handler)
    async with c:
        ids = [s.id async for s in c.list_sessions(page_size=1)]
    assert ids == [JOB_ID, "11111111-2222-4333-8444-555555555555"]
    assert str(rec.requests[1].url) == second
    assert all(r.headers["x-gladia-key"] == KEY for r in rec.requests)


@pytest.mark.anyio
async def test_pagination_stops_on_an_empty_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("offset") == "1":
            return _json(200, page([], "https://api.gladia.io/v2/live?offset=2&limit=1"))
        return _json(200, page([done_job()], "https://api.gladia.io/v2/live?offset=1&limit=1"))

    c, rec = client(handler)
    async with c:
        assert len([s async for s in c.list_sessions(page_size=1)]) == 1
    assert len(rec.requests) == 2


@pytest.mark.anyio
async def test_pagination_refuses_another_host_and_never_sends_the_key_there() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _json(200, page([done_job()], "https://evil.example/v2/live?offset=1&limit=1"))

    c, rec = client(handler)
    async with c:
        with pytest.raises(MalformedResponse, match="another host"):
            _ = [s async for s in c.list_sessions(page_size=1)]
    assert [r.url.host for r in rec.requests] == ["api.gladia.io"]


@pytest.mark.anyio
async def test_get_session_and_404_naming_the_session() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(JOB_ID):
            return _json(200, done_job())
        return _json(404, error_body(404, "Live job not found"))

    c, _ = client(handler)
    async with c:
        assert (await c.get_session(JOB_ID)).status is SessionStatus.COMPLETED
        with pytest.raises(NotFound) as info:
            await c.get_session("nope")
    assert "session nope not found" in str(info.value)
    assert info.value.request_id == "G-821fe9df"


@pytest.mark.anyio
async def test_session_ids_are_quoted_into_the_path() -> None:
    c, rec = client(lambda r: _json(404, error_body(404, "Live job not found")))
    async with c:
        with pytest.raises(NotFound):
            await c.get_session("../v2/other?x=1")
    assert rec.requests[0].url.raw_path == b"/v2/live/..%2Fv2%2Fother%3Fx%3D1"


@pytest.mark.anyio
async def test_delete_202_and_403_conflict_with_hint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("busy"):
            return _json(403, error_body(403, "The live job is not in a deletable state"))
        return httpx.Response(202)

    c, rec = client(handler)
    async with c:
        await c.delete_session(JOB_ID)
        with pytest.raises(Conflict) as info:
            await c.delete_session("busy")
    assert rec.requests[0].method == "DELETE"
    assert info.value.status_code == 403
    assert info.value.hint == "the job must be done or errored before it can be deleted"
    assert "must be done or errored" in str(info.value)


@pytest.mark.anyio
async def test_patch_post_session_metadata() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if len(request.content) > 100:
            return _json(413, error_body(413, "The post_request_metadata parameter is too big"))
        return httpx.Response(204)

    c, rec = client(handler)
    async with c:
        adapter = _adapter(c)
        await adapter.ex_update_post_session_metadata(JOB_ID, {"note": "ok"})
        with pytest.raises(InvalidRequest) as info:
            await adapter.ex_update_post_session_metadata(JOB_ID, {"blob": "x" * 200})
        with pytest.raises(ConfigError):
            await adapter.ex_update_post_session_metadata(JOB_ID, ["x"])  # type: ignore[arg-type]
    assert rec.requests[0].method == "PATCH"
    assert json.loads(rec.requests[0].content) == {"note": "ok"}
    assert len(rec.requests) == 2  # 413 is not retried
    assert info.value.status_code == 413
    assert info.value.hint is not None
    assert "100 kB" in info.value.hint


@pytest.mark.anyio
async def test_validation_errors_reach_the_message() -> None:
    body = error_body(400, "Invalid", validation_errors=["encoding must be one of wav/pcm"])
    c, _ = client(lambda r: _json(400, body))
    async with c:
        with pytest.raises(InvalidRequest, match="encoding must be one of wav/pcm"):
            await c.start_live(LiveOptions())


@pytest.mark.anyio
async def test_auth_failure() -> None:
    c, _ = client(lambda r: _json(401, error_body(401, "gladia user not found")))
    async with c:
        with pytest.raises(AuthenticationError, match="gladia user not found"):
            await c.get_session(JOB_ID)


@pytest.mark.anyio
async def test_transcript_and_summary_absent() -> None:
    job = queued_job()
    c, _ = client(lambda r: _json(200, job))
    async with c:
        with pytest.raises(NotFound, match="has no transcript"):
            await c.get_transcript(JOB_ID)
        with pytest.raises(NotFound, match="has no summary"):
            await c.get_summary(JOB_ID)
        assert await c.list_recordings(JOB_ID) == []


@pytest.mark.anyio
async def test_download_uses_response_headers() -> None:
    wav = b"RIFF" + b"\0" * 60

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/file"):
            return httpx.Response(
                200,
                content=wav,
                headers={
                    "content-type": "audio/x-wav",
                    "content-disposition": 'attachment; filename="../session.wav"',
                },
            )
        return _json(200, done_job())

    c, rec = client(handler)
    async with c, c.open_recording(JOB_ID) as stream:
        data = b"".join([chunk async for chunk in stream.aiter_bytes()])
        recording = stream.recording
    assert data == wav
    assert recording.media_type == "audio/x-wav"
    assert recording.size == len(wav)
    assert recording.filename == ".._session.wav"
    assert rec.requests[-1].url.path == f"/v2/live/{JOB_ID}/file"


@pytest.mark.anyio
async def test_download_404_names_the_session() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/file"):
            return _json(404, error_body(404, "Audio not found"))
        return _json(200, done_job())

    c, _ = client(handler)
    async with c:
        with pytest.raises(NotFound, match=f"session {JOB_ID} has no audio file"):
            async with c.open_recording(JOB_ID):
                pass


@pytest.mark.anyio
async def test_live_init_region_only_on_post_and_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _json(503, error_body(503, "down"))

    c, rec = client(handler, region="eu-west")
    async with c:
        with pytest.raises(convoport.ProviderUnavailable):
            await c.start_live(LiveOptions(languages=("en",)))
    (request,) = rec.requests  # a POST that creates a job is not retried blindly
    assert request.method == "POST"
    assert request.url.params["region"] == "eu-west"
    body = json.loads(request.content)
    assert "region" not in body
    assert body["language_config"] == {"languages": ["en"]}


@pytest.mark.anyio
async def test_live_options_validated_before_any_request() -> None:
    c, rec = client(lambda r: _json(500, {}))
    async with c:
        with pytest.raises(ConfigError, match="sample_rate"):
            await c.start_live(LiveOptions(sample_rate=11025))
        with pytest.raises(ConfigError, match="region"):
            await c.start_live(LiveOptions(region="moon"))
    assert rec.requests == []


def test_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="GLADIA_API_KEY"):
        convoport.connect("gladia")
    monkeypatch.setenv("GLADIA_API_KEY", "from-env")
    monkeypatch.setenv("GLADIA_REGION", "us-west")
    adapter = convoport.connect("gladia").adapter
    assert isinstance(adapter, GladiaAdapter)
    assert adapter.config.api_key == "from-env"
    assert adapter.config.region == "us-west"
    assert adapter.config.base_url == "https://api.gladia.io"
    with pytest.raises(ConfigError, match="region"):
        convoport.connect("gladia", api_key="k", region="mars")
    c = convoport.connect("gladia", api_key="abcdefgh-secret")
    assert "abcdefgh-secret" not in repr(c.adapter)


def test_capabilities() -> None:
    caps = GladiaAdapter.capabilities
    assert caps.as_dict() == {
        "filters": ["created_after", "created_before", "created_on", "metadata", "statuses"],
        "orders": ["newest"],
        "ports": [
            "catalog.delete",
            "catalog.get",
            "catalog.list",
            "live.ingest",
            "recordings",
            "summaries",
            "transcripts",
        ],
    }


@pytest.mark.anyio
async def test_undeclared_operations_raise_before_io() -> None:
    c, rec = client(lambda r: _json(500, {}))
    async with c:
        with pytest.raises(UnsupportedOperation, match="participants"):
            await c.list_participants(JOB_ID)
    assert rec.requests == []
