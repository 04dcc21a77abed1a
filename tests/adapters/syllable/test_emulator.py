"""The Syllable emulator: seeded data, the documented behaviour (0-based pages, §3.5's search
semantics, expiring recording tokens, the 400/422 envelopes, faults), and every answer
validating against the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from convoport.adapters.syllable.emulator import (
    LEGACY_IDS,
    SANDBOX_KEY,
    TOKEN_TTL,
    SyllableEmulator,
    Totals,
)
from convoport.sandbox import Faults, HarnessSettings, SandboxClock
from tests.adapters.syllable.openapi import DOCUMENT
from tests.support.checked import CheckedClient

KEY = {"Syllable-API-Key": SANDBOX_KEY}
BASE = "https://api.syllable.cloud"


def checked(harness: SyllableEmulator, *, strict: bool = True) -> CheckedClient:
    """A client on the emulator with the sandbox key; every answer is checked against the
    document, and (``strict``) leaving the block fails on any problem."""
    return CheckedClient(harness.transport(), DOCUMENT, base_url=BASE, headers=KEY, strict=strict)


def test_seeded_data_has_the_mix_the_issue_asks_for() -> None:
    harness = SyllableEmulator()
    sessions = list(harness.sessions.values())
    assert len(sessions) >= 50
    assert len({s.wire["agent_id"] for s in sessions}) == 3
    channels = {s.wire["channel_manager_type"] for s in sessions}
    assert {"voice_twilio_v1", "voice_sip_v1"} <= channels
    assert {"web_chat_v1", "sms_v1"} <= channels  # non-voice
    assert {s.language for s in sessions} == {"en-US", "es-US", "fr-CA"}
    assert {s.wire["user_terminated"] for s in sessions} == {True, False, None}
    assert any(s.wire["transfer_voicemail_detected"] for s in sessions)
    assert any(s.test for s in sessions)
    assert any(not s.test for s in sessions)
    assert all(s.wire["override_timestamp"] for s in sessions if s.test)
    assert any(s.wire["is_outbound"] for s in sessions)
    assert any(s.wire["is_legacy"] for s in sessions)
    assert any(not s.ended for s in sessions)
    assert {s.recordings for s in sessions} == {0, 1, 2}
    assert any(s.settling for s in sessions)
    assert any(not s.has_transcript for s in sessions)
    assert any(s.has_summary for s in sessions)
    assert any(not s.has_summary for s in sessions)
    assert any(s.labels for s in sessions)
    assert any(s.wire["experiment_id"] for s in sessions)
    voice = next(s for s in sessions if s.voice and s.ended)
    assert harness.latency_for(voice)["timeline"]
    assert harness.timeline_for(voice)["events"]
    chat = next(s for s in sessions if not s.voice and s.ended)
    assert harness.transcript_for(chat)["transcript_complete"] is False  # never, for chat
    again = SyllableEmulator()
    assert [s.wire for s in again.sessions.values()] == [s.wire for s in sessions]
    assert harness.transcript_for(voice) == again.transcript_for(again.session(voice.id))
    other = SyllableEmulator(settings=HarnessSettings(seed=12))
    assert [s.wire["timestamp"] for s in other.sessions.values()] != [
        s.wire["timestamp"] for s in sessions
    ]


def test_ten_thousand_sessions_seed() -> None:
    harness = SyllableEmulator(settings=HarnessSettings(sessions=10_000, seed=3))
    assert len(harness.sessions) == 10_000
    assert harness.session("10800").wire["session_id"] == "10800"


@pytest.mark.anyio
async def test_every_answer_follows_the_document() -> None:
    harness = SyllableEmulator()
    answers = checked(harness, strict=False)
    ended = next(s for s in harness.listed() if s.voice and s.ended and s.recordings)
    running = next(s for s in harness.listed() if not s.ended)
    chat = next(s for s in harness.listed() if not s.voice and s.ended)
    labelled = next(s for s in harness.listed() if s.labels)
    async with answers as http:
        assert (await http.get("/api/v1/sessions/")).status_code == 200
        assert (
            await http.get("/api/v1/sessions/", params={"page": 2, "limit": 7})
        ).status_code == 200
        projected = await http.get(
            "/api/v1/sessions/", params=[("fields", "session_id"), ("fields", "agent_id")]
        )
        assert set(projected.json()["items"][0]) == {"timestamp", "session_id", "agent_id"}
        for sid in (ended.id, running.id, chat.id):
            for route in ("", "transcript/", "full-summary/", "latency/", "timeline/"):
                await http.get(f"/api/v1/sessions/{route}{sid}")
            urls = (await http.post(f"/api/v1/sessions/recording/{sid}")).json()["recordings"]
            for url in urls:
                assert (await http.get(url)).status_code == 200
        labels = await http.get(
            "/api/v1/session_labels/",
            params=[("search_fields", "session_id"), ("search_field_values", labelled.id)],
        )
        assert len(labels.json()["items"]) == labelled.labels
        label_id = labels.json()["items"][0]["id"]
        assert (await http.get(f"/api/v1/session_labels/{label_id}")).status_code == 200
        # the error answers
        assert (await http.get("/api/v1/session_labels/999999")).status_code == 404
        assert (await http.get("/api/v1/session_labels/abc")).status_code == 422
        assert (await http.get("/api/v1/sessions/999999")).status_code == 404
        assert (await http.get("/api/v1/sessions/CA123")).status_code == 400
        assert (await http.get("/api/v1/sessions/recording/stream")).status_code == 422
        assert (await http.get("/api/v1/sessions/recording/stream?token=nope")).status_code == 403
        assert (await http.get("/api/v1/sessions/", params={"page": -1})).status_code == 422
        assert (await http.get("/api/v1/sessions/", params={"limit": "x"})).status_code == 422
        bad_field = await http.get(
            "/api/v1/sessions/", params=[("search_fields", "lang"), ("search_field_values", "en")]
        )
        assert bad_field.status_code == 422
        malformed = await http.get("/api/v1/sessions/", params={"start_datetime": "yesterday"})
        assert malformed.status_code == 400
        legacy = await http.get(
            "/api/v1/sessions/",
            params=[("search_fields", "session_id"), ("search_field_values", LEGACY_IDS[0])],
        )
        assert legacy.status_code == 400
        unauthorized = await http.get("/api/v1/sessions/", headers={"Syllable-API-Key": "wrong"})
        assert unauthorized.status_code == 401
    assert not answers.problems, "\n".join(answers.problems)
    unknown = await harness.transport().handle_async_request(
        httpx.Request("GET", f"{BASE}/api/v1/nothing", headers=KEY)
    )
    await unknown.aread()
    assert unknown.status_code == 404
    assert httpx.Response(404, content=unknown.content).json() == {"detail": "Not Found"}


@pytest.mark.anyio
async def test_error_envelopes_in_their_documented_variants() -> None:
    harness = SyllableEmulator()
    async with checked(harness) as http:
        invalid = (await http.get("/api/v1/sessions/", params={"page": -1, "limit": "x"})).json()
        assert [d["loc"] for d in invalid["detail"]] == [["query", "page"], ["query", "limit"]]
        assert {"msg", "type", "input"} <= set(invalid["detail"][0])
        enum = await http.get(
            "/api/v1/sessions/", params=[("search_fields", "lang"), ("search_field_values", "x")]
        )
        assert enum.json()["detail"][0]["loc"] == ["query", "search_fields", 0]
        assert enum.json()["detail"][0]["msg"].startswith("Input should be 'timestamp'")
        text = (await http.get("/api/v1/sessions/", params={"end_datetime": "soon"})).json()
        assert isinstance(text["detail"], str)
        legacy = await http.get(
            "/api/v1/sessions/",
            params=[("search_fields", "session_id"), ("search_field_values", LEGACY_IDS[1])],
        )
        detail = legacy.json()["detail"]
        assert detail["code"] == "legacy_session_link"
        assert detail["session_id"] == LEGACY_IDS[1]
        assert detail["redirect_to"].endswith(LEGACY_IDS[1])
        unpaired = await http.get("/api/v1/sessions/", params={"search_fields": "agent_id"})
        assert unpaired.status_code == 400


@pytest.mark.anyio
async def test_zero_based_pages_and_the_end_rule() -> None:
    harness = SyllableEmulator()
    listed = harness.listed()
    async with checked(harness) as http:
        first = (await http.get("/api/v1/sessions/", params={"page": 0, "limit": 10})).json()
        second = (await http.get("/api/v1/sessions/", params={"page": 1, "limit": 10})).json()
        past = (await http.get("/api/v1/sessions/", params={"page": 99, "limit": 10})).json()
    assert [i["session_id"] for i in first["items"]] == [s.id for s in listed[:10]]
    assert [i["session_id"] for i in second["items"]] == [s.id for s in listed[10:20]]
    assert first["page"] == 0
    assert second["page"] == 1
    assert first["page_size"] == 10
    assert first["total_count"] == len(listed)
    assert first["total_pages"] == -(-len(listed) // 10)
    assert past["items"] == []
    totals: Totals
    for totals in ("null", "absent"):
        harness.totals = totals
        async with checked(harness) as http:
            body = (await http.get("/api/v1/sessions/", params={"limit": 10})).json()
        if totals == "null":
            assert body["total_pages"] is None
            assert body["total_count"] is None
        else:
            assert "total_pages" not in body
            assert "total_count" not in body


async def _ids(http: httpx.AsyncClient, pairs: list[tuple[str, Any]]) -> list[str]:
    answer = await http.get("/api/v1/sessions/", params=[("limit", 100), *pairs])
    assert answer.status_code == 200, answer.text
    return [i["session_id"] for i in answer.json()["items"]]


@pytest.mark.anyio
async def test_search_semantics_of_the_reference() -> None:
    harness = SyllableEmulator()
    every = harness.listed(include_test=True)
    default = harness.listed()
    async with checked(harness) as http:
        # string fields filter exactly; a + in a phone number must arrive as %2B
        phone = str(default[3].wire["source"])
        assert await _ids(http, [("search_fields", "source"), ("search_field_values", phone)]) == [
            default[3].id
        ]
        spaced = await http.get(
            f"/api/v1/sessions/?search_fields=source&search_field_values={phone}"
        )  # an unescaped + is a space
        assert spaced.json()["items"] == []
        both = await _ids(
            http,
            [
                ("search_fields", "agent_id"),
                ("search_fields", "channel_manager_type"),
                ("search_field_values", "42"),
                ("search_field_values", "voice_twilio_v1"),
            ],
        )
        assert both == [
            s.id
            for s in default
            if s.wire["agent_id"] == "42" and s.wire["channel_manager_type"] == "voice_twilio_v1"
        ]
        # test sessions are left out by default; is_test=true INCLUDES them (more rows)
        assert await _ids(http, []) == [s.id for s in default]
        with_tests = await _ids(
            http, [("search_fields", "is_test"), ("search_field_values", "true")]
        )
        assert with_tests == [s.id for s in every]
        assert len(with_tests) > len(default)
        no_tests = await _ids(
            http, [("search_fields", "is_test"), ("search_field_values", "false")]
        )
        assert no_tests == [s.id for s in default]
        # is_legacy filters nothing; is_outbound is refused (production's narrower enum)
        legacy = await _ids(http, [("search_fields", "is_legacy"), ("search_field_values", "true")])
        assert legacy == [s.id for s in default]
        outbound = await http.get(
            "/api/v1/sessions/",
            params=[("search_fields", "is_outbound"), ("search_field_values", "true")],
        )
        assert outbound.status_code == 422
        # datetimes bound timestamp (both inclusive here); order_by/direction are honoured
        middle = default[5].wire["timestamp"]
        newer = await _ids(http, [("start_datetime", middle)])
        assert newer == [s.id for s in default[:6]]
        older = await _ids(http, [("end_datetime", middle)])
        assert older == [s.id for s in default[5:]]
        ascending = await _ids(http, [("order_by", "timestamp"), ("order_by_direction", "asc")])
        assert ascending == [s.id for s in reversed(default)]


@pytest.mark.anyio
async def test_recording_tokens_expire() -> None:
    clock = SandboxClock(start=SyllableEmulator().session("801").timestamp, step=timedelta(0))
    harness = SyllableEmulator(clock=clock)
    seeded = next(s for s in harness.listed() if s.recordings)
    async with checked(harness) as http:
        url = (await http.post(f"/api/v1/sessions/recording/{seeded.id}")).json()["recordings"][0]
        assert url.startswith(f"{BASE}/api/v1/sessions/recording/stream?token=")
        ranged = await http.get(url, headers={"range": "bytes=100-"})
        assert ranged.status_code == 206
        assert ranged.headers["content-range"].startswith("bytes 100-")
        clock.advance(TOKEN_TTL - 1)
        assert (await http.get(url)).status_code == 200
        clock.advance(2)
        expired = await http.get(url)
        assert expired.status_code == 403
        assert "expired" in expired.json()["detail"]
        fresh = (await http.post(f"/api/v1/sessions/recording/{seeded.id}")).json()["recordings"]
        assert fresh[0] != url
        assert (await http.get(fresh[0])).status_code == 200
        no_key = await http.get(fresh[0], headers={"Syllable-API-Key": ""})
        assert no_key.status_code == 401  # the stream is covered by the API key too


@pytest.mark.anyio
async def test_settling_transcript_completes_on_the_third_read() -> None:
    harness = SyllableEmulator()
    seeded = next(s for s in harness.listed() if s.settling)
    async with checked(harness) as http:
        reads = [
            (await http.get(f"/api/v1/sessions/transcript/{seeded.id}")).json() for _ in range(3)
        ]
    assert [r["transcript_complete"] for r in reads] == [False, False, True]
    assert len(reads[0]["transcription"]) < len(reads[2]["transcription"])


@pytest.mark.anyio
async def test_faults_answer_in_syllable_bodies() -> None:
    faults = Faults(error_rate=1.0, seed=1)
    harness = SyllableEmulator(faults=faults)
    async with checked(harness) as http:
        answer = await http.get("/api/v1/sessions/")
    assert answer.status_code == 503
    assert answer.json() == {"detail": "Internal Server Error"}
    limited = SyllableEmulator(settings=HarnessSettings(rate_limit=1.0, retry_after=2))
    async with checked(limited) as http:
        answer = await http.get("/api/v1/sessions/801")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["detail"] == "Rate limit exceeded"
