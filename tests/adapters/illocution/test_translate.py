"""Unit tests of the pure translators, the error parser and the request builders."""

from __future__ import annotations

import io
import json
import wave
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from convoport.adapters.illocution import translate
from convoport.adapters.illocution.live import wav_header_for
from convoport.errors import ConfigError, MalformedResponse
from convoport.live import (
    DoneEvent,
    ErrorEvent,
    FinalUtterance,
    LiveOptions,
    PartialTranscript,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
)
from convoport.media import wav_header
from convoport.model import SessionStatus

SID = "live_6a0a64c0"


def ev(name: str, data: Any) -> Any:
    return translate.event_from_wire(name, data, session_id=SID)


# -- normalisers -----------------------------------------------------------------------------


def test_ms_fields_become_seconds() -> None:
    out = translate.ms_to_seconds({"start_ms": 1500, "end_ms": 2250, "at_ms": 0, "x": 1})
    assert out == {"start": 1.5, "end": 2.25, "at": 0.0, "x": 1}


def test_ms_conversion_keeps_an_existing_target_and_non_numbers() -> None:
    out = translate.ms_to_seconds({"start": 9, "start_ms": 1000, "end_ms": "12", "flag_ms": True})
    assert out == {"start": 9, "start_ms": 1000, "end_ms": "12", "flag_ms": True}


def test_speaker_id_is_unified() -> None:
    assert translate.unify_speaker({"speaker_id": "Speaker_1"}) == {"speaker": "Speaker_1"}
    both = {"speaker": "a", "speaker_id": "b"}
    assert translate.unify_speaker(both) == both


def test_both_emotion_shapes_give_the_same_scores() -> None:
    nested = {"emotions": {"joy": 0.64, "fear": 0.05}, "dominant": "joy"}
    flat = {"joy": 0.64, "fear": 0.05}
    assert translate.emotion_scores(nested) == ({"joy": 0.64, "fear": 0.05}, {"dominant": "joy"})
    assert translate.emotion_scores(flat) == ({"joy": 0.64, "fear": 0.05}, {})
    assert translate.emotion_scores("odd") == ({}, {})


def test_confidence_outside_0_1_is_dropped() -> None:
    assert translate.confidence(0.5) == 0.5
    assert translate.confidence(1.5) is None
    assert translate.confidence(None) is None


# -- events ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "status"),
    [
        ("waiting_media", SessionStatus.PENDING),
        ("ingesting", SessionStatus.ACTIVE),
        ("processing", SessionStatus.PROCESSING),
        ("completed", SessionStatus.COMPLETED),
        ("starting", None),
        ("start", None),
        ("something_new", None),
    ],
)
def test_status_phases(phase: str, status: SessionStatus | None) -> None:
    event = ev("status", {"phase": phase, "progress": 0.45})
    assert isinstance(event, StatusEvent)
    assert (event.phase, event.status, event.progress) == (phase, status, 0.45)
    assert event.provider_data == {"phase": phase, "progress": 0.45}


def test_status_without_phase_is_kept_open() -> None:
    event = ev("status", {})
    assert isinstance(event, StatusEvent)
    assert event.phase == "unknown"
    assert event.status is None
    assert event.progress is None


def test_partial_transcript() -> None:
    event = ev("partial_transcript", {"partial_id": "p1", "text": "hel", "is_final": False})
    assert isinstance(event, PartialTranscript)
    assert event.utterance.id == "p1"
    assert event.utterance.text == "hel"
    assert event.provider_data["is_final"] is False


def test_final_transcript_every_field() -> None:
    data = {
        "utterance_id": "u7",
        "speaker": "Speaker_0",
        "t_start": 1.25,
        "t_end": 3.5,
        "text": "Hello there.",
        "asr_confidence": 0.93,
    }
    event = ev("final_transcript", data)
    assert isinstance(event, FinalUtterance)
    u = event.utterance
    assert (u.id, u.speaker, u.start, u.end, u.text, u.confidence) == (
        "u7",
        "Speaker_0",
        1.25,
        3.5,
        "Hello there.",
        0.93,
    )
    assert u.provider_data == data


def test_final_transcript_accepts_ms_and_speaker_id() -> None:
    event = ev("final_transcript", {"text": "x", "start_ms": 500, "end_ms": 900, "speaker_id": "A"})
    assert isinstance(event, FinalUtterance)
    assert (event.utterance.start, event.utterance.end, event.utterance.speaker) == (0.5, 0.9, "A")


def test_final_transcript_with_a_wrong_type_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match=r"t_start"):
        ev("final_transcript", {"text": "x", "t_start": "soon"})


def test_summary_update_renders_markdown() -> None:
    data = {
        "overview": "A short call.",
        "key_insights": ["[00:12] price objection", ""],
        "notable_patterns": [],
        "recommendations": ["Send the quote"],
        "what_went_well": ["Rapport"],
        "what_went_wrong": ["Ran late"],
        "speaker_dynamics": {"Speaker_0": {}},
        "conversation_quality": "good",
    }
    event = ev("summary_update", data)
    assert isinstance(event, SummaryEvent)
    s = event.summary
    assert s.session_id == SID
    assert s.format == "markdown"
    assert s.rating == "good"
    assert s.provider_data == data
    assert s.text == (
        "A short call.\n\n## Key insights\n\n- [00:12] price objection\n\n"
        "## Recommendations\n\n- Send the quote\n\n## What went well\n\n- Rapport\n\n"
        "## What went wrong\n\n- Ran late"
    )


def test_error_event_is_fatal() -> None:
    event = ev("error", {"code": "asr_failed", "message": "ASR failure"})
    assert isinstance(event, ErrorEvent)
    assert (event.code, event.message, event.fatal) == ("asr_failed", "ASR failure", True)


def test_error_event_without_message() -> None:
    event = ev("error", {})
    assert isinstance(event, ErrorEvent)
    assert event.message == "error reported"
    assert event.code is None


def test_done_event() -> None:
    event = ev("done", {"conversation_id": "liveconv_1"})
    assert isinstance(event, DoneEvent)
    assert event.session_id == SID
    assert event.provider_data == {"conversation_id": "liveconv_1"}


def test_emotion_event_nested_and_flat() -> None:
    base = {"utterance_id": "u1", "speaker_id": "Speaker_1", "scores": {"valence": 0.3}}
    nested = ev("emotion", {**base, "emotion": {"emotions": {"joy": 0.6}, "dominant": "joy"}})
    flat = ev("emotion", {**base, "emotion": {"joy": 0.6}, "confidence": 0.8})
    assert isinstance(nested, VendorEvent)
    assert isinstance(flat, VendorEvent)
    assert nested.name == "emotion"
    assert nested.data == {
        "utterance_id": "u1",
        "speaker": "Speaker_1",
        "scores": {"valence": 0.3},
        "emotions": {"joy": 0.6},
        "emotion_info": {"dominant": "joy"},
    }
    assert flat.data["emotions"] == {"joy": 0.6}
    assert flat.data["confidence"] == 0.8
    assert "emotion_info" not in flat.data


def test_moment_transition_cognitive_pass_through_normalised() -> None:
    moment = ev(
        "moment",
        {"moment_id": "m1", "category": "objection", "speaker_id": "S0", "start_ms": 12000,
         "end_ms": 15500, "evidence": "too expensive"},
    )  # fmt: skip
    assert isinstance(moment, VendorEvent)
    assert moment.data == {
        "moment_id": "m1",
        "category": "objection",
        "speaker": "S0",
        "start": 12.0,
        "end": 15.5,
        "evidence": "too expensive",
    }
    transition = ev("transition", {"transition_id": "t1", "at_ms": 4200, "drivers": {}})
    assert isinstance(transition, VendorEvent)
    assert transition.data == {"transition_id": "t1", "at": 4.2, "drivers": {}}
    cognitive = ev("cognitive", {"utterance_id": "u1", "engagement": 0.7, "signals": ["x"]})
    assert isinstance(cognitive, VendorEvent)
    assert cognitive.data == {"utterance_id": "u1", "engagement": 0.7, "signals": ["x"]}


def test_unknown_event_and_non_object_data() -> None:
    unknown = ev("heartbeat_v2", {"n_ms": 2000})
    assert isinstance(unknown, VendorEvent)
    assert (unknown.name, unknown.data) == ("heartbeat_v2", {"n": 2.0})
    wrapped = ev("ticker", [1, 2])
    assert isinstance(wrapped, VendorEvent)
    assert wrapped.data == {"value": [1, 2]}


def test_parse_data() -> None:
    assert translate.parse_data("") == {}
    assert translate.parse_data('{\n"a": 1\n}') == {"a": 1}
    with pytest.raises(ValueError):
        translate.parse_data("{nope")


# -- live start / chunk / control ----------------------------------------------------------


def test_live_start_every_field() -> None:
    data = {
        "session_id": SID,
        "conversation_id": "liveconv_353cee7a",
        "chunk_endpoint": f"/analyze/live/{SID}/chunk",
        "events_endpoint": f"/analyze/live/{SID}/events",
        "control_endpoint": f"/analyze/live/{SID}/control",
        "next_chunk_seq": 0,
        "expires_at": "2025-11-08T18:12:04.991Z",
        "status": "waiting_media",
    }
    start = translate.live_start_from_wire(data)
    assert start.session_id == SID
    assert start.conversation_id == "liveconv_353cee7a"
    assert start.chunk_endpoint == data["chunk_endpoint"]
    assert start.next_chunk_seq == 0
    assert start.expires_at == datetime(2025, 11, 8, 18, 12, 4, 991000, tzinfo=UTC)
    assert start.status == "waiting_media"
    assert start.raw == data


def test_live_start_openapi_shape_falls_back_to_documented_paths() -> None:
    start = translate.live_start_from_wire({"session_id": "s1", "status": "waiting_media"})
    assert start.conversation_id is None
    assert start.chunk_endpoint == "/analyze/live/s1/chunk"
    assert start.events_endpoint == "/analyze/live/s1/events"
    assert start.control_endpoint == "/analyze/live/s1/control"
    assert start.next_chunk_seq == 0
    assert start.expires_at is None


def test_live_start_without_session_id_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="session_id"):
        translate.live_start_from_wire({"status": "waiting_media"})


def test_chunk_ack_and_control_expiry() -> None:
    ack = translate.chunk_ack_from_wire({"received_bytes": 65536, "next_chunk_seq": 4})
    assert (ack.next_chunk_seq, ack.received_bytes, ack.expires_at) == (4, 65536, None)
    assert translate.chunk_ack_from_wire(None).next_chunk_seq is None
    assert translate.expiry_from_wire({"status": "ok"}) is None
    assert translate.expiry_from_wire({"expires_at": "2025-11-08T18:12:04Z"}) == datetime(
        2025, 11, 8, 18, 12, 4, tzinfo=UTC
    )
    assert translate.expiry_from_wire(None) is None


# -- errors ----------------------------------------------------------------------------------


def test_error_detail_string_names_the_sequence_numbers() -> None:
    message, details = translate.error_detail(
        b'{"detail": "Out-of-order chunk: expected chunk_seq 5, got 3"}'
    )
    assert message == "Out-of-order chunk: expected chunk_seq 5, got 3"
    assert details["expected_chunk_seq"] == 5
    assert details["received_chunk_seq"] == 3


def test_error_detail_list() -> None:
    body = {"detail": [{"loc": ["body", "ttl_seconds"], "msg": "too big", "type": "x"}, "plain"]}
    message, details = translate.error_detail(json.dumps(body).encode())
    assert message == "body.ttl_seconds: too big; plain"
    assert details["detail"] == body["detail"]


def test_error_detail_object() -> None:
    body = {"detail": {"message": "bad seq", "expected_chunk_seq": 2, "chunk_seq": 1}}
    message, details = translate.error_detail(json.dumps(body).encode())
    assert message == "bad seq"
    assert (details["expected_chunk_seq"], details["received_chunk_seq"]) == (2, 1)
    message, _ = translate.error_detail(b'{"detail": {"reason": "x"}}')
    assert message == '{"reason": "x"}'


def test_error_detail_not_json() -> None:
    assert translate.error_detail(b"Bad Gateway") == ("Bad Gateway", {})
    assert translate.error_detail(b"") == (None, {})
    assert translate.error_detail(b"[1]") == ("[1]", {})


def _response(status: int, path: str, body: dict[str, Any]) -> tuple[httpx.Response, bytes]:
    content = json.dumps(body).encode()
    request = httpx.Request("POST", "https://api.illocution.ai" + path)
    return httpx.Response(status, content=content, request=request), content


def test_error_parser_live_routes_missing() -> None:
    info = translate.error_info_from_wire(
        *_response(404, "/analyze/live/start", {"detail": "Not Found"})
    )
    assert info.message == "live capture is not enabled on this deployment (ENABLE_LIVE_STREAMING)"
    assert info.hint is not None
    assert "ENABLE_LIVE_STREAMING=true" in info.hint


def test_error_parser_tells_the_two_409s_apart() -> None:
    events = translate.error_info_from_wire(
        *_response(409, "/analyze/live/s/events", {"detail": "busy"})
    )
    chunk = translate.error_info_from_wire(
        *_response(409, "/analyze/live/s/chunk", {"detail": "expected 4"})
    )
    assert events.message == "another consumer is attached to the event stream (busy)"
    assert chunk.message == "chunk sequence conflict: expected 4"
    assert chunk.details["expected_chunk_seq"] == 4


def test_error_parser_auth_hint() -> None:
    info = translate.error_info_from_wire(
        *_response(401, "/analyze", {"detail": "Invalid or missing API key"})
    )
    assert info.message == "Invalid or missing API key"
    assert info.hint is not None
    assert "ILLOCUTION_API_KEY" in info.hint


# -- batch -----------------------------------------------------------------------------------

ANALYSIS = {
    "conversation_id": "analysis_f38de2c0c1",
    "utterances": 2,
    "timeline": [
        {"utterance_id": "analysis_utt_0", "speaker": "Speaker_0", "t_start": 0.0, "t_end": 2.5,
         "text": "Hi.", "asr_confidence": 0.9, "emotion": {"joy": 0.5}},
        {"utterance_id": "analysis_utt_1", "speaker": "Speaker_1", "t_start": 2.6, "t_end": 4.0,
         "text": "Hello.", "asr_confidence": 0.8},
    ],
    "summary": {"overview": "Greetings.", "conversation_quality": "fair"},
    "insights": {"engagement_pattern": "increasing",
                 "key_moments": [{"moment_id": "m", "start_ms": 1000, "speaker_id": "S"}]},
    "transitions": [{"transition_id": "t", "at_ms": 2600}],
    "moments": [{"moment_id": "m", "start_ms": 1000, "end_ms": 2000, "speaker_id": "S"}],
    "segmentation": {"phases": [], "total_phases": 0},
    "artifact_dir": "analysis_f38de2c0c1",
}  # fmt: skip


def test_analysis_result() -> None:
    result = translate.analysis_from_wire(ANALYSIS, bytes_sent=1234)
    session = result.session
    assert (session.provider, session.id, session.status) == (
        "illocution",
        "analysis_f38de2c0c1",
        SessionStatus.COMPLETED,
    )
    assert session.duration == 4.0
    assert result.bytes_sent == 1234
    data = session.provider_data
    assert "timeline" not in data
    assert "summary" not in data
    assert data["moments"] == [{"moment_id": "m", "start": 1.0, "end": 2.0, "speaker": "S"}]
    assert data["transitions"] == [{"transition_id": "t", "at": 2.6}]
    assert data["insights"]["key_moments"] == [{"moment_id": "m", "start": 1.0, "speaker": "S"}]
    assert data["segmentation"] == {"phases": [], "total_phases": 0}
    assert data["artifact_dir"] == "analysis_f38de2c0c1"
    utterances = result.transcript.utterances
    assert result.transcript.session_id == "analysis_f38de2c0c1"
    assert [(u.id, u.speaker, u.start, u.end, u.text, u.confidence) for u in utterances] == [
        ("analysis_utt_0", "Speaker_0", 0.0, 2.5, "Hi.", 0.9),
        ("analysis_utt_1", "Speaker_1", 2.6, 4.0, "Hello.", 0.8),
    ]
    assert utterances[0].provider_data["emotion"] == {"joy": 0.5}
    assert result.summary is not None
    assert result.summary.text == "Greetings."
    assert result.summary.rating == "fair"


def test_analysis_without_conversation_id_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="conversation_id"):
        translate.analysis_from_wire({"timeline": []}, bytes_sent=0)


# -- request builders ----------------------------------------------------------------------


@pytest.mark.parametrize(("ttl", "sent"), [(None, 900), (60, 60), (3600, 3600), (90.4, 90)])
def test_ttl_within_range(ttl: float | None, sent: int) -> None:
    assert translate.ttl_to_wire(LiveOptions(ttl=ttl)) == sent


@pytest.mark.parametrize("ttl", [59.9, 3601, 0, -5, float("nan"), float("inf")])
def test_ttl_out_of_range(ttl: float) -> None:
    with pytest.raises(ConfigError, match=r"60\.\.3600"):
        translate.ttl_to_wire(LiveOptions(ttl=ttl))


def test_start_body() -> None:
    body = translate.live_start_to_wire(LiveOptions(), 900)
    assert body == {"filename": "live.wav", "ttl_seconds": 900}
    mp3 = translate.live_start_to_wire(LiveOptions(encoding="mp3"), 120)
    assert mp3 == {"filename": "live.mp3", "ttl_seconds": 120}
    named = translate.live_start_to_wire(
        LiveOptions(filename="call.webm", provider_options={"goal": "objections"}), 60
    )
    assert named == {"filename": "call.webm", "ttl_seconds": 60, "goal": "objections"}
    suffixed = translate.live_start_to_wire(LiveOptions(provider_options={"suffix": ".ogg"}), 60)
    assert suffixed == {"suffix": ".ogg", "ttl_seconds": 60}


def test_wav_header_is_readable() -> None:
    header = wav_header(sample_rate=8000, channels=2, bits=16, data_size=8)
    with wave.open(io.BytesIO(header + b"\x00" * 8), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (
            8000,
            2,
            2,
            2,
        )
    streaming = wav_header_for(LiveOptions(encoding="pcm"))
    assert streaming is not None
    assert len(streaming) == 44
    assert streaming[4:8] == b"\xff" * 4
    assert wav_header_for(LiveOptions(encoding="mp3")) is None
