"""Unit tests of the pure translators: Gladia payload in, neutral object out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from convoport.adapters.gladia import translate, wire
from convoport.errors import ConfigError, Conflict, MalformedResponse
from convoport.live import (
    AudioAcknowledged,
    ErrorEvent,
    FinalUtterance,
    LiveOptions,
    PartialTranscript,
    SpeechEvent,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
)
from convoport.model import SessionQuery, SessionStatus
from tests.adapters.gladia.payloads import FILE_ID, JOB_ID, done_job, queued_job, word

# -- sessions -------------------------------------------------------------------------------


def test_done_job_every_field() -> None:
    data = done_job()
    session = translate.session_from_wire(data)
    assert session.provider == "gladia"
    assert session.id == JOB_ID
    assert session.status is SessionStatus.COMPLETED
    assert session.provider_status == "done"
    assert session.created_at == datetime(2026, 9, 14, 13, 2, 11, 482000, tzinfo=UTC)
    assert session.started_at is None
    assert session.ended_at == datetime(2026, 9, 14, 13, 5, 40, 10000, tzinfo=UTC)
    assert session.duration == 12.5
    assert session.title is None
    assert session.language == "en"
    assert session.metadata == {"user": "John Doe", "ticket": 42}
    assert session.provider_data == data


def test_queued_job_with_nulls_and_absent_keys() -> None:
    session = translate.session_from_wire(queued_job())
    assert session.status is SessionStatus.PENDING
    assert session.provider_status == "queued"
    assert session.created_at == datetime(2026, 9, 14, 13, 2, 11, tzinfo=UTC)
    assert session.ended_at is None
    assert session.duration is None
    assert session.language is None
    assert session.metadata == {}


@pytest.mark.parametrize(
    ("word_", "status"),
    [
        ("queued", SessionStatus.PENDING),
        ("processing", SessionStatus.PROCESSING),
        ("done", SessionStatus.COMPLETED),
        ("error", SessionStatus.FAILED),
        ("archived", SessionStatus.PROCESSING),  # unknown: the documented fallback
    ],
)
def test_status_table(word_: str, status: SessionStatus) -> None:
    data = {**queued_job(), "status": word_}
    session = translate.session_from_wire(data)
    assert session.status is status
    assert session.provider_status == word_


def test_duration_falls_back_to_result_metadata() -> None:
    data = done_job()
    data["file"] = None
    assert translate.session_from_wire(data).duration == 12.5
    del data["result"]["metadata"]
    assert translate.session_from_wire(data).duration is None


def test_naive_timestamp_is_malformed() -> None:
    data = {**queued_job(), "created_at": "2026-09-14T13:02:11"}
    with pytest.raises(MalformedResponse, match=r"\$\.created_at has no timezone"):
        translate.session_from_wire(data)


def test_offset_timestamp_is_normalised_to_utc() -> None:
    data = {**queued_job(), "created_at": "2026-09-14T15:02:11.5+02:00"}
    created = translate.session_from_wire(data).created_at
    assert created == datetime(2026, 9, 14, 13, 2, 11, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("custom_metadata", "x", "$.custom_metadata"),
        ("id", None, "$.id"),
        ("status", 3.5, "$.status"),
        ("file", [], "$.file"),
    ],
)
def test_wrong_shapes_are_malformed(key: str, value: Any, where: str) -> None:
    data = {**queued_job(), key: value}
    with pytest.raises(MalformedResponse) as info:
        translate.session_from_wire(data)
    assert where in str(info.value)


def test_list_page() -> None:
    data = {"items": [queued_job(), done_job()], "next": None, "first": "x", "current": "x"}
    items, nxt = translate.list_page_from_wire(data)
    assert [s.status for s in items] == [SessionStatus.PENDING, SessionStatus.COMPLETED]
    assert nxt is None
    with pytest.raises(MalformedResponse, match=r"\$\.items\[0\]\.id"):
        translate.list_page_from_wire({"items": [{"status": "done"}], "next": None})


def test_list_item_without_post_session_metadata() -> None:
    data = done_job()
    del data["post_session_metadata"]
    assert translate.session_from_wire(data).status is SessionStatus.COMPLETED


# -- transcripts --------------------------------------------------------------------------


def test_transcript_every_field() -> None:
    transcript = translate.transcript_from_wire(done_job())
    assert transcript is not None
    assert transcript.session_id == JOB_ID
    assert transcript.language == "en"
    assert transcript.engine == "gladia"
    assert transcript.created_at == datetime(2026, 9, 14, 13, 5, 40, 10000, tzinfo=UTC)
    assert transcript.provider_data == {
        "full_transcript": "Hello there. Hi, how can I help?",
        "languages": ["en", "fr"],
        "metadata": {
            "audio_duration": 12.5,
            "number_of_distinct_channels": 2,
            "billing_time": 25.0,
            "transcription_time": 1.2,
        },
    }
    first, second = transcript.utterances
    assert first.text == "Hello there."
    assert first.start == 0.21001999999999998
    assert first.end == 1.1
    assert first.id is None  # REST utterances carry no id
    assert first.speaker == "channel 0"  # no speaker: labelled by channel
    assert first.channel == 0
    assert first.confidence == 0.93
    assert first.language == "en"
    assert [w.text for w in first.words] == ["Hello", " there."]  # kept as sent
    assert first.words[1].start == 0.6
    assert first.words[1].end == 1.1
    assert first.words[1].confidence == 0.9
    assert first.provider_data == {}
    assert second.speaker == "3"  # Gladia's speaker wins over the channel
    assert second.channel == 1
    assert second.provider_data == {"emotion": "calm"}
    assert transcript.speakers == ("channel 0", "3")


def test_transcript_absent_while_job_runs() -> None:
    assert translate.transcript_from_wire(queued_job()) is None
    data = done_job()
    del data["result"]["transcription"]
    assert translate.transcript_from_wire(data) is None


def test_utterance_text_rebuilt_from_words_and_optional_fields() -> None:
    data = done_job()
    utterance = data["result"]["transcription"]["utterances"][0]
    del utterance["text"], utterance["language"], utterance["confidence"], utterance["channel"]
    utterance["words"] = [word(" Hello", 0.0, 0.5), word(" there", 0.5, 1.0)]
    transcript = translate.transcript_from_wire(data)
    assert transcript is not None
    first = transcript.utterances[0]
    assert first.text == "Hello there"
    assert first.language is None
    assert first.confidence is None
    assert first.channel is None
    assert first.speaker is None


@pytest.mark.parametrize(
    ("key", "value"), [("confidence", 1.5), ("channel", -1), ("words", "x"), ("start", "1")]
)
def test_bad_utterances_are_malformed(key: str, value: Any) -> None:
    data = done_job()
    data["result"]["transcription"]["utterances"][0][key] = value
    with pytest.raises(MalformedResponse, match=r"utterances\[0\]"):
        translate.transcript_from_wire(data)


# -- summaries and recordings -------------------------------------------------------------


def test_summary() -> None:
    summary = translate.summary_from_wire(done_job())
    assert summary is not None
    assert summary.session_id == JOB_ID
    assert summary.text == "A greeting."
    assert summary.format == "text"
    assert summary.language == "en"
    assert summary.created_at == datetime(2026, 9, 14, 13, 5, 40, 10000, tzinfo=UTC)
    assert summary.provider_data["exec_time"] == 0.7


@pytest.mark.parametrize(
    "change",
    [
        {"success": False, "error": {"status_code": 500, "exception": "X", "message": "boom"}},
        {"is_empty": True, "results": ""},
        {"results": None},
    ],
)
def test_no_summary(change: dict[str, Any]) -> None:
    data = done_job()
    data["result"]["summarization"].update(change)
    assert translate.summary_from_wire(data) is None


def test_no_summary_without_block_or_result() -> None:
    data = done_job()
    del data["result"]["summarization"]
    assert translate.summary_from_wire(data) is None
    assert translate.summary_from_wire(queued_job()) is None


def test_recording_from_file() -> None:
    (recording,) = translate.recordings_from_wire(done_job())
    assert recording.id == FILE_ID
    assert recording.session_id == JOB_ID
    assert recording.media_type == "audio/wav"
    assert recording.filename == "call.wav"
    assert recording.duration == 12.5
    assert recording.channels == 2
    assert recording.size is None
    assert recording.url is None
    assert recording.created_at == datetime(2026, 9, 14, 13, 2, 11, 482000, tzinfo=UTC)
    assert recording.provider_data["source"] is None


def test_recording_fallbacks() -> None:
    data = done_job()
    data["file"] = {"filename": None, "source": None, "audio_duration": None}
    (recording,) = translate.recordings_from_wire(data)
    assert recording.id == JOB_ID
    assert recording.filename == f"{JOB_ID}.wav"
    assert recording.duration is None
    assert recording.channels is None
    assert translate.recordings_from_wire(queued_job()) == []


# -- init and errors ----------------------------------------------------------------------


def test_init_response() -> None:
    job_id, url, created = translate.init_from_wire(
        {"id": JOB_ID, "created_at": "2026-09-14T13:02:11.482Z", "url": "wss://x/v2/live?t=1"}
    )
    assert (job_id, url) == (JOB_ID, "wss://x/v2/live?t=1")
    assert created == datetime(2026, 9, 14, 13, 2, 11, 482000, tzinfo=UTC)
    assert translate.init_from_wire({"id": JOB_ID, "url": "wss://x"})[2] is None
    with pytest.raises(MalformedResponse, match="url"):
        translate.init_from_wire({"id": JOB_ID, "url": "ftp://x"})


def _error(status: int, method: str, body: bytes) -> Any:
    request = httpx.Request(method, "https://api.gladia.io/v2/live")
    return translate.error_info_from_wire(httpx.Response(status, request=request), body)


def _body(**fields: Any) -> bytes:
    return json.dumps(
        {"timestamp": "t", "path": "/v2/live", "request_id": "G-1", "statusCode": 400, **fields}
    ).encode()


def test_error_info_joins_validation_errors() -> None:
    info = _error(
        400, "POST", _body(message="Bad", validation_errors=["a must be x", "b must be y"])
    )
    assert info is not None
    assert info.message == "Bad: a must be x; b must be y"
    assert info.request_id == "G-1"
    assert info.error_class is None
    assert info.details == {"status_code": 400}  # Gladia's camelCase statusCode


def test_error_info_validation_errors_on_any_4xx_but_not_5xx() -> None:
    info = _error(422, "POST", _body(message="Bad", validation_errors=["x"]))
    assert info is not None
    assert info.message == "Bad: x"
    info = _error(500, "GET", _body(message="Oops", validation_errors=["x"]))
    assert info is not None
    assert info.message == "Oops"


def test_error_info_403_on_delete_is_conflict() -> None:
    info = _error(403, "DELETE", _body(message="not deletable"))
    assert info is not None
    assert info.error_class is Conflict
    assert info.hint == "the job must be done or errored before it can be deleted"
    other = _error(403, "GET", _body(message="no"))
    assert other is not None
    assert other.error_class is None


def test_error_info_413_hint_and_unreadable_bodies() -> None:
    info = _error(413, "PATCH", _body(message="too big"))
    assert info is not None
    assert info.hint is not None
    assert "100 kB" in info.hint
    assert _error(500, "GET", b"<html>") is None
    assert _error(500, "GET", b"[1]") is None


# -- list query ---------------------------------------------------------------------------


def test_list_params_every_filter() -> None:
    query = SessionQuery(
        created_after=datetime(2026, 9, 1, tzinfo=UTC),
        created_before=datetime(2026, 9, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2))),
        created_on="2026-09-01",
        statuses={SessionStatus.FAILED, SessionStatus.COMPLETED, SessionStatus.ACTIVE},
        metadata={"user": "John Doe", "team": "a&b"},
    )
    params = translate.list_params(query, offset=40, limit=20)
    assert params == [
        ("offset", "40"),
        ("limit", "20"),
        ("date", "2026-09-01"),
        ("before_date", "2026-09-02T01:04:05.123456Z"),
        ("after_date", "2026-09-01T00:00:00.000Z"),
        ("status", "done"),
        ("status", "error"),
        ("custom_metadata[team]", "a&b"),
        ("custom_metadata[user]", "John Doe"),
    ]


def test_list_params_nothing_can_match() -> None:
    query = SessionQuery(statuses={SessionStatus.ACTIVE, SessionStatus.CANCELLED})
    assert translate.list_params(query, offset=0, limit=5) is None
    assert translate.list_params(SessionQuery(), offset=0, limit=5) == [
        ("offset", "0"),
        ("limit", "5"),
    ]


# -- live init body -----------------------------------------------------------------------


def test_live_init_body_maps_options() -> None:
    options = LiveOptions(
        encoding="pcm",
        sample_rate=8000,
        bit_depth=16,
        channels=2,
        languages=("en", "fr"),
        metadata={"user": "x"},
        partial_transcripts=False,
        provider_options={
            "messages_config": {"receive_speech_events": False},
            "post_processing": {"summarization": True},
        },
    )
    assert translate.live_init_body(options) == {
        "encoding": "wav/pcm",
        "bit_depth": 16,
        "sample_rate": 8000,
        "channels": 2,
        "language_config": {"languages": ["en", "fr"]},
        "custom_metadata": {"user": "x"},
        "messages_config": {
            "receive_partial_transcripts": False,
            "receive_final_transcripts": True,
            "receive_acknowledgments": True,
            "receive_lifecycle_events": True,
            "receive_post_processing_events": True,
            "receive_speech_events": False,
        },
        "post_processing": {"summarization": True},
    }


def test_live_init_body_minimal() -> None:
    body = translate.live_init_body(LiveOptions(encoding="ulaw", bit_depth=8))
    assert body["encoding"] == "wav/ulaw"
    assert "language_config" not in body
    assert "custom_metadata" not in body


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (LiveOptions(encoding="opus"), "encoding"),
        (LiveOptions(sample_rate=22050), "sample_rate"),
        (LiveOptions(bit_depth=12), "bit_depth"),
        (LiveOptions(encoding="alaw"), "bit_depth"),
        (LiveOptions(channels=9), "channels"),
        (LiveOptions(languages=("english",)), "languages"),
        (LiveOptions(provider_options={"encoding": "mp3"}), "encoding"),
        (
            LiveOptions(
                provider_options={"post_processing": {"summarization_config": {"type": "x"}}}
            ),
            "summarization_config.type",
        ),
    ],
)
def test_live_init_body_refuses_values_outside_the_enums(options: LiveOptions, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        translate.live_init_body(options)
    assert f"{field}=" in str(info.value)
    assert "allowed values" in str(info.value)


def test_live_init_body_keeps_acknowledgments() -> None:
    options = LiveOptions(provider_options={"messages_config": {"receive_acknowledgments": False}})
    with pytest.raises(ConfigError, match="receive_acknowledgments"):
        translate.live_init_body(options)


def test_region() -> None:
    assert translate.validate_region("eu-west") == "eu-west"
    assert translate.validate_region(None) is None
    with pytest.raises(ConfigError, match="us-west, eu-west"):
        translate.validate_region("mars")


# -- live messages ------------------------------------------------------------------------


def _msg(kind: str, **fields: Any) -> dict[str, Any]:
    return {"session_id": JOB_ID, "created_at": "2026-09-14T13:02:11.482Z", "type": kind, **fields}


UTTERANCE = {
    "start": 1.0,
    "end": 1.5,
    "confidence": 0.9,
    "channel": 1,
    "words": [word("hi", 1.0, 1.5)],
    "text": "hi",
    "language": "en",
}


def events(message: Any) -> list[Any]:
    return translate.live_events(message, session_id=JOB_ID)


def test_transcript_partial_and_final() -> None:
    (partial,) = events(
        _msg("transcript", data={"id": "01_1", "is_final": False, "utterance": UTTERANCE})
    )
    assert isinstance(partial, PartialTranscript)
    assert partial.utterance.id == "01_1"
    assert partial.utterance.speaker == "channel 1"
    (final,) = events(
        _msg("transcript", data={"id": "01_1", "is_final": True, "utterance": UTTERANCE})
    )
    assert isinstance(final, FinalUtterance)
    assert final.utterance.id == "01_1"
    assert final.utterance.text == "hi"
    (assumed,) = events(_msg("transcript", data={"id": "01_2", "utterance": UTTERANCE}))
    assert isinstance(assumed, FinalUtterance)


def test_speech_events() -> None:
    (start,) = events(_msg("speech_start", data={"time": 12.56, "channel": 1.0}))
    assert start == SpeechEvent(
        started=True, time=12.56, channel=1, provider_data=start.provider_data
    )
    (end,) = events(_msg("speech_end", data={"time": 13.0, "channel": 0}))
    assert isinstance(end, SpeechEvent)
    assert not end.started


def test_acknowledgements() -> None:
    ack = _msg(
        "audio_chunk",
        acknowledged=True,
        error=None,
        data={"byte_range": [1024, 2048], "time_range": [0.8, 0.9]},
    )
    (event,) = events(ack)
    assert isinstance(event, AudioAcknowledged)
    assert (event.byte_end, event.time_end) == (2048, 0.9)
    refused = _msg("audio_chunk", acknowledged=False, error={"message": "bad audio"}, data=None)
    (error,) = events(refused)
    assert isinstance(error, ErrorEvent)
    assert not error.fatal
    assert "bad audio" in error.message
    asyncapi_style = _msg(
        "audio_chunk",
        acknowledged=True,
        error={"status_code": 400, "exception": "BadChunk", "message": "odd size"},
        data=None,
    )
    (error2,) = events(asyncapi_style)
    assert isinstance(error2, ErrorEvent)
    assert "odd size" in error2.message
    stop = _msg(
        "stop_recording",
        acknowledged=True,
        error=None,
        data={"recording_duration": 3.0, "recording_left_to_process": 0},
    )
    (status,) = events(stop)
    assert status == StatusEvent(
        phase="stop_recording", status=SessionStatus.PROCESSING, provider_data=stop
    )


def test_post_processing_messages() -> None:
    (post,) = events(_msg("post_transcript", data={"full_transcript": "x"}))
    assert isinstance(post, VendorEvent)
    assert post.name == "post_transcript"
    (final,) = events(_msg("post_final_transcript", data={"metadata": {}}))
    assert isinstance(final, VendorEvent)
    (summary,) = events(_msg("post_summarization", error=None, data={"results": "Short."}))
    assert isinstance(summary, SummaryEvent)
    assert summary.summary.text == "Short."
    assert summary.summary.session_id == JOB_ID
    (failed,) = events(_msg("post_summarization", error={"message": "no"}, data=None))
    assert isinstance(failed, ErrorEvent)
    assert not failed.fatal


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("start_session", SessionStatus.ACTIVE),
        ("start_recording", SessionStatus.ACTIVE),
        ("end_recording", SessionStatus.PROCESSING),
        ("end_session", None),
    ],
)
def test_lifecycle(kind: str, status: SessionStatus | None) -> None:
    (event,) = events(_msg(kind))
    assert isinstance(event, StatusEvent)
    assert (event.phase, event.status) == (kind, status)


@pytest.mark.parametrize("kind", ["named_entity_recognition", "sentiment_analysis", "translation"])
def test_addons_pass_through_and_surface_errors(kind: str) -> None:
    (ok,) = events(_msg(kind, error=None, data={"utterance_id": "1", "results": []}))
    assert isinstance(ok, VendorEvent)
    assert ok.name == kind
    vendor, error = events(_msg(kind, error={"message": "addon failed"}, data=None))
    assert isinstance(vendor, VendorEvent)
    assert isinstance(error, ErrorEvent)
    assert "addon failed" in error.message


def test_unknown_error_and_unreadable_messages() -> None:
    (unknown,) = events(_msg("emotion", data={"x": 1}))
    assert unknown == VendorEvent(name="emotion", data=_msg("emotion", data={"x": 1}))
    (error,) = events(_msg("error", error={"message": "server error"}))
    assert isinstance(error, ErrorEvent)
    assert error.message == "server error"
    for bad in ([1, 2], {"no": "type"}, _msg("transcript", data={"id": "x"}), "text"):
        (event,) = events(bad)
        assert isinstance(event, ErrorEvent)
        assert event.code == "malformed"
        assert not event.fatal


def test_wire_tables_are_consistent() -> None:
    assert set(wire.STATUS_FILTER.values()) == set(wire.STATUS_TABLE)
    assert len(wire.LANGUAGES) == 99
