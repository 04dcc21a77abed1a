"""The Syllable adapter's behaviour through ``convoport.connect``: configuration, the listing
(client-side booleans, pages the client filters out), transcripts polled with a deadline,
recordings through ``convoport.signed`` (token refresh, pre-signed links without the key, any
content type), the extensions and what a migration archives."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import convoport
from convoport import SessionQuery, SessionStatus
from convoport.adapters.syllable.adapter import SyllableAdapter, SyllableConfig
from convoport.adapters.syllable.emulator import SyllableEmulator
from convoport.errors import ConfigError, InvalidRequest, NotFound, PermissionDenied

pytestmark = pytest.mark.anyio

BASE = "https://api.syllable.cloud"


def _session(sid: str, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": "2026-10-01T10:00:00Z",
        "session_id": sid,
        "channel_manager_type": "voice_twilio_v1",
        "duration": 60.0,
        **extra,
    }


def _mock(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    return convoport.connect(
        "syllable", api_key="k", transport=httpx.MockTransport(handler), **options
    )


# -- configuration -------------------------------------------------------------------------


def test_key_from_either_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYLLABLE_API_KEY", raising=False)
    monkeypatch.setenv("SYLLABLESDK_API_KEY_HEADER", "sdk-key")
    adapter: Any = convoport.connect("syllable").adapter
    assert adapter.config.key == "sdk-key"
    assert adapter.http.credential_headers(httpx.URL(BASE)) == {"Syllable-API-Key": "sdk-key"}
    monkeypatch.setenv("SYLLABLE_API_KEY", "own-key")
    monkeypatch.setenv("SYLLABLE_BASE_URL", "https://eu.syllable.example/")
    adapter = convoport.connect("syllable").adapter
    assert adapter.config.key == "own-key"
    assert str(adapter.http.base_url).rstrip("/") == "https://eu.syllable.example"
    assert "own-key" not in repr(adapter.config)
    assert "sdk-key" not in repr(adapter.config)
    adapter = convoport.connect("syllable", api_key_header="arg-key", api_key=None).adapter
    assert adapter.config.key == "own-key"  # the environment's api_key wins over none given


def test_missing_key_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYLLABLE_API_KEY", raising=False)
    monkeypatch.delenv("SYLLABLESDK_API_KEY_HEADER", raising=False)
    with pytest.raises(ConfigError) as caught:
        convoport.connect("syllable")
    assert "SYLLABLE_API_KEY" in str(caught.value)
    assert "SYLLABLESDK_API_KEY_HEADER" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"transcript_wait": -1}, "transcript_wait must be >= 0"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SyllableConfig(api_key="k", **options)


# -- listing ----------------------------------------------------------------------------------


async def test_booleans_are_filtered_here_and_empty_pages_are_read_past() -> None:
    """§11.6: is_outbound is never sent; a page the client filters out entirely does not
    end the listing (core stops on an empty page)."""
    pages = {
        0: [_session("1"), _session("2")],
        1: [_session("3", is_outbound=True), _session("4")],
        2: [_session("5", is_outbound=True)],
    }
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        page = int(request.url.params["page"])
        items = pages.get(page, [])
        return httpx.Response(200, json={"items": items, "page": page, "page_size": 2})

    async with _mock(handler) as client:
        got = [
            s.id
            async for s in client.list_sessions(
                SessionQuery(search="is_outbound=true"), page_size=2
            )
        ]
    assert got == ["3", "5"]
    assert [u.params["page"] for u in seen] == ["0", "1", "2"]
    assert all("is_outbound" not in str(u) for u in seen)
    assert seen[0].params.get_list("order_by") == ["timestamp"]


async def test_newest_or_oldest_first() -> None:
    async with convoport.connect("syllable", sandbox=True) as client:
        newest = [s.created_at async for s in client.list_sessions(limit=30)]
        oldest = [s.created_at async for s in client.list_sessions(order="oldest", limit=30)]
    assert newest == sorted(newest, reverse=True)  # type: ignore[type-var]
    assert oldest == sorted(oldest)  # type: ignore[type-var]
    assert newest[0] != oldest[0]


async def test_items_without_an_id_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = [_session("1"), {"timestamp": "2026-10-01T10:00:00Z"}, _session("1")]
        return httpx.Response(200, json={"items": items, "page": 0, "page_size": 25})

    caplog.set_level(logging.WARNING, "convoport.syllable")
    async with _mock(handler) as client:
        got = [s.id async for s in client.list_sessions()]
    assert got == ["1"]  # de-duplicated by id, the unnamed one left out
    assert "has no session_id" in caplog.text
    assert "items[1]" in caplog.text


async def test_statuses_are_applied_by_convoport() -> None:
    async with convoport.connect("syllable", sandbox=True) as client:
        running = [s async for s in client.list_sessions(SessionQuery(statuses={"active"}))]
    assert running
    assert all(s.status is SessionStatus.ACTIVE and s.duration is None for s in running)


async def test_search_by_phone_number_through_the_sandbox() -> None:
    harness = SyllableEmulator()
    seeded = harness.listed()[2]
    phone = str(seeded.wire["source"])
    async with convoport.connect(
        "syllable", transport=harness.transport(), **harness.connect_options()
    ) as client:
        got = [s.id async for s in client.list_sessions(SessionQuery(search=f"source={phone}"))]
        by_meta = [
            s.id async for s in client.list_sessions(SessionQuery(metadata={"source": phone}))
        ]
        with pytest.raises(InvalidRequest) as legacy:
            [s async for s in client.list_sessions(SessionQuery(search="session_id=T-LEGACY-0001"))]
        with pytest.raises(InvalidRequest, match=r"session ids are numbers|integers"):
            await client.get_session("CA0123")
        with pytest.raises(NotFound, match="session 999999 not found"):
            await client.get_session("999999")
    assert got == [seeded.id] == by_meta
    assert "/transcripts/legacy/T-LEGACY-0001" in str(legacy.value)
    assert legacy.value.details["legacy_session_link"]["code"] == "legacy_session_link"


# -- transcripts -----------------------------------------------------------------------------


def _transcripts(
    completes_after: int | None, reads: list[int], session: dict[str, Any]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/transcript/" in request.url.path:
            reads.append(1)
            done = completes_after is not None and len(reads) >= completes_after
            lines = [{"timestamp": "2026-10-01T10:00:01Z", "source": "user", "text": "hi"}]
            return httpx.Response(
                200,
                json={
                    "session_id": session["session_id"],
                    "transcription": lines * len(reads),
                    "actions": [],
                    "transcript_complete": done,
                },
            )
        return httpx.Response(200, json=session)

    return handler


POLL = {"transcript_poll_interval": 0.0, "transcript_settle": 1e12}


async def test_an_incomplete_transcript_is_read_again_until_complete() -> None:
    reads: list[int] = []
    async with _mock(_transcripts(3, reads, _session("7")), **POLL) as client:
        transcript = await client.get_transcript("7")
    assert len(reads) == 3
    assert transcript.provider_data["transcript_complete"] is True
    assert len(transcript.utterances) == 3


async def test_the_wait_has_a_deadline_and_keeps_the_last_answer() -> None:
    reads: list[int] = []
    options = {**POLL, "transcript_wait": 0.05, "transcript_poll_interval": 0.01}
    async with _mock(_transcripts(None, reads, _session("7")), **options) as client:
        transcript = await client.get_transcript("7")
    assert len(reads) >= 2
    assert transcript.provider_data["transcript_complete"] is False
    assert len(transcript.utterances) == len(reads)  # the last answer


@pytest.mark.parametrize(
    ("session", "options"),
    [
        (_session("8", channel_manager_type="web_chat_v1"), POLL),  # non-voice: never completes
        (_session("8", duration=None), POLL),  # still running
        (_session("8"), {"transcript_poll_interval": 0.0}),  # ended long ago (settle window)
        (_session("8"), {**POLL, "transcript_wait": 0}),  # waiting switched off
    ],
)
async def test_transcripts_that_cannot_complete_are_not_waited_for(
    session: dict[str, Any], options: dict[str, Any]
) -> None:
    reads: list[int] = []
    async with _mock(_transcripts(None, reads, session), **options) as client:
        transcript = await client.get_transcript("8")
    assert len(reads) == 1
    assert transcript.provider_data["transcript_complete"] is False


# -- recordings -------------------------------------------------------------------------------


async def test_a_refused_token_is_minted_again_and_presigned_links_get_no_key() -> None:
    minted: list[int] = []
    streamed: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST":
            minted.append(1)
            n = len(minted)
            return httpx.Response(
                200,
                json={
                    "session_id": "9",
                    "recordings": [
                        f"{BASE}/api/v1/sessions/recording/stream?token=tok{n}",
                        f"https://media.example.com/r/9.mp3?sig=sig{n}",
                    ],
                },
            )
        if path.endswith("/stream") or request.url.host == "media.example.com":
            streamed.append(request)
            if len(streamed) == 1:  # the first token is refused as expired
                return httpx.Response(410, json={"detail": "Recording token expired"})
            return httpx.Response(
                200, stream=httpx.ByteStream(b"RIFFdata"), headers={"content-type": "audio/wav"}
            )
        return httpx.Response(200, json=_session("9"))

    async with _mock(handler) as client:
        recordings = await client.list_recordings("9")
        async with client.open_recording("9", recording_id="0") as stream:
            first = b"".join([c async for c in stream.aiter_bytes()])
        async with client.open_recording("9", recording_id="1") as stream:
            second = b"".join([c async for c in stream.aiter_bytes()])
    assert [r.id for r in recordings] == ["0", "1"]
    assert first == b"RIFFdata" == second  # audio/wav accepted (§11.10)
    api = [r for r in streamed if r.url.host == "api.syllable.cloud"]
    media = [r for r in streamed if r.url.host == "media.example.com"]
    # open_recording lists (tok2), the refused token is minted again (tok3)
    assert [r.url.params["token"] for r in api] == ["tok2", "tok3"]
    assert len(minted) == 4
    assert all(r.headers.get("syllable-api-key") == "k" for r in api)
    assert media
    assert all("syllable-api-key" not in r.headers for r in media)


async def test_a_token_that_keeps_failing_ends_as_permission_denied() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                200, json={"recordings": [f"{BASE}/api/v1/sessions/recording/stream?token=t"]}
            )
        if request.url.path.endswith("/stream"):
            return httpx.Response(403, json={"detail": "Invalid or expired recording token"})
        return httpx.Response(200, json=_session("9"))

    async def download(client: Any) -> None:
        async with client.open_recording("9") as stream:
            async for _ in stream.aiter_bytes():
                pass

    async with _mock(handler) as client:
        with pytest.raises(PermissionDenied) as caught:
            await download(client)
    assert caught.value.details["reason"] == "link_expired"
    assert "token=t" not in str(caught.value)


async def test_a_session_without_recordings() -> None:
    async with convoport.connect("syllable", sandbox=True) as client:
        chat = next(
            [
                s
                async for s in client.list_sessions()
                if not str(s.metadata.get("channel_manager_type")).startswith("voice")
            ].__iter__()
        )
        assert await client.list_recordings(chat) == []
        with pytest.raises(NotFound, match="has no recording"):
            async with client.open_recording(chat):
                pass


# -- extensions and what a migration archives --------------------------------------------------


async def test_extensions_and_extras() -> None:
    harness = SyllableEmulator()
    seeded = next(
        s for s in harness.listed() if s.labels and s.voice and s.ended and s.has_transcript
    )
    running = next(s for s in harness.listed() if not s.ended)
    async with convoport.connect(
        "syllable", transport=harness.transport(), **harness.connect_options()
    ) as client:
        adapter = client.adapter
        assert isinstance(adapter, SyllableAdapter)
        latency = await adapter.ex_latency(seeded.id)
        timeline = await adapter.ex_timeline(await client.get_session(seeded.id))
        labels = await adapter.ex_session_labels(seeded.id)
        extras = await adapter._session_extras(await client.get_session(seeded.id))
        partial = await adapter._session_extras(await client.get_session(running.id))
        with pytest.raises(ConfigError):
            await adapter.ex_latency("  ")
    assert latency == harness.latency_for(seeded)
    tools = [e for e in timeline["events"] if e["kind"] == "tool"]
    assert tools
    assert isinstance(tools[0]["tool_request"], dict)
    assert len(labels) == seeded.labels
    assert all(label["session_id"] == int(seeded.id) for label in labels)
    assert extras["latency"] == harness.latency_for(seeded)
    assert extras["timeline"] == harness.timeline_for(seeded)  # raw: tool payloads as strings
    assert extras["labels"] == labels
    assert "missing" not in extras
    assert "timeline" not in partial
    assert "has no timeline" in partial["missing"]["timeline"]


async def test_migration_copies_finished_sessions_with_everything(tmp_path: Path) -> None:
    harness = SyllableEmulator()
    async with convoport.connect(
        "syllable", transport=harness.transport(), **harness.connect_options(), transcript_wait=0
    ) as source:
        report = await convoport.migrate(source, f"local:{tmp_path / 'a'}")
    finished = [s for s in harness.listed() if s.ended]
    assert report.failed == 0, [o.reason for o in report.outcomes if o.state == "failed"]
    assert report.copied == len(finished)
    assert report.skipped == len(harness.listed()) - len(finished)  # still running
    async with convoport.connect(f"local:{tmp_path / 'a'}") as archive:
        voice = next(s for s in finished if s.voice and s.recordings == 2 and s.has_transcript)
        ref = f"syllable:{voice.id}"
        transcript = await archive.get_transcript(ref)
        assert transcript.speakers[:2] == ("agent", "caller")
        archived = await archive.list_recordings(ref)
        assert [r.id for r in archived] == ["0", "1"]
        for recording in archived:
            async with archive.open_recording(ref, recording_id=recording.id) as stream:
                data = b"".join([c async for c in stream.aiter_bytes()])
            assert data == harness.audio_for(voice, int(recording.id))
        participants = await archive.list_participants(ref)
        assert [p.role for p in participants] == ["agent", "caller"]
        if voice.has_summary:
            assert (await archive.get_summary(ref)).text
        raw = await archive.adapter.ex_raw_payload(ref)  # type: ignore[attr-defined]
        assert set(raw) >= {"latency", "timeline", "labels"}
        missing = next(s for s in finished if not s.has_transcript)
        raw_missing = await archive.adapter.ex_raw_payload(f"syllable:{missing.id}")  # type: ignore[attr-defined]
        assert "has no transcript" in raw_missing["missing"]["transcript"]
        assert (await archive.get_session(f"syllable:{missing.id}")).id == missing.id


# -- the exact paths, no projection, retries (quirks 1, 9, 13) --------------------------------


async def test_exact_paths_and_no_projection() -> None:
    """§11.1: the list endpoints keep their trailing slash, by-id paths have none; §11.9: no
    ``fields`` projection is sent, so list items are whole sessions."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/sessions/":
            return httpx.Response(200, json={"items": [_session("5")], "page": 0, "page_size": 25})
        if request.url.path == "/api/v1/session_labels/":
            return httpx.Response(200, json={"items": [], "page": 0, "page_size": 25})
        return httpx.Response(200, json=_session("5"))

    async with _mock(handler) as client:
        [s async for s in client.list_sessions()]
        await client.get_session("5")
        await client.adapter.ex_session_labels("5")
    assert [r.url.path for r in seen] == [
        "/api/v1/sessions/",
        "/api/v1/sessions/5",
        "/api/v1/session_labels/",
    ]
    assert all("fields" not in r.url.params for r in seen)
    assert all(r.headers["syllable-api-key"] == "k" for r in seen)


async def test_retries_only_what_is_safe_honouring_retry_after_ms() -> None:
    """§11.13: 429/5xx are retried (``retry-after-ms`` honoured), a 4xx is not; minting
    recording URLs is safe to repeat."""
    answers: dict[str, list[httpx.Response]] = {
        "/api/v1/sessions/5": [
            httpx.Response(503, json={"detail": "busy"}, headers={"retry-after-ms": "1"}),
            httpx.Response(200, json=_session("5")),
        ],
        "/api/v1/sessions/recording/5": [
            httpx.Response(502, json={"detail": "bad gateway"}),
            httpx.Response(200, json={"session_id": "5", "recordings": []}),
        ],
        "/api/v1/sessions/full-summary/5": [httpx.Response(400, json={"detail": "bad id"})],
    }
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return answers[request.url.path].pop(0)

    retry = convoport.RetryPolicy(attempts=3, backoff_base=0.0, backoff_max=0.0)
    async with _mock(handler, retry=retry) as client:
        assert (await client.get_session("5")).id == "5"
        assert await client.list_recordings(_listed("5")) == []
        with pytest.raises(InvalidRequest, match="bad id"):
            await client.get_summary(_listed("5"))
    assert calls.count("/api/v1/sessions/5") == 2
    assert calls.count("/api/v1/sessions/recording/5") == 2
    assert calls.count("/api/v1/sessions/full-summary/5") == 1


def _listed(sid: str) -> convoport.Session:
    from convoport.adapters.syllable import translate

    return translate.session_from_wire(_session(sid))
