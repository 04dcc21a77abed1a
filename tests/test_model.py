"""The neutral model: JSON round trips, UTC-only datetimes, SessionRef, Transcript helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoport import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    Word,
    from_json,
    to_json,
)
from convoport.live import (
    AudioAcknowledged,
    DoneEvent,
    ErrorEvent,
    FinalUtterance,
    IngestResult,
    LiveOptions,
    PartialTranscript,
    SpeechEvent,
    StatusEvent,
    SummaryEvent,
    VendorEvent,
)
from convoport.serde import structure_event, unstructure

# -- strategies ------------------------------------------------------------------------------

aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), UTC]),
)
maybe_time = st.none() | aware
text = st.text(max_size=20)
maybe_text = st.none() | text
seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False)
maybe_seconds = st.none() | seconds
confidence = st.none() | st.floats(min_value=0, max_value=1, allow_nan=False)
json_scalar = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
json_dict = st.dictionaries(text, json_value, max_size=4)

words = st.builds(Word, text=text, start=maybe_seconds, end=maybe_seconds, confidence=confidence)
utterances = st.builds(
    Utterance,
    text=text,
    start=maybe_seconds,
    end=maybe_seconds,
    id=maybe_text,
    speaker=maybe_text,
    channel=st.none() | st.integers(0, 8),
    confidence=confidence,
    language=maybe_text,
    timestamp=maybe_time,
    words=st.lists(words, max_size=3).map(tuple),
    provider_data=json_dict,
)
sessions = st.builds(
    Session,
    provider=st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
    id=text.filter(bool),
    status=st.sampled_from(SessionStatus),
    provider_status=maybe_text,
    created_at=maybe_time,
    started_at=maybe_time,
    ended_at=maybe_time,
    duration=maybe_seconds,
    title=maybe_text,
    language=maybe_text,
    metadata=json_dict,
    provider_data=json_dict,
)
transcripts = st.builds(
    Transcript,
    session_id=text,
    utterances=st.lists(utterances, max_size=4).map(tuple),
    language=maybe_text,
    engine=maybe_text,
    created_at=maybe_time,
    provider_data=json_dict,
)
recordings = st.builds(
    Recording,
    id=text,
    session_id=text,
    media_type=maybe_text,
    filename=maybe_text,
    duration=maybe_seconds,
    size=st.none() | st.integers(0, 2**40),
    channels=st.none() | st.integers(0, 8),
    created_at=maybe_time,
    url=maybe_text,
    expires_at=maybe_time,
    provider_data=json_dict,
)
summaries = st.builds(
    Summary,
    session_id=text,
    text=text,
    format=st.sampled_from(["text", "markdown"]),
    rating=maybe_text,
    language=maybe_text,
    created_at=maybe_time,
    provider_data=json_dict,
)
participants = st.builds(
    Participant,
    id=text,
    session_id=text,
    user_id=maybe_text,
    display_name=maybe_text,
    role=maybe_text,
    joined_at=maybe_time,
    left_at=maybe_time,
    duration=maybe_seconds,
    provider_data=json_dict,
)
chat = st.builds(
    ChatMessage,
    id=text,
    session_id=text,
    text=text,
    sent_at=maybe_time,
    sender_id=maybe_text,
    sender_name=maybe_text,
    kind=st.sampled_from(["text", "image", "file"]),
    pinned=st.none() | st.booleans(),
    edited=st.none() | st.booleans(),
    provider_data=json_dict,
)
events = st.one_of(
    st.builds(
        StatusEvent,
        phase=text,
        status=st.none() | st.sampled_from(SessionStatus),
        progress=confidence,
        provider_data=json_dict,
    ),
    st.builds(PartialTranscript, utterance=utterances),
    st.builds(FinalUtterance, utterance=utterances),
    st.builds(
        SpeechEvent,
        started=st.booleans(),
        time=maybe_seconds,
        channel=st.none() | st.integers(0, 8),
    ),
    st.builds(AudioAcknowledged, byte_end=st.integers(0, 2**40), time_end=maybe_seconds),
    st.builds(SummaryEvent, summary=summaries),
    st.builds(ErrorEvent, message=text, code=maybe_text, fatal=st.booleans()),
    st.builds(DoneEvent, session_id=text),
    st.builds(VendorEvent, name=text, data=json_dict),
)


def roundtrip(value: Any) -> Any:
    return from_json(to_json(value), type(value))


@pytest.mark.parametrize(
    "strategy",
    [sessions, transcripts, recordings, summaries, participants, chat, utterances],
    ids=["session", "transcript", "recording", "summary", "participant", "chat", "utterance"],
)
def test_json_round_trip_is_lossless(strategy: st.SearchStrategy[Any]) -> None:
    @given(strategy)
    def check(value: Any) -> None:
        again = roundtrip(value)
        assert again == value
        assert to_json(again) == to_json(value)

    check()


@given(events)
def test_live_events_round_trip_with_type_tag(event: Any) -> None:
    data = unstructure(event)
    assert data["type"] == event.kind
    assert structure_event(json.loads(json.dumps(data))) == event


@given(sessions, transcripts)
def test_ingest_result_round_trips(session: Session, transcript: Transcript) -> None:
    result = IngestResult(session=session, transcript=transcript, bytes_sent=12)
    assert roundtrip(result) == result


def test_live_options_round_trip() -> None:
    options = LiveOptions(languages=("en", "fr"), metadata={"a": 1}, ttl=120.0)
    assert roundtrip(options) == options


def test_datetimes_are_normalised_to_utc() -> None:
    local = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    session = Session(provider="x", id="1", status=SessionStatus.ACTIVE, created_at=local)
    assert session.created_at == local
    assert session.created_at is not None
    assert session.created_at.tzinfo is UTC
    assert session.created_at.hour == 10
    assert '"created_at": "2026-01-01T10:00:00+00:00"' in to_json(session)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        Session(provider="x", id="1", status=SessionStatus.ACTIVE, created_at=datetime(2026, 1, 1))


def test_naive_timestamp_in_json_is_refused() -> None:
    data = json.loads(to_json(Session(provider="x", id="1", status=SessionStatus.ACTIVE)))
    data["created_at"] = "2026-01-01T10:00:00"
    with pytest.raises(cattrs.BaseValidationError):
        from_json(json.dumps(data), Session)


def test_unknown_status_in_json_is_refused() -> None:
    data = json.loads(to_json(Session(provider="x", id="1", status=SessionStatus.ACTIVE)))
    data["status"] = "sleeping"
    with pytest.raises(cattrs.BaseValidationError):
        from_json(json.dumps(data), Session)


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration", -1.0), ("size", -5), ("channels", -1)],
)
def test_negative_quantities_are_refused(field: str, value: float) -> None:
    kwargs: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=field):
        Recording(id="r", session_id="s", **kwargs)


def test_confidence_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        Word(text="x", confidence=1.5)


@given(
    st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
    st.text(min_size=1).filter(lambda s: s.strip() == s or True),
)
def test_session_ref_string_round_trips(provider: str, ident: str) -> None:
    ref = SessionRef(provider=provider, id=ident)
    assert str(ref) == f"{provider}:{ident}"
    assert SessionRef.parse(str(ref)) == ref


@pytest.mark.parametrize("bad", ["gladia", "gladia:", ":abc", "Gladia:x", "9x:y", ""])
def test_session_ref_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        SessionRef.parse(bad)


def test_session_ref_keeps_colons_in_ids() -> None:
    ref = SessionRef.parse("local:gladia:abc")
    assert ref.provider == "local"
    assert ref.id == "gladia:abc"


def _u(text: str, speaker: str | None, start: float, end: float) -> Utterance:
    return Utterance(text=text, speaker=speaker, start=start, end=end)


def test_transcript_helpers() -> None:
    t = Transcript(
        session_id="s",
        utterances=(
            _u(" Hello ", "agent", 0.0, 1.0),
            _u("there", "agent", 1.0, 2.0),
            _u("Hi", "caller", 2.5, 3.0),
            _u("", None, 3.0, 3.1),
            _u("Bye", "agent", 4.0, 5.0),
        ),
    )
    assert t.text == "Hello\nthere\nHi\nBye"
    assert t.speakers == ("agent", "caller")
    grouped = t.by_speaker()
    assert list(grouped) == ["agent", "caller", None]
    assert [u.text for u in grouped["agent"]] == [" Hello ", "there", "Bye"]
    turns = t.turns()
    assert [(x.speaker, x.text, x.start, x.end) for x in turns] == [
        ("agent", "Hello there", 0.0, 2.0),
        ("caller", "Hi", 2.5, 3.0),
        (None, "", 3.0, 3.1),
        ("agent", "Bye", 4.0, 5.0),
    ]
    assert t.speaker_text("agent") == "Hello\nthere\nBye"


def test_session_query_matches() -> None:
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    s = Session(
        provider="x",
        id="1",
        status=SessionStatus.COMPLETED,
        created_at=when,
        metadata={"team": "a", "n": 3},
    )
    assert SessionQuery().matches(s)
    assert SessionQuery(created_after=when).matches(s)
    assert not SessionQuery(created_before=when).matches(s)
    assert SessionQuery(created_on="2026-05-01").matches(s)
    assert not SessionQuery(created_on="2026-05-02").matches(s)
    assert SessionQuery(statuses={SessionStatus.COMPLETED}).matches(s)
    assert not SessionQuery(statuses={SessionStatus.FAILED}).matches(s)
    assert SessionQuery(metadata={"team": "a", "n": "3"}).matches(s)
    assert not SessionQuery(metadata={"team": "b"}).matches(s)
    assert not SessionQuery(metadata={"missing": "None"}).matches(s)
    undated = Session(provider="x", id="2", status=SessionStatus.PENDING)
    assert not SessionQuery(created_after=when).matches(undated)


def test_session_query_rejects_bad_day() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        SessionQuery(created_on="2026/05/01")
    with pytest.raises(ValueError):
        SessionQuery(created_on="2026-13-40")


def test_status_terminal() -> None:
    assert {s for s in SessionStatus if s.terminal} == {
        SessionStatus.COMPLETED,
        SessionStatus.FAILED,
        SessionStatus.CANCELLED,
    }


def test_repr_hides_provider_data_and_urls() -> None:
    r = Recording(id="r", session_id="s", url="https://x/?sig=abc", provider_data={"k": "v"})
    assert "sig=abc" not in repr(r)
    assert "provider_data" not in repr(r)
