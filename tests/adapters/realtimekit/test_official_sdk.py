"""The official ``cloudflare`` SDK (5.9.0, the dev extra) against ``convoport emulate
realtimekit`` over a real socket: every call the issue lists runs, each answer validates
against the SDK's own pydantic response model (``model_validate`` on the raw JSON: the SDK
itself only constructs models leniently), and the values it reads are the emulator's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from convoport.adapters.realtimekit.emulator import (
    ACCOUNT_ID,
    APP_ID,
    SANDBOX_TOKEN,
    RealtimeKitEmulator,
)
from tests.support.emulate import emulate

cloudflare = pytest.importorskip("cloudflare", reason="the cloudflare SDK is in the dev extra")
from cloudflare import Cloudflare  # noqa: E402
from cloudflare.types import realtime_kit as types  # noqa: E402

SEED = 4
SESSIONS = 40


@pytest.fixture(scope="module")
def sdk() -> Iterator[Cloudflare]:
    with (
        emulate("realtimekit", "--seed", str(SEED), "--sessions", str(SESSIONS)) as base,
        Cloudflare(api_token=SANDBOX_TOKEN, base_url=f"{base}/client/v4") as client,
    ):
        yield client


@pytest.fixture(scope="module")
def seeded() -> RealtimeKitEmulator:
    """The same seeded data the subprocess serves (same seed and size)."""
    return RealtimeKitEmulator(seed=SEED, sessions=SESSIONS)


def strict(model: Any, raw: Any) -> Any:
    """``raw.parse()``, after checking the JSON validates against ``model`` (pydantic)."""
    model.model_validate(raw.http_response.json())
    return raw.parse()


def test_get_sessions(sdk: Cloudflare, seeded: RealtimeKitEmulator) -> None:
    raw = sdk.realtime_kit.sessions.with_raw_response.get_sessions(
        APP_ID, account_id=ACCOUNT_ID, per_page=100, sort_order="ASC", sort_by="createdAt"
    )
    page = strict(types.SessionGetSessionsResponse, raw)
    assert page.success is True
    listed = [s.id for s in page.data.sessions]
    assert listed == [s.id for s in seeded.top_level()]
    assert page.paging.total_count == SESSIONS
    assert {s.status for s in page.data.sessions} == {"LIVE", "ENDED"}
    ended = sdk.realtime_kit.sessions.get_sessions(APP_ID, account_id=ACCOUNT_ID, status="ENDED")
    assert ended.data is not None
    assert ended.data.sessions
    assert all(s.status == "ENDED" for s in ended.data.sessions)


def test_session_details_participants_and_peer_report(
    sdk: Cloudflare, seeded: RealtimeKitEmulator
) -> None:
    parent = next(s for s in seeded.top_level("ENDED") if s.breakout)
    sessions = sdk.realtime_kit.sessions
    raw = sessions.with_raw_response.get_session_details(
        parent.id, include_breakout_rooms=True, account_id=ACCOUNT_ID, app_id=APP_ID
    )
    details = strict(types.SessionGetSessionDetailsResponse, raw)
    assert details.data.id == parent.id
    assert details.data.associated_id == parent.raw["associated_id"]
    assert len(details.data.breakout_rooms or []) == 2
    raw_people = sessions.with_raw_response.get_session_participants(
        parent.id, include_peer_events=True, account_id=ACCOUNT_ID, app_id=APP_ID
    )
    people = strict(types.SessionGetSessionParticipantsResponse, raw_people)
    ids = [p.id for p in people.data.participants]
    assert sorted(ids) == sorted(p["id"] for p in parent.participants)
    assert all(p.peer_events for p in people.data.participants)
    first = parent.participants[0]
    raw_one = sessions.with_raw_response.get_session_participant_details(
        first["id"], session_id=parent.id, account_id=ACCOUNT_ID, app_id=APP_ID
    )
    one = strict(types.SessionGetSessionParticipantDetailsResponse, raw_one)
    assert one.data.participant.display_name == first["display_name"]
    assert one.data.participant.duration == first["duration"]
    raw_report = sessions.with_raw_response.get_participant_data_from_peer_id(
        first["id"], filters="device_info", account_id=ACCOUNT_ID, app_id=APP_ID
    )
    report = strict(types.SessionGetParticipantDataFromPeerIDResponse, raw_report)
    assert report.data.participant.id == first["id"]
    assert report.data.participant.peer_report.metadata.device_info.os == "macOS"


def test_chat_transcript_and_summary_links(sdk: Cloudflare, seeded: RealtimeKitEmulator) -> None:
    done = next(s for s in seeded.top_level("ENDED") if s.chat and s.summary)
    sessions = sdk.realtime_kit.sessions
    chat = strict(
        types.SessionGetSessionChatResponse,
        sessions.with_raw_response.get_session_chat(done.id, account_id=ACCOUNT_ID, app_id=APP_ID),
    )
    assert chat.data.chat_download_url.startswith("http://localhost:")
    transcript = strict(
        types.SessionGetSessionTranscriptsResponse,
        sessions.with_raw_response.get_session_transcripts(
            done.id, format="JSON", account_id=ACCOUNT_ID, app_id=APP_ID
        ),
    )
    assert transcript.data.session_id == done.id
    summary = strict(
        types.SessionGetSessionSummaryResponse,
        sessions.with_raw_response.get_session_summary(
            done.id, account_id=ACCOUNT_ID, app_id=APP_ID
        ),
    )
    assert summary.data.session_id == done.id
    # the links are pre-signed on another origin (localhost vs 127.0.0.1): no token needed
    got = httpx.get(summary.data.summary_download_url, timeout=10)
    assert got.status_code == 200
    assert got.text == done.summary
    refused = httpx.get(
        chat.data.chat_download_url, headers={"authorization": "Bearer x"}, timeout=10
    )
    assert refused.status_code == 400


def test_generate_summary_of_transcripts(sdk: Cloudflare, seeded: RealtimeKitEmulator) -> None:
    pending = next(s for s in seeded.top_level("ENDED") if s.transcript and s.summary is None)
    sessions = sdk.realtime_kit.sessions
    with pytest.raises(cloudflare.NotFoundError):
        sessions.get_session_summary(pending.id, account_id=ACCOUNT_ID, app_id=APP_ID)
    raw = sessions.with_raw_response.generate_summary_of_transcripts(
        pending.id, account_id=ACCOUNT_ID, app_id=APP_ID
    )
    answer = strict(types.SessionGenerateSummaryOfTranscriptsResponse, raw)
    assert answer.data.session_id == pending.id
    assert answer.data.status
    after = sessions.get_session_summary(pending.id, account_id=ACCOUNT_ID, app_id=APP_ID)
    assert after.data is not None
    assert after.data.session_id == pending.id


def test_get_recordings(sdk: Cloudflare, seeded: RealtimeKitEmulator) -> None:
    recorded = next(s for s in seeded.top_level("ENDED") if seeded.recordings_of(s.id))
    meeting = recorded.raw["associated_id"]
    raw = sdk.realtime_kit.recordings.with_raw_response.get_recordings(
        APP_ID, account_id=ACCOUNT_ID, meeting_id=meeting, status=["UPLOADED", "UPLOADING"]
    )
    page = strict(types.RecordingGetRecordingsResponse, raw)
    assert page.success is True
    expected = {r["id"] for r in seeded.recordings.values() if r["meeting_id"] == meeting}
    assert {r.id for r in page.data} <= expected
    assert page.data
    assert all(r.meeting is not None and r.meeting.id == meeting for r in page.data)
    assert page.paging.total_count == len(page.data)


def test_errors_are_the_sdks_typed_errors(sdk: Cloudflare) -> None:
    with pytest.raises(cloudflare.NotFoundError):
        sdk.realtime_kit.sessions.get_session_details(
            "00000000-0000-4000-8000-000000000000", account_id=ACCOUNT_ID, app_id=APP_ID
        )
    wrong = sdk.with_options(api_token="wrong-token")
    with pytest.raises(cloudflare.AuthenticationError) as info:
        wrong.realtime_kit.sessions.get_sessions(APP_ID, account_id=ACCOUNT_ID)
    assert info.value.errors[0].code == 10000
