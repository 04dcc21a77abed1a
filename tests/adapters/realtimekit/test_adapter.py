"""The RealtimeKit adapter over HTTP: configuration, paging and its cap, the storage host that
never sees the token, links refreshed by time and by refusal, constant memory, rate limits,
both error envelopes, extensions."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import pytest

import convoport
from convoport.adapters.realtimekit import wire
from convoport.adapters.realtimekit.adapter import RealtimeKitAdapter
from convoport.adapters.realtimekit.emulator import (
    ACCOUNT_ID,
    APP_ID,
    LINK_TTL,
    RealtimeKitEmulator,
    media_bytes,
)
from convoport.errors import (
    AuthenticationError,
    ConfigError,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from convoport.http import RetryPolicy
from tests.adapters.realtimekit.test_translate import participant_payload, recording_payload
from tests.support.transports import Handler, Observed

TOKEN = "cf-token-1234567890abcdef"
CONNECT: dict[str, Any] = {"api_token": TOKEN, "account_id": ACCOUNT_ID, "app_id": APP_ID}
NO_WAIT = RetryPolicy(attempts=3, backoff_base=0.0, backoff_max=0.0)


def emulated(
    harness: RealtimeKitEmulator | None = None, **options: Any
) -> tuple[convoport.AsyncClient, RealtimeKitEmulator, Observed]:
    harness = harness or RealtimeKitEmulator(api_key=TOKEN)
    observed = Observed(harness.transport())
    client = convoport.connect(
        "realtimekit", transport=observed, retry=NO_WAIT, **{**CONNECT, **options}
    )
    return client, harness, observed


def mocked(handler: Handler, **options: Any) -> convoport.AsyncClient:
    settings: dict[str, Any] = {"retry": NO_WAIT, **CONNECT, **options}
    return convoport.connect("realtimekit", transport=httpx.MockTransport(handler), **settings)


def ok(data: Any, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data, **extra})


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ("api_token", "CLOUDFLARE_API_TOKEN"),
        ("account_id", "CLOUDFLARE_ACCOUNT_ID"),
        ("app_id", "REALTIMEKIT_APP_ID"),
    ],
)
def test_each_missing_setting_names_its_variable(
    missing: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "REALTIMEKIT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    options = {k: v for k, v in CONNECT.items() if k != missing}
    with pytest.raises(ConfigError) as info:
        convoport.connect("realtimekit", **options)
    assert variable in str(info.value)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("REALTIMEKIT_APP_ID", APP_ID)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "https://cf.example/client/v4")
    monkeypatch.setenv("REALTIMEKIT_PEER_REPORTS", "no")
    client = convoport.connect("realtimekit")
    adapter = client.adapter
    assert isinstance(adapter, RealtimeKitAdapter)
    assert adapter.config.base_url == "https://cf.example/client/v4"
    assert adapter.config.peer_reports is False
    assert TOKEN not in repr(adapter)
    assert TOKEN not in repr(adapter.config)
    asyncio.run(client.aclose())
    for bad in ({"account_id": "  "}, {"peer_reports": "sometimes"}, {"max_pages": 0}):
        with pytest.raises(ConfigError):
            convoport.connect("realtimekit", **{**CONNECT, **bad})


# -- the storage host never sees the token ------------------------------------------------------


def test_every_download_goes_to_the_storage_host_without_the_token() -> None:
    client, harness, observed = emulated()
    session = next(s for s in harness.top_level("ENDED") if s.chat and s.summary)
    rec = next(r for r in harness.recordings.values() if r["download_url"])

    async def run() -> None:
        async with client:
            await client.list_chat(session.id)
            await client.get_transcript(session.id)
            await client.get_summary(session.id)
            async with client.open_recording(rec["session_id"], recording_id=rec["id"]) as stream:
                got = b"".join([c async for c in stream.aiter_bytes()])
            assert got == media_bytes(rec["id"])

    asyncio.run(run())
    storage = [r for r in observed.requests if r.url.host != "api.cloudflare.com"]
    api = [r for r in observed.requests if r.url.host == "api.cloudflare.com"]
    assert {r.url.path.split("/")[2] for r in storage} == {
        "chat",
        "transcripts",
        "summaries",
        "recordings",
    }
    for request in storage:
        assert request.url.host == "realtimekit-storage.example"
        assert "authorization" not in request.headers
        assert "cookie" not in request.headers
        assert TOKEN not in str(request.url)
        assert all(TOKEN not in v for v in request.headers.values())
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in api)


def test_a_link_past_its_expiry_is_refreshed_before_use() -> None:
    client, harness, observed = emulated()
    rec = next(r for r in harness.recordings.values() if r["download_url"])

    async def run() -> bytes:
        async with client:
            (listed,) = [
                r for r in await client.list_recordings(rec["session_id"]) if r.id == rec["id"]
            ]
            assert listed.expires_at is not None
            old = attrs.evolve(listed, expires_at=datetime.now(UTC) - timedelta(seconds=1))
            adapter = client.adapter
            session = await client.get_session(rec["session_id"])
            observed.requests.clear()
            async with adapter._open_recording(session, old) as stream:
                return b"".join([c async for c in stream.aiter_bytes()])

    assert asyncio.run(run()) == media_bytes(rec["id"])
    first, second = observed.requests[:2]
    assert first.url.host == "api.cloudflare.com"  # a fresh link first
    assert first.url.path.endswith(f"/recordings/{rec['id']}")
    assert second.url.host == "realtimekit-storage.example"


def test_a_link_that_expired_on_the_storage_clock_is_asked_again() -> None:
    client, harness, observed = emulated()
    session = next(s for s in harness.top_level("ENDED") if s.chat)

    async def run() -> None:
        async with client:
            adapter = client.adapter
            assert isinstance(adapter, RealtimeKitAdapter)
            url, _, _ = await adapter._link(session.id, "chat", "x", "y")
            harness.clock.advance(LINK_TTL + 5)  # the storage host's clock moved on
            stale = adapter._download(
                url, None, adapter._refresher(session.id, "chat", "x", "y"), "chat"
            )
            body = b"".join([c async for c in stale.aiter_bytes()])
            assert body.startswith(b"id,") or b"payload" in body.split(b"\r\n")[0]
            assert stale.refreshes == 1

    asyncio.run(run())
    statuses = [r.url.host for r in observed.requests]
    assert statuses.count("realtimekit-storage.example") == 2


def test_a_link_that_keeps_failing_is_permission_denied_with_its_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.example":
            return httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
        if request.url.path.endswith("/chat"):
            return ok(
                {
                    "chat_download_url": "https://storage.example/c.csv?X-Amz-Signature=s",
                    "chat_download_url_expiry": "",
                }
            )
        return ok({"id": "s1", "status": "ENDED"})

    async def run() -> None:
        async with mocked(handler) as client:
            await client.list_chat("s1")

    with pytest.raises(PermissionDenied) as info:
        asyncio.run(run())
    assert info.value.details["reason"] == "link_expired"
    assert "X-Amz-Signature=s" not in str(info.value)


def test_downloads_stream_in_constant_memory() -> None:
    size = 24 << 20
    piece = bytes(range(256)) * 256  # 64 KiB

    class Big(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(size // len(piece)):
                yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.example":
            return httpx.Response(200, stream=Big(), headers={"content-length": str(size)})
        if request.url.path.endswith("/recordings"):
            item = recording_payload(
                session_id="s1",
                download_url="https://storage.example/big.mp4",
                download_url_expiry=None,
                file_size=size,
            )
            return httpx.Response(
                200, json={"success": True, "data": [item], "paging": {"total_count": 1}}
            )
        return ok({"id": "s1", "status": "ENDED", "associated_id": "m1"})

    async def run() -> int:
        total = 0
        async with mocked(handler) as client, client.open_recording("s1") as stream:
            async for chunk in stream.aiter_bytes():
                total += len(chunk)
        return total

    tracemalloc.start()
    try:
        assert asyncio.run(run()) == size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes for a {size}-byte download"


# -- paging -----------------------------------------------------------------------------------


def test_sessions_paging_stops_on_total_count_and_on_a_short_page() -> None:
    client, _, observed = emulated()

    async def listed(**kwargs: Any) -> list[str]:
        return [s.id async for s in client.list_sessions(**kwargs)]

    ids = asyncio.run(listed(page_size=7))
    assert len(ids) == 40
    pages = [r for r in observed.requests if r.url.path.endswith("/sessions")]
    assert [r.url.params["page_no"] for r in pages] == ["1", "2", "3", "4", "5", "6"]
    assert all(r.url.params["per_page"] == "7" for r in pages)

    def no_paging(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page_no"])
        count = 3 if page < 3 else 1
        sessions = [{"id": f"s{page}-{i}", "status": "ENDED"} for i in range(count)]
        return ok({"sessions": sessions})

    async def short() -> list[str]:
        async with mocked(no_paging) as c:
            return [s.id async for s in c.list_sessions(page_size=3)]

    assert asyncio.run(short()) == [f"s{p}-{i}" for p in (1, 2) for i in range(3)] + ["s3-0"]


def test_a_listing_that_never_ends_stops_at_the_page_cap() -> None:
    calls: list[int] = []

    def endless(request: httpx.Request) -> httpx.Response:
        if "page_no" not in request.url.params:
            return ok({"id": "s1", "status": "ENDED"})
        page = int(request.url.params["page_no"])
        calls.append(page)
        if request.url.path.endswith("/participants"):
            people = [participant_payload(id=f"p{page}-{i}") for i in range(100)]
            return ok({"participants": people})
        return ok({"sessions": [{"id": f"s{page}-{i}", "status": "ENDED"} for i in range(2)]})

    async def sessions() -> None:
        async with mocked(endless, max_pages=5) as c:
            async for _ in c.list_sessions(page_size=2):
                pass

    with pytest.raises(MalformedResponse) as info:
        asyncio.run(sessions())
    assert "did not end after 5 pages" in str(info.value)
    assert calls == [1, 2, 3, 4, 5]
    calls.clear()

    async def people() -> None:
        async with mocked(endless, max_pages=3) as c:
            await c.list_participants("s1")

    with pytest.raises(MalformedResponse):
        asyncio.run(people())
    assert calls[-3:] == [1, 2, 3]


def test_participants_and_recordings_follow_their_pages() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        page = int(request.url.params.get("page_no", "1"))
        seen.append(f"{path.rsplit('/', 1)[-1]}:{page}:{request.url.params.get('meeting_id')}")
        if path.endswith("/participants"):
            count = 100 if page == 1 else 20
            people = [participant_payload(id=f"p{page}-{i}") for i in range(count)]
            return ok({"participants": people, "paging": {"total_count": 120}})
        if path.endswith("/recordings"):
            items = [
                recording_payload(id=f"r{page}-{i}", session_id="s1" if i % 2 else "other")
                for i in range(100 if page == 1 else 10)
            ]
            body = {
                "success": True,
                "data": items,
                "paging": {"total_count": 110, "end_offset": page * 100},
            }
            return httpx.Response(200, json=body)
        return ok({"id": "s1", "status": "ENDED", "associated_id": "meeting-1"})

    async def run() -> tuple[int, int]:
        async with mocked(handler) as c:
            people = await c.list_participants("s1")
            recordings = await c.list_recordings("s1")
            return len(people), len(recordings)

    assert asyncio.run(run()) == (120, 55)
    assert "recordings:2:meeting-1" in seen
    assert "participants:2:None" in seen


def test_a_transcript_reuses_the_participants_of_a_finished_session() -> None:
    client, harness, observed = emulated()
    session = next(s for s in harness.top_level("ENDED") if s.transcript)

    async def run() -> None:
        async with client:
            full = await client.get_session(session.id)
            await client.get_transcript(full)
            await client.list_participants(full)

    asyncio.run(run())
    listed = [r for r in observed.requests if r.url.path.endswith("/participants")]
    assert len(listed) == 1


# -- rate limits and errors -------------------------------------------------------------------


def test_a_429_waits_for_retry_after_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("convoport.http.asyncio.sleep", sleep)
    answers = iter(
        [
            httpx.Response(
                429,
                json={"success": False, "error": {"code": 429, "message": "Too many requests"}},
                headers={"retry-after": "3"},
            ),
            ok({"id": "s1", "status": "ENDED"}),
        ]
    )

    async def run() -> str:
        async with mocked(lambda r: next(answers), retry=RetryPolicy(attempts=3)) as c:
            return (await c.get_session("s1")).id

    assert asyncio.run(run()) == "s1"
    assert waits == [3.0]


def test_the_global_block_is_reported_at_once_with_its_retry_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {
            "success": False,
            "errors": [{"code": 10000, "message": wire.CF_GLOBAL_LIMIT_MESSAGE}],
            "messages": [],
            "result": None,
        }
        return httpx.Response(429, json=body)  # no Retry-After: the five minutes assumed

    async def run() -> None:
        async with mocked(handler, retry=RetryPolicy(attempts=5, retry_after_cap=600)) as c:
            await c.get_session("s1")

    with pytest.raises(RateLimited) as info:
        asyncio.run(run())
    assert info.value.retry_after == 300.0
    assert info.value.retryable is False
    assert len(sent) == 1
    assert "5 minutes" in (info.value.hint or "")


def service(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}}


def gateway(code: int, message: str) -> dict[str, Any]:
    errors = [{"code": code, "message": message}]
    return {"success": False, "errors": errors, "messages": [], "result": None}


@pytest.mark.parametrize(
    ("status", "body", "error", "code", "message"),
    [
        (404, service(404, "Error: gone"), NotFound, "404", "Error: gone"),
        (400, service(400, "Error: bad"), InvalidRequest, "400", "Error: bad"),
        (401, gateway(10000, "Authentication error"), AuthenticationError, "10000", "Authent"),
        (403, gateway(10000, "Authentication error"), PermissionDenied, "10000", "Authent"),
        (404, gateway(7003, "No route for that URI"), NotFound, "7003", "No route for that URI"),
    ],
)
def test_both_envelopes_become_typed_errors_with_code_and_message(
    status: int, body: Any, error: type[Exception], code: str, message: str
) -> None:
    async def run() -> None:
        async with mocked(lambda r: httpx.Response(status, json=body)) as c:
            await c.list_participants("s1")

    with pytest.raises(error) as info:
        asyncio.run(run())
    exc: Any = info.value
    assert exc.details["code"] == code
    assert message in str(exc)
    assert TOKEN not in str(exc)


def test_a_success_status_with_success_false_is_malformed() -> None:
    async def run() -> None:
        async with mocked(lambda r: httpx.Response(200, json={"success": False, "data": {}})) as c:
            await c.get_session("s1")

    with pytest.raises(MalformedResponse):
        asyncio.run(run())


def test_emulator_errors_through_the_client() -> None:
    async def run(harness: RealtimeKitEmulator, **options: Any) -> Any:
        client, _, _ = emulated(harness, **options)
        async with client:
            return await client.get_session("00000000-0000-4000-8000-000000000000")

    with pytest.raises(NotFound) as missing:
        asyncio.run(run(RealtimeKitEmulator(api_key=TOKEN)))
    assert "session 00000000-0000-4000-8000-000000000000 not found" in str(missing.value)
    with pytest.raises(AuthenticationError) as denied:
        asyncio.run(run(RealtimeKitEmulator(api_key=TOKEN), api_token="wrong-token-123"))
    assert "CLOUDFLARE_API_TOKEN" in (denied.value.hint or "")
    with pytest.raises(NotFound) as route:
        asyncio.run(run(RealtimeKitEmulator(api_key=TOKEN), account_id="0" * 32))
    assert "CLOUDFLARE_ACCOUNT_ID" in (route.value.hint or "")


# -- extensions -------------------------------------------------------------------------------


def test_participant_details_and_peer_reports() -> None:
    client, harness, observed = emulated()
    session = next(s for s in harness.top_level("ENDED") if len(s.participants) > 2)

    async def run() -> None:
        async with client:
            adapter = client.adapter
            assert isinstance(adapter, RealtimeKitAdapter)
            people = await client.list_participants(session.id)
            extras = await adapter._session_extras(await client.get_session(session.id))
            assert sorted(extras["peer_reports"]) == sorted(p.id for p in people)
            for person in people:
                report = extras["peer_reports"][person.id]
                assert report["id"] == person.id
                assert report["peer_report"]["metadata"]["sdk_name"]
            first = session.participants[0]
            one = await adapter.ex_get_session_participant_details(
                session.id, first["id"], include_peer_events=True
            )
            assert one.id == first["id"]
            assert one.display_name == first["display_name"]
            assert [e["event_name"] for e in one.provider_data["peer_events"]][:2] == [
                "PEER_CREATED",
                "PEER_JOINING",
            ]
            report = await adapter.ex_get_participant_data_from_peer_id(
                first["id"], filters="quality_stats"
            )
            assert report["session_id"] == session.id
            assert report["role"] == first["preset_name"]
            with pytest.raises(NotFound):
                await adapter.ex_get_participant_data_from_peer_id("nobody")

    asyncio.run(run())
    reports = [r for r in observed.requests if "/peer-report/" in r.url.path]
    assert len(reports) >= len(session.participants)


def test_reading_a_summary_never_generates_one() -> None:
    client, harness, observed = emulated()
    session = next(s for s in harness.top_level("ENDED") if s.transcript and s.summary is None)

    async def run() -> str:
        async with client:
            with pytest.raises(NotFound) as info:
                await client.get_summary(session.id)
            assert "ex_generate_summary_of_transcripts" in (info.value.hint or "")
            adapter = client.adapter
            assert isinstance(adapter, RealtimeKitAdapter)
            answer = await adapter.ex_generate_summary_of_transcripts(session.id)
            assert answer == {"session_id": session.id, "status": "IN_PROGRESS"}
            return (await client.get_summary(session.id)).text

    text = asyncio.run(run())
    assert text == harness.session(session.id).summary
    assert [r.method for r in observed.requests].count("POST") == 1
    no_transcript = next(s for s in harness.top_level("ENDED") if not s.transcript)

    async def refused() -> None:
        c, _, _ = emulated(harness)
        async with c:
            adapter = c.adapter
            assert isinstance(adapter, RealtimeKitAdapter)
            await adapter.ex_generate_summary_of_transcripts(no_transcript.id)

    with pytest.raises(NotFound) as info:
        asyncio.run(refused())
    assert "needs the session's transcript" in (info.value.hint or "")


def test_seeding_is_deterministic_and_scales() -> None:
    a = RealtimeKitEmulator(seed=3, sessions=60)
    b = RealtimeKitEmulator(seed=3, sessions=60)
    assert [s.raw for s in a.top_level()] == [s.raw for s in b.top_level()]
    assert a.recordings == b.recordings
    assert [s.id for s in RealtimeKitEmulator(seed=4, sessions=60).top_level()] != [
        s.id for s in a.top_level()
    ]
    big = RealtimeKitEmulator(sessions=10_000)
    assert len(big.top_level()) == 10_000
    kinds = {s.raw["type"] for s in big.top_level()}
    assert kinds == {"meeting", "livestream", "participant"}
    digest = hashlib.sha256(media_bytes("x")).hexdigest()
    assert digest == hashlib.sha256(media_bytes("x")).hexdigest()
