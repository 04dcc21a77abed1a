"""Syllable payloads -> the neutral model: every field of every translator, the quirks of the
reference's checklist (§11), and typed errors naming the JSON path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx
import pytest

from convoport.adapters.syllable import translate, wire
from convoport.capabilities import ListOrder
from convoport.errors import ConfigError, InvalidRequest, MalformedResponse, NotFound
from convoport.model import SessionQuery, SessionStatus, Word

T0 = datetime(2026, 10, 1, 13, 43, 26, tzinfo=UTC)

SESSION: dict[str, Any] = {
    "timestamp": "2026-10-01T13:43:26Z",
    "session_id": "824",
    "conversation_id": "4000",
    "channel_manager_service": "twilio",
    "channel_manager_type": "voice_twilio_v1",
    "channel_manager_sid": "CA0123",
    "agent_id": "42",
    "agent_name": "Support Bot",
    "agent_type": "ca_v1",
    "agent_timezone": "America/New_York",
    "prompt_id": "7",
    "prompt_name": "Support prompt",
    "prompt_version": None,
    "prompt_version_number": 3,
    "experiment_id": "exp-7",
    "experiment_variant_id": "var-b",
    "experiment_variant": "shorter greeting",
    "experiment_variant_is_control": False,
    "duration": 120.5,
    "session_label_id": "501",
    "source": "+18042221111",
    "target": "+18005550100",
    "is_legacy": False,
    "is_test": False,
    "is_outbound": False,
    "user_terminated": True,
    "transfer_voicemail_detected": False,
    "override_timestamp": None,
    "a_field_from_the_future": {"x": 1},
}


def test_session_every_field() -> None:
    session = translate.session_from_wire(SESSION)
    assert session.provider == "syllable"
    assert session.id == "824"
    assert session.status is SessionStatus.COMPLETED
    assert session.provider_status is None
    assert session.created_at == T0
    assert session.started_at == T0
    assert session.ended_at == T0 + timedelta(seconds=120.5)
    assert session.duration == 120.5
    assert session.title == "Support Bot"
    assert session.language is None
    assert session.metadata == {
        "conversation_id": "4000",
        "channel_manager_service": "twilio",
        "channel_manager_type": "voice_twilio_v1",
        "channel_manager_sid": "CA0123",
        "agent_type": "ca_v1",
        "agent_id": "42",
        "agent_name": "Support Bot",
        "prompt_id": "7",
        "prompt_name": "Support prompt",
        "experiment_id": "exp-7",
        "experiment_variant_id": "var-b",
        "source": "+18042221111",
        "target": "+18005550100",
        "is_legacy": "false",
        "is_outbound": "false",
        "is_test": "false",
    }
    assert session.provider_data == SESSION  # unknown keys kept, nothing lost


def test_only_timestamp_is_required() -> None:
    """§11.5: every other field may be absent or null; a running session is ACTIVE."""
    bare = translate.session_from_wire({"timestamp": "2026-10-01T13:43:26", "session_id": "1"})
    assert bare.created_at == T0.replace(hour=13)  # a naive value is read as UTC
    assert bare.status is SessionStatus.ACTIVE
    assert bare.ended_at is None
    assert bare.duration is None
    assert bare.title is None
    assert bare.metadata == {}
    nulls = translate.session_from_wire(
        {k: None for k in SESSION} | {"timestamp": SESSION["timestamp"]}, session_id="824"
    )
    assert nulls.id == "824"  # the id asked for, when the payload has none
    assert nulls.status is SessionStatus.ACTIVE
    with pytest.raises(MalformedResponse, match=r"\$\.timestamp is missing"):
        translate.session_from_wire({"session_id": "1"})
    with pytest.raises(MalformedResponse, match=r"\$\.session_id is missing"):
        translate.session_from_wire({"timestamp": SESSION["timestamp"]})


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("timestamp", "yesterday", "is not an ISO 8601 timestamp"),
        ("duration", -1, "is negative"),
        ("duration", "long", "expected a number"),
        ("agent_id", ["42"], "expected a string"),
        ("is_test", "yes", "expected true/false"),
        ("prompt_version_number", 1.5, "expected an integer"),
        ("user_terminated", 1, "expected true/false"),
    ],
)
def test_session_type_errors_name_the_field(key: str, value: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=rf"\$\.{key} {problem}"):
        translate.session_from_wire({**SESSION, key: value})


def test_timestamps_with_offsets_and_fractions() -> None:
    session = translate.session_from_wire(
        {"timestamp": "2026-10-01T15:43:26.123456789+02:00", "session_id": "1"}
    )
    assert session.created_at == T0.replace(microsecond=123456)


def test_list_page_end_rule_and_unnamed_items() -> None:
    """§3.4: the end is an empty page, page + 1 >= total_pages, or a short page."""
    items = [{**SESSION, "session_id": str(n)} for n in range(3)]
    page = translate.list_page_from_wire(
        {"items": items, "page": 0, "page_size": 3, "total_pages": 2, "total_count": 6},
        page=0,
        limit=3,
    )
    assert [s.id for s in page.sessions] == ["0", "1", "2"]
    assert page.next_page == 1
    assert page.count == 3
    assert page.unnamed == []
    last = translate.list_page_from_wire(
        {"items": items, "page": 1, "page_size": 3, "total_pages": 2}, page=1, limit=3
    )
    assert last.next_page is None
    no_totals = translate.list_page_from_wire(
        {"items": items, "page": 4, "page_size": 3}, page=4, limit=3
    )
    assert no_totals.next_page == 5  # totals absent: only a short or empty page ends
    short = translate.list_page_from_wire(
        {"items": items[:2], "page": 4, "page_size": 3, "total_pages": None}, page=4, limit=3
    )
    assert short.next_page is None
    empty = translate.list_page_from_wire({"items": [], "page": 9, "page_size": 3}, page=9, limit=3)
    assert empty.next_page is None
    assert empty.sessions == []
    unnamed = translate.list_page_from_wire(
        {"items": [items[0], {"timestamp": SESSION["timestamp"]}], "page": 0, "page_size": 3},
        page=0,
        limit=3,
    )
    assert [s.id for s in unnamed.sessions] == ["0"]
    assert unnamed.unnamed == ["$.items[1]"]
    assert unnamed.count == 2
    with pytest.raises(MalformedResponse, match=r"\$\.items is missing"):
        translate.list_page_from_wire({"page": 0, "page_size": 3}, page=0, limit=3)
    with pytest.raises(MalformedResponse, match=r"\$\.items\[0\]\.timestamp is missing"):
        translate.list_page_from_wire(
            {"items": [{"session_id": "1"}], "page": 0, "page_size": 1}, page=0, limit=1
        )


def test_list_params_map_neutral_filters() -> None:
    query = SessionQuery(
        created_after=T0,
        created_before=T0 + timedelta(days=2),
        metadata={"agent_id": "42", "is_outbound": "true", "not_a_property": "x"},
        search="source=+18042221111&agent_name=Sales & Support",
    )
    plan = translate.list_params(attrs.evolve(query, order=ListOrder.OLDEST))
    assert plan.params == [
        ("search_fields", "agent_id"),
        ("search_fields", "source"),
        ("search_fields", "agent_name"),
        ("search_field_values", "42"),
        ("search_field_values", "+18042221111"),
        ("search_field_values", "Sales & Support"),
        ("order_by", "timestamp"),
        ("order_by_direction", "asc"),
        ("start_datetime", "2026-10-01T13:43:26Z"),
        ("end_datetime", "2026-10-03T13:43:26Z"),
    ]
    assert plan.booleans == {"is_outbound": True}  # not sent: filtered here (§11.6)
    assert not plan.nothing
    params: list[tuple[str, Any]] = list(translate.page_params(plan, page=2, limit=5))
    request = httpx.Request("GET", "https://x/api/v1/sessions/", params=params)
    raw = request.url.query.decode()
    assert raw.startswith("page=2&limit=5&search_fields=agent_id&search_fields=source")
    assert "search_field_values=%2B18042221111" in raw  # §11.2: + as %2B
    assert "start_datetime=2026-10-01T13%3A43%3A26Z" in raw


def test_created_on_is_a_utc_day_and_empty_windows_list_nothing() -> None:
    plan = translate.list_params(SessionQuery(created_on="2026-10-02"))
    assert ("start_datetime", "2026-10-02T00:00:00Z") in plan.params
    assert ("end_datetime", "2026-10-03T00:00:00Z") in plan.params
    empty = translate.list_params(SessionQuery(created_on="2026-10-02", created_before=T0))
    assert empty.nothing
    clash = translate.list_params(
        SessionQuery(metadata={"is_test": "true"}, search="is_test=false")
    )
    assert clash.nothing


def test_boolean_search_fields_are_filtered_on_the_client() -> None:
    """§11.6: is_test=true is sent (it includes test sessions) and kept only; is_outbound and
    is_legacy are never sent."""
    plan = translate.list_params(SessionQuery(search="is_test=TRUE&is_outbound=false"))
    assert ("search_fields", "is_test") in plan.params
    assert ("search_field_values", "true") in plan.params
    assert ("search_fields", "is_outbound") not in plan.params
    test = translate.session_from_wire({**SESSION, "is_test": True})
    real = translate.session_from_wire(SESSION)
    outbound_test = translate.session_from_wire({**SESSION, "is_test": True, "is_outbound": True})
    assert translate.kept(plan, test)
    assert not translate.kept(plan, real)
    assert not translate.kept(plan, outbound_test)
    no_tests = translate.list_params(SessionQuery(search="is_test=false"))
    assert no_tests.params[:1] == [("order_by", "timestamp")]  # nothing sent
    assert translate.kept(no_tests, real)
    assert not translate.kept(no_tests, test)
    unknown = translate.session_from_wire({**SESSION, "is_test": None})
    assert translate.kept(no_tests, unknown)


def test_kept_rechecks_times_and_metadata_exactly() -> None:
    session = translate.session_from_wire(SESSION)
    assert translate.kept(translate.list_params(SessionQuery(created_after=T0)), session)
    assert not translate.kept(translate.list_params(SessionQuery(created_before=T0)), session)
    assert not translate.kept(
        translate.list_params(SessionQuery(metadata={"agent_id": "4"})), session
    )


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Support Bot", [("agent_name", "Support Bot")]),
        ("source=+18042221111", [("source", "+18042221111")]),
        ("agent_id=42&source=+1804", [("agent_id", "42"), ("source", "+1804")]),
        ("agent_name=A&B", [("agent_name", "A&B")]),
        ("unknown=3", [("agent_name", "unknown=3")]),
        ("is_test=True", [("is_test", "true")]),
    ],
)
def test_search_terms(text: str, terms: list[tuple[str, str]]) -> None:
    assert translate.search_terms(text) == terms


@pytest.mark.parametrize("text", ["", "  ", "agent_id=", "timestamp=2026", "is_test=maybe"])
def test_bad_search_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        translate.search_terms(text)


def test_order_is_sent() -> None:
    newest = translate.list_params(SessionQuery(order=ListOrder.NEWEST))
    assert newest.params == [("order_by", "timestamp"), ("order_by_direction", "desc")]
    assert translate.list_params(SessionQuery()).params == newest.params


TRANSCRIPT: dict[str, Any] = {
    "session_id": "824",
    "transcription": [
        {"timestamp": "2026-10-01T13:43:30Z", "lang": "unset", "source": "agent", "text": "Hi"},
        {
            "timestamp": "2026-10-01T13:43:35.5Z",
            "lang": "en-US",
            "source": "user",
            "text": "My invoice",
            "stt_confidence": {
                "provider": "deepgram",
                "model": "nova-3",
                "utterance": 0.8,
                "utterance_source": "a_new_source",
                "words": [
                    {"word": "My", "confidence": 0.9, "start": 0.0, "end": 0.2},
                    {"word": "invoice", "confidence": 0.8, "start": 0.2, "end": 0.6},
                ],
                "words_truncated": False,
            },
        },
        {"timestamp": "2026-10-01T13:43:40Z", "lang": None, "source": "system", "text": None},
    ],
    "actions": [
        {
            "timestamp": "2026-10-01T13:43:36Z",
            "tool_name": "lookup",
            "tool_request": '{"q": "invoice"}',
            "tool_result": "[1, 2]",
            "tool_error": "not json at all",
            "duration_ms": 120.0,
        }
    ],
    "transcript_complete": True,
    "extra_key": 1,
}


def test_transcript_every_field() -> None:
    transcript = translate.transcript_from_wire(TRANSCRIPT)
    assert transcript.session_id == "824"
    assert transcript.engine == "syllable"
    assert transcript.language == "en-US"
    assert transcript.created_at is None
    assert transcript.provider_data == {
        "session_id": "824",
        "transcript_complete": True,
        "extra_key": 1,
        "actions": [
            {
                "timestamp": "2026-10-01T13:43:36Z",
                "tool_name": "lookup",
                "tool_request": {"q": "invoice"},  # §11.11: decoded
                "tool_result": [1, 2],
                "tool_error": "not json at all",  # not JSON: kept as the string
                "duration_ms": 120.0,
            }
        ],
    }
    agent, user, system = transcript.utterances
    assert agent.text == "Hi"
    assert agent.speaker == "agent"
    assert agent.language is None  # "unset"
    assert agent.provider_data == {"lang": "unset"}
    assert agent.timestamp == datetime(2026, 10, 1, 13, 43, 30, tzinfo=UTC)
    assert (agent.start, agent.end, agent.id, agent.channel, agent.confidence) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert agent.words == ()
    assert user.speaker == "caller"  # "user" is the caller participant
    assert user.language == "en-US"
    assert user.confidence == 0.8
    assert user.words == (Word(text="My", confidence=0.9), Word(text="invoice", confidence=0.8))
    assert user.provider_data == {
        "stt_confidence": TRANSCRIPT["transcription"][1]["stt_confidence"]
    }
    assert user.timestamp == datetime(2026, 10, 1, 13, 43, 35, 500000, tzinfo=UTC)
    assert system.speaker == "system"  # an unknown source is kept
    assert system.text == ""
    assert transcript.speakers == ("agent", "caller", "system")


def test_transcript_complete_defaults_to_false() -> None:
    """§11.7: absent means false."""
    bare = {"session_id": "1", "transcription": [], "actions": []}
    assert translate.transcript_complete(bare) is False
    assert translate.transcript_from_wire(bare).provider_data["transcript_complete"] is False
    assert (
        translate.transcript_from_wire({**bare, "session_id": None}, session_id="9").session_id
        == "9"
    )


@pytest.mark.parametrize(
    ("path", "change", "problem"),
    [
        ("transcription", None, r"\$\.transcription is missing"),
        ("actions", "x", r"\$\.actions expected a list"),
    ],
)
def test_transcript_errors(path: str, change: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=problem):
        translate.transcript_from_wire({**TRANSCRIPT, path: change})


def test_transcript_nested_errors_name_the_path() -> None:
    bad = json.loads(json.dumps(TRANSCRIPT))
    bad["transcription"][1]["stt_confidence"]["words"][1]["confidence"] = 7
    with pytest.raises(
        MalformedResponse,
        match=r"\$\.transcription\[1\]\.stt_confidence\.words\[1\]\.confidence is outside 0\.\.1",
    ):
        translate.transcript_from_wire(bad)
    bad = json.loads(json.dumps(TRANSCRIPT))
    del bad["transcription"][0]["timestamp"]
    with pytest.raises(MalformedResponse, match=r"\$\.transcription\[0\]\.timestamp is missing"):
        translate.transcript_from_wire(bad)
    bad = json.loads(json.dumps(TRANSCRIPT))
    bad["actions"][0]["tool_request"] = {"already": "an object"}
    with pytest.raises(
        MalformedResponse, match=r"\$\.actions\[0\]\.tool_request expected a string"
    ):
        translate.transcript_from_wire(bad)


def test_summary() -> None:
    summary = translate.summary_from_wire({"summary": "All good", "rating": "Good"}, session_id="8")
    assert summary is not None
    assert (summary.session_id, summary.text, summary.format, summary.rating) == (
        "8",
        "All good",
        "text",
        "Good",
    )
    assert summary.language is None
    assert summary.created_at is None
    assert summary.provider_data == {"summary": "All good", "rating": "Good"}
    assert translate.summary_from_wire({}, session_id="8") is None
    assert translate.summary_from_wire({"summary": " ", "rating": "Poor"}, session_id="8") is None
    with pytest.raises(MalformedResponse, match=r"\$\.rating expected a string"):
        translate.summary_from_wire({"summary": "x", "rating": [1]}, session_id="8")


def test_participants_are_the_agent_and_the_caller() -> None:
    agent, caller = translate.participants_from_wire(SESSION)
    assert agent.id == "824:agent"
    assert agent.session_id == "824"
    assert agent.role == "agent"
    assert agent.user_id == "42"
    assert agent.display_name == "Support Bot"
    assert agent.joined_at == T0
    assert agent.left_at == T0 + timedelta(seconds=120.5)
    assert agent.duration == 120.5
    assert agent.provider_data == {
        "agent_id": "42",
        "agent_name": "Support Bot",
        "agent_type": "ca_v1",
        "agent_timezone": "America/New_York",
    }
    assert caller.id == "824:caller"
    assert caller.role == "caller"
    assert caller.user_id == caller.display_name == "+18042221111"
    assert caller.joined_at == T0
    assert caller.provider_data == {
        "source": "+18042221111",
        "target": "+18005550100",
        "is_outbound": False,
    }
    outbound = translate.participants_from_wire({**SESSION, "is_outbound": True})
    assert outbound[1].user_id == "+18005550100"  # the number dialled
    running = translate.participants_from_wire({"timestamp": SESSION["timestamp"]}, session_id="3")
    assert running[0].left_at is None
    assert running[1].user_id is None


def test_recordings() -> None:
    session = translate.session_from_wire(SESSION)
    urls = [
        "https://api.syllable.cloud/api/v1/sessions/recording/stream?token=abc",
        "https://media.example.com/calls/824-leg2.MP3?sig=x",
    ]
    first, second = translate.recordings_from_wire(
        {"session_id": "824", "recordings": urls}, session=session
    )
    assert first.id == "0"
    assert second.id == "1"
    assert first.session_id == "824"
    assert first.url == urls[0]
    assert second.url == urls[1]
    assert first.media_type is None
    assert first.filename == "824-0.wav"
    assert second.media_type == "audio/mpeg"
    assert second.filename == "824-1.mp3"
    assert first.duration == 120.5
    assert first.created_at == session.ended_at
    assert first.expires_at is None
    assert first.size is None
    assert first.channels is None
    assert first.provider_data == {"index": 0, "stream_endpoint": True}
    assert second.provider_data == {"index": 1, "stream_endpoint": False}
    assert translate.recordings_from_wire({}, session=session) == []
    assert translate.recordings_from_wire({"recordings": None}, session=session) == []
    assert translate.stream_token(urls[0]) == "abc"
    assert translate.stream_token(urls[1]) is None
    with pytest.raises(MalformedResponse, match=r"\$\.recordings\[0\] is not an absolute"):
        translate.recordings_from_wire({"recordings": ["/relative"]}, session=session)
    with pytest.raises(MalformedResponse, match=r"\$\.recordings\[0\] expected a string"):
        translate.recordings_from_wire({"recordings": [1]}, session=session)


LATENCY: dict[str, Any] = {
    "session_id": "824",
    "timeline": [
        {
            "timestamp": "2026-10-01T13:43:28Z",
            "measurement_start": "2026-10-01T13:43:27Z",
            "category": "vad",  # not a LatencyCategory member (§11.8)
            "label": "x",
            "unit_type": "ticks",  # not a LatencyUnitType member
            "value": 4,
            "value_str": "4",
            "time_delta": "+0s",
            "metadata": None,
        }
    ],
}


def test_latency_keeps_unknown_members() -> None:
    assert translate.latency_from_wire(LATENCY) == LATENCY
    with pytest.raises(MalformedResponse, match=r"\$\.timeline\[0\]\.value is missing"):
        translate.latency_from_wire(
            {
                **LATENCY,
                "timeline": [{k: v for k, v in LATENCY["timeline"][0].items() if k != "value"}],
            }
        )
    with pytest.raises(MalformedResponse, match=r"\$\.summary\[0\]\.event_count is missing"):
        translate.latency_from_wire({**LATENCY, "summary": [{"category": "stt"}]})


def test_timeline_decodes_tool_payloads() -> None:
    data = {
        "session_id": "824",
        "session_start": "2026-10-01T13:43:26Z",
        "events": [
            {"kind": "transcript", "timestamp": "2026-10-01T13:43:30Z", "offset": "00:04"},
            {
                "kind": "tool",
                "timestamp": "2026-10-01T13:43:36Z",
                "offset": "00:10",
                "tool_request": '{"q": 1}',
                "tool_result": None,
            },
            {"kind": "a_new_kind", "timestamp": "2026-10-01T13:43:37Z", "offset": "00:11"},
        ],
    }
    out = translate.timeline_from_wire(data)
    assert out["events"][1]["tool_request"] == {"q": 1}
    assert out["events"][1]["tool_result"] is None
    assert "tool_error" not in out["events"][1]
    assert out["events"][2]["kind"] == "a_new_kind"
    assert out["session_start"] == data["session_start"]
    with pytest.raises(MalformedResponse, match=r"\$\.events\[0\]\.offset is missing"):
        translate.timeline_from_wire(
            {**data, "events": [{"kind": "x", "timestamp": T0.isoformat()}]}
        )


def test_labels() -> None:
    label = {
        "session_id": 824,
        "type": "human-rating",
        "code": "BAD",
        "user_email": "qa@example.com",
        "id": 501,
        "timestamp": "2026-10-01 14:00",
        "comments": None,
        "issue_categories": ["repetition"],
    }
    labels, nxt = translate.labels_page_from_wire(
        {"items": [label], "page": 0, "page_size": 25}, page=0, limit=25
    )
    assert labels == [label]
    assert nxt is None
    assert translate.labels_params("824", page=1, limit=25) == [
        ("page", "1"),
        ("limit", "25"),
        ("search_fields", "session_id"),
        ("search_field_values", "824"),
    ]
    with pytest.raises(MalformedResponse, match=r"\$\.items\[0\]\.id expected an integer"):
        translate.labels_page_from_wire(
            {"items": [{**label, "id": 1.5}], "page": 0, "page_size": 25}, page=0, limit=25
        )


def _response(
    status: int, body: Any, path: str = "/api/v1/sessions/"
) -> tuple[httpx.Response, bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = httpx.Request("GET", f"https://api.syllable.cloud{path}")
    return httpx.Response(status, content=raw, request=request), raw


def test_error_hook_reads_every_variant() -> None:
    """§11.12: 422 detail is a list, the list's 400 a string or an object, others a string."""
    info = translate.error_info_from_wire(
        *_response(
            422,
            {
                "detail": [
                    {
                        "loc": ["query", "search_fields", 0],
                        "msg": "Input should be 'a'",
                        "type": "enum",
                        "input": "x",
                    }
                ]
            },
        )
    )
    assert info is not None
    assert info.message == "query.search_fields.0: Input should be 'a'"
    assert info.details["validation_errors"][0]["input"] == "x"
    legacy = {
        "code": "legacy_session_link",
        "session_id": "T-1",
        "redirect_to": "/transcripts/legacy/T-1",
        "message": "This transcript link belongs to the legacy system.",
    }
    info = translate.error_info_from_wire(*_response(400, {"detail": legacy}))
    assert info is not None
    assert info.message == legacy["message"]
    assert info.code == "legacy_session_link"
    assert info.error_class is InvalidRequest
    assert info.hint is not None
    assert "/transcripts/legacy/T-1" in info.hint
    assert info.details["legacy_session_link"] == legacy
    info = translate.error_info_from_wire(*_response(400, {"detail": "Invalid start_datetime"}))
    assert info is not None
    assert info.message == "Invalid start_datetime"
    info = translate.error_info_from_wire(*_response(404, {"detail": "gone"}, "/api/v1/sessions/9"))
    assert info is not None
    assert info.error_class is NotFound
    info = translate.error_info_from_wire(*_response(401, {"detail": "Invalid API key"}))
    assert info is not None
    assert "SYLLABLE_API_KEY" in (info.hint or "")
    assert translate.error_info_from_wire(*_response(502, b"<html>bad gateway</html>")) is None
    assert translate.error_info_from_wire(*_response(500, [1, 2])) is None


def test_format_timestamp() -> None:
    assert translate.format_timestamp(T0) == "2026-10-01T13:43:26Z"
    assert translate.format_timestamp(T0.replace(microsecond=5)) == "2026-10-01T13:43:26.000005Z"


def test_wire_tables() -> None:
    assert len(wire.SESSION_PROPERTIES) == 19
    assert wire.KEY_HEADER == "Syllable-API-Key"
    assert translate.status_from_wire("ended") is SessionStatus.COMPLETED
    assert translate.status_from_wire("something else") is wire.STATUS_FALLBACK
    assert translate.status_from_wire(None) is wire.STATUS_FALLBACK
    assert translate.speaker_from_wire(None) is None
    assert translate.decode_tool_payload(None) is None
