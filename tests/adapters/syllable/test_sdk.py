"""The official ``syllable-sdk`` (0.49.87, the dev extra) against ``convoport emulate syllable``
over a real socket: every call the issue lists runs with no validation error, and the values
the SDK parses are the emulator's.

The SDK validates every answer with its pydantic models (closed enums included), so this is the
strongest check that the emulator speaks Syllable's wire format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC

import pytest

from convoport.adapters.syllable.emulator import SANDBOX_KEY, SyllableEmulator
from tests.support.emulate import emulate

syllable_sdk = pytest.importorskip("syllable_sdk", reason="syllable-sdk is in the dev extra")
from syllable_sdk import SyllableSDK, models  # noqa: E402

SEED = "5"
SESSIONS = "40"


@pytest.fixture(scope="module")
def sdk() -> Iterator[SyllableSDK]:
    with emulate("syllable", "--seed", SEED, "--sessions", SESSIONS) as base:
        yield SyllableSDK(api_key_header=SANDBOX_KEY, server_url=base, timeout_ms=20_000)


@pytest.fixture(scope="module")
def harness() -> SyllableEmulator:
    """The same seeded data as the emulator the SDK talks to."""
    from convoport.sandbox import HarnessSettings

    return SyllableEmulator(settings=HarnessSettings(seed=int(SEED), sessions=int(SESSIONS)))


def test_list_with_search_and_get(sdk: SyllableSDK, harness: SyllableEmulator) -> None:
    listed = sdk.sessions.list(
        page=0,
        limit=5,
        search_fields=[models.SessionProperties.AGENT_ID],
        search_field_values=["42"],
        order_by=models.SessionProperties.TIMESTAMP,
        order_by_direction=models.OrderByDirection.DESC,
    )
    expected = [s for s in harness.listed() if s.wire["agent_id"] == "42"]
    assert listed.page == 0
    assert listed.page_size == 5
    assert listed.total_count == len(expected)
    assert [s.session_id for s in listed.items] == [s.id for s in expected[:5]]
    assert all(s.agent_id == "42" for s in listed.items)
    second = sdk.sessions.list(
        page=1,
        limit=5,
        search_fields=[models.SessionProperties.AGENT_ID],
        search_field_values=["42"],
    )
    assert [s.session_id for s in second.items] == [s.id for s in expected[5:10]]
    phone = str(expected[0].wire["source"])
    by_phone = sdk.sessions.list(
        search_fields=[models.SessionProperties.SOURCE], search_field_values=[phone]
    )
    assert [s.session_id for s in by_phone.items] == [expected[0].id]
    one = sdk.sessions.get_by_id(session_id=expected[0].id)
    assert one.session_id == expected[0].id
    assert one.timestamp.astimezone(UTC) == expected[0].timestamp
    assert one.agent_name == expected[0].wire["agent_name"]
    assert one.duration == expected[0].wire["duration"]


def test_recording_urls_and_stream(sdk: SyllableSDK, harness: SyllableEmulator) -> None:
    seeded = next(s for s in harness.listed() if s.recordings)
    urls = sdk.sessions.generate_session_recording_urls(session_id=seeded.id)
    assert urls.session_id == seeded.id
    recordings = urls.recordings
    assert isinstance(recordings, list)
    assert len(recordings) == seeded.recordings
    token = recordings[0].split("token=", 1)[1]
    response = sdk.sessions.session_recording_stream(token=token)
    try:
        data = b"".join(response.iter_bytes())
    finally:
        response.close()
    assert response.headers["content-type"] == "application/octet-stream"
    assert data[:4] == b"RIFF"
    want = hashlib.sha256(harness.audio_for(seeded, 0)).hexdigest()
    assert hashlib.sha256(data).hexdigest() == want


def test_transcript_summary_latency_timeline_labels(
    sdk: SyllableSDK, harness: SyllableEmulator
) -> None:
    seeded = next(
        s
        for s in harness.listed()
        if s.voice and s.ended and s.has_transcript and not s.settling and s.labels
    )
    transcript = sdk.sessions.transcript.get_by_id(session_id=seeded.id)
    want = harness.transcript_for(seeded)
    assert transcript.session_id == seeded.id
    assert transcript.transcript_complete is True
    assert [t.text for t in transcript.transcription] == [t["text"] for t in want["transcription"]]
    assert [t.source for t in transcript.transcription][:2] == ["agent", "user"]
    assert transcript.actions
    assert transcript.actions[0].tool_name == "lookup_account"
    assert isinstance(transcript.actions[0].tool_request, str)  # a JSON string on the wire

    summary = sdk.sessions.full_summary.get_by_id(session_id=seeded.id)
    assert summary.summary == harness.summary_for(seeded).get("summary")

    latency = sdk.sessions.latency.get_by_id(session_id=seeded.id)
    assert latency.session_id == seeded.id
    assert [e.category for e in latency.timeline][:3] == [
        models.LatencyCategory.STT,
        models.LatencyCategory.LLM,
        models.LatencyCategory.TTS,
    ]

    timeline = sdk.sessions.timeline.get_by_id(session_id=seeded.id)
    assert timeline.session_id == seeded.id
    kinds = {e.kind for e in timeline.events}
    assert models.TimelineEventKind.TRANSCRIPT in kinds
    assert models.TimelineEventKind.TOOL in kinds

    labels = sdk.session_labels.list(
        search_fields=[models.SessionLabelProperties.SESSION_ID],
        search_field_values=[seeded.id],
    )
    assert labels.items
    assert {label.session_id for label in labels.items} == {int(seeded.id)}
    first = sdk.session_labels.get_by_id(session_label_id=labels.items[0].id)
    assert first.code == labels.items[0].code
