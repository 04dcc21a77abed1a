"""RealtimeKit payloads in, neutral objects out: every translator, every field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from convoport.adapters.realtimekit import translate, wire
from convoport.csvreader import CsvRow
from convoport.errors import MalformedResponse
from convoport.model import Participant, SessionQuery, SessionStatus

SID = "6b1f2b4e-2a51-4c11-9a0e-4f2d0d8f1a10"
MEETING = "bbb1c2d3-0000-4000-8000-000000000001"


def session_payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": SID,
        "associated_id": MEETING,
        "meeting_display_name": "Weekly sync",
        "type": "meeting",
        "status": "ENDED",
        "live_participants": 0,
        "max_concurrent_participants": 3,
        "minutes_consumed": 41.5,
        "organization_id": "app",
        "started_at": "2026-09-01T09:00:00.000Z",
        "created_at": "2026-09-01T08:59:50.000Z",
        "updated_at": "2026-09-01T09:30:00.000Z",
        "ended_at": "2026-09-01T09:30:00.000Z",
    }
    data.update(changes)
    return data


def row(cells: dict[str, str], number: int = 3, label: str = "transcript.csv") -> CsvRow:
    return CsvRow(cells, number=number, label=label, provider="realtimekit")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- sessions ---------------------------------------------------------------------------------


def test_session_every_field() -> None:
    raw = session_payload(breakout_rooms=[session_payload(id="room-1")])
    s = translate.session_from_wire(raw)
    assert s.provider == "realtimekit"
    assert s.id == SID
    assert s.status is SessionStatus.COMPLETED
    assert s.provider_status == "ENDED"
    assert s.created_at == at("2026-09-01T08:59:50")
    assert s.started_at == at("2026-09-01T09:00:00")
    assert s.ended_at == at("2026-09-01T09:30:00")
    assert s.duration == 1800.0
    assert s.title == "Weekly sync"
    assert s.language is None
    assert s.metadata == {"meeting_id": MEETING, "session_type": "meeting"}
    assert s.provider_data == raw


def test_session_live_unknown_and_minimal() -> None:
    live = translate.session_from_wire(session_payload(status="LIVE", ended_at=None))
    assert live.status is SessionStatus.ACTIVE
    assert live.ended_at is None
    assert live.duration is None
    odd = translate.session_from_wire(session_payload(status="ARCHIVED", type="webinar"))
    assert odd.status is SessionStatus.PROCESSING
    assert odd.provider_status == "ARCHIVED"
    assert odd.metadata["session_type"] == "other"
    bare = translate.session_from_wire({"id": "x"})
    assert bare.status is SessionStatus.PROCESSING
    assert bare.provider_status is None
    assert bare.metadata == {}
    assert bare.title is None
    naive = translate.session_from_wire(session_payload(started_at="2026-09-01 09:00:00"))
    assert naive.started_at == at("2026-09-01T09:00:00")
    backwards = translate.session_from_wire(session_payload(ended_at="2026-09-01T08:00:00Z"))
    assert backwards.duration is None


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"status": "ENDED"}, "$.id"),
        (session_payload(started_at="soon"), "$.started_at"),
        (session_payload(status=["ENDED"]), "$.status"),
        (session_payload(breakout_rooms=[{"status": "ENDED"}]), "$.breakout_rooms[0].id"),
    ],
)
def test_session_surprises_name_the_field(raw: dict[str, Any], where: str) -> None:
    with pytest.raises(MalformedResponse) as info:
        translate.session_from_wire(raw)
    assert where in str(info.value)


def test_details_current_and_legacy_shapes() -> None:
    current = translate.session_details_from_wire({"success": True, "data": session_payload()})
    legacy = translate.session_details_from_wire(
        {"success": True, "data": {"session": session_payload(), "meta": {"x": 1}}}
    )
    assert legacy.id == current.id
    assert legacy.status is current.status
    assert legacy.metadata == current.metadata
    assert legacy.provider_data["legacy"] == {"meta": {"x": 1}}
    with pytest.raises(MalformedResponse):
        translate.session_details_from_wire({"success": False, "data": session_payload()})
    with pytest.raises(MalformedResponse):
        translate.session_details_from_wire({"success": True})


def test_sessions_page_and_paging() -> None:
    body = {
        "success": True,
        "data": {"sessions": [session_payload(), session_payload(id="two")]},
        "paging": {"total_count": 12, "start_offset": 1, "end_offset": 2},
    }
    sessions, paging = translate.sessions_page_from_wire(body)
    assert [s.id for s in sessions] == [SID, "two"]
    assert paging == {"total_count": 12.0, "start_offset": 1.0, "end_offset": 2.0}
    sessions, paging = translate.sessions_page_from_wire({"success": True, "data": {}})
    assert sessions == []
    assert paging is None
    with pytest.raises(MalformedResponse):
        translate.sessions_page_from_wire({"data": {}, "paging": {"total_count": "many"}})


@pytest.mark.parametrize(
    ("page", "count", "per_page", "paging", "expected"),
    [
        (1, 10, 10, {"total_count": 25, "start_offset": 1, "end_offset": 10}, 2),
        (3, 5, 10, {"total_count": 25, "start_offset": 21, "end_offset": 25}, None),
        (2, 10, 10, {"total_count": 20, "start_offset": 11, "end_offset": 20}, None),
        (1, 10, 10, None, 2),  # no paging: a full page asks for the next
        (4, 3, 10, None, None),  # short page
        (5, 0, 10, None, None),  # empty page
        (1, 10, 10, {"total_count": 10}, None),  # the count covered
        (1, 10, 10, {"end_offset": 10}, 2),
    ],
)
def test_next_page(
    page: int, count: int, per_page: int, paging: dict[str, float] | None, expected: int | None
) -> None:
    assert translate.next_page(page, count, per_page, paging) == expected


def test_list_params() -> None:
    base = [("page_no", "2"), ("per_page", "25"), ("sort_by", "createdAt")]
    plain = translate.list_params(SessionQuery(), page_no=2, per_page=25)
    assert plain == [*base, ("sort_order", "DESC")]
    query = SessionQuery(
        statuses={SessionStatus.COMPLETED},
        created_after=at("2026-09-02T10:00:00"),
        created_before=at("2026-09-10T00:00:00"),
        created_on="2026-09-02",
        search="sync",
    )
    full = translate.list_params(query, page_no=2, per_page=25, newest_first=False)
    assert full == [
        *base,
        ("sort_order", "ASC"),
        ("status", "ENDED"),
        ("start_time", "2026-09-02T10:00:00.000Z"),
        ("end_time", "2026-09-03T00:00:00.000Z"),
        ("search", "sync"),
    ]
    both = SessionQuery(statuses={SessionStatus.COMPLETED, SessionStatus.ACTIVE})
    assert translate.list_params(both, page_no=1, per_page=5) == [
        ("page_no", "1"),
        ("per_page", "5"),
        ("sort_by", "createdAt"),
        ("sort_order", "DESC"),
    ]
    nothing = SessionQuery(statuses={SessionStatus.FAILED, SessionStatus.CANCELLED})
    assert translate.list_params(nothing, page_no=1, per_page=5) is None


# -- participants -------------------------------------------------------------------------------


def participant_payload(**changes: Any) -> dict[str, Any]:
    data = {
        "id": "peer-1",
        "user_id": "user-1",
        "custom_participant_id": "cust-1",
        "display_name": "Ada Lovelace",
        "preset_name": "group_call_host",
        "joined_at": "2026-09-01T09:00:10.000Z",
        "left_at": "2026-09-01T09:20:10.000Z",
        "duration": 20.0,
        "created_at": "2026-09-01T09:00:08.000Z",
        "updated_at": "2026-09-01T09:20:10.000Z",
    }
    data.update(changes)
    return data


def test_participant_every_field() -> None:
    raw = participant_payload()
    p = translate.participant_from_wire(SID, raw)
    assert p.id == "peer-1"
    assert p.session_id == SID
    assert p.user_id == "user-1"
    assert p.display_name == "Ada Lovelace"
    assert p.role == "group_call_host"
    assert p.joined_at == at("2026-09-01T09:00:10")
    assert p.left_at == at("2026-09-01T09:20:10")
    assert p.duration == 1200.0
    assert p.provider_data == raw
    report = translate.participant_from_wire(SID, participant_payload(preset_name=None, role="x"))
    assert report.role == "x"
    still = translate.participant_from_wire(SID, participant_payload(left_at=None, duration=None))
    assert still.left_at is None
    assert still.duration is None


@pytest.mark.parametrize(
    "changes",
    [{"duration": -1}, {"left_at": "2026-09-01T08:00:00Z"}, {"id": None}, {"duration": "long"}],
)
def test_participant_surprises(changes: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse):
        translate.participant_from_wire(SID, participant_payload(**changes))


def test_participants_page_paging_inside_or_beside_data() -> None:
    inside = {
        "data": {"participants": [participant_payload()], "paging": {"total_count": 1}},
    }
    people, paging = translate.participants_page_from_wire(SID, inside)
    assert [p.id for p in people] == ["peer-1"]
    assert paging == {"total_count": 1.0}
    beside = {"data": {"participants": []}, "paging": {"total_count": 0, "end_offset": 0}}
    assert translate.participants_page_from_wire(SID, beside) == ([], beside["paging"])
    assert translate.participants_page_from_wire(SID, {"data": {}}) == ([], None)
    one = translate.participant_details_from_wire(
        SID, {"data": {"participant": participant_payload()}}
    )
    assert one.id == "peer-1"
    report = {"data": {"participant": {"id": "peer-1", "peer_report": {"metadata": {}}}}}
    assert translate.peer_report_from_wire(report) == report["data"]["participant"]


# -- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["chat", "transcript", "summary"])
def test_links(kind: str) -> None:
    url_key, expiry_key = translate.LINK_KEYS[kind]
    data: dict[str, Any] = {
        "sessionId": SID,
        url_key: "https://storage.example/x.csv?X-Amz-Signature=abc",
        expiry_key: "2026-09-01T10:00:00.000Z",
    }
    body = {"success": True, "data": data}
    url, when, rest = translate.link_from_wire(body, kind)
    assert url == "https://storage.example/x.csv?X-Amz-Signature=abc"
    assert when == at("2026-09-01T10:00:00")
    assert rest == {"sessionId": SID, expiry_key: "2026-09-01T10:00:00.000Z"}
    data[url_key] = "/relative"
    with pytest.raises(MalformedResponse):
        translate.link_from_wire(body, kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-01T10:00:00.000Z", at("2026-09-01T10:00:00")),
        ("2022-12-13 07:08:39.051621Z", datetime(2022, 12, 13, 7, 8, 39, 51621, UTC)),
        ("2026-09-01T10:00:00", at("2026-09-01T10:00:00")),
        (1788000000, datetime.fromtimestamp(1788000000, UTC)),
        ("1788000000000", datetime.fromtimestamp(1788000000, UTC)),
        ("tomorrow", None),
        ("", None),
        (None, None),
        (True, None),
        (1e300, None),
    ],
)
def test_expiry_is_read_leniently(value: Any, expected: datetime | None) -> None:
    assert translate.expiry(value) == expected


def test_generate_summary_both_shapes() -> None:
    new = {"success": True, "data": {"session_id": SID, "status": "IN_PROGRESS"}}
    assert translate.generate_summary_from_wire(new) == new["data"]
    old = {"success": True, "data": {"success": True, "message": "queued"}}
    assert translate.generate_summary_from_wire(old) == old["data"]


# -- transcripts ------------------------------------------------------------------------------

PEOPLE = {
    "peer-1": Participant(id="peer-1", session_id=SID, display_name="Ada", user_id="u1"),
    "peer-2": Participant(id="peer-2", session_id=SID, user_id="u2"),
}


def current(**changes: str) -> dict[str, str]:
    cells = {
        "start_ms": "1500",
        "peer_id": "peer-1",
        "user_id": "u1",
        "custom_participant_id": "cust-1",
        "participant_name": "Ada (phone)",
        "text": " Hello, everyone ",
    }
    cells.update(changes)
    return cells


def test_current_row_every_field() -> None:
    u = translate.utterance_from_wire(row(current()), PEOPLE)
    assert u is not None
    assert u.text == "Hello, everyone"
    assert u.start == 1.5
    assert u.end is None
    assert u.timestamp is None
    assert u.speaker == "Ada"
    assert u.id is None
    assert u.channel is None
    assert u.confidence is None
    assert u.words == ()
    assert u.provider_data == {
        "peer_id": "peer-1",
        "participant_id": "peer-1",
        "user_id": "u1",
        "custom_participant_id": "cust-1",
        "participant_name": "Ada (phone)",
        "row": 3,
    }


def test_speakers_resolve_to_participants_and_unknown_stays_unknown() -> None:
    no_name = translate.utterance_from_wire(row(current(peer_id="peer-2")), PEOPLE)
    assert no_name is not None
    assert no_name.speaker == "u2"  # no display name: the user id, never the row's name
    stranger = translate.utterance_from_wire(row(current(peer_id="peer-9")), PEOPLE)
    assert stranger is not None
    assert stranger.speaker is None
    assert "participant_id" not in stranger.provider_data
    assert stranger.provider_data["participant_name"] == "Ada (phone)"
    assert translate.speaker_from_wire(None, PEOPLE) == (None, None)


def test_start_cell_forms() -> None:
    epoch = translate.utterance_from_wire(row(current(start_ms="1788000000000")), PEOPLE)
    assert epoch is not None
    assert epoch.start is None
    assert epoch.timestamp == datetime.fromtimestamp(1788000000, UTC)
    decimal = translate.utterance_from_wire(row(current(start_ms="1500.5")), PEOPLE)
    assert decimal is not None
    assert decimal.start == 1.5005
    iso = translate.utterance_from_wire(row(current(start_ms="2026-09-01T09:00:01Z")), PEOPLE)
    assert iso is not None
    assert iso.timestamp == at("2026-09-01T09:00:01")
    assert translate.utterance_from_wire(row(current(text="  ")), PEOPLE) is None
    with pytest.raises(MalformedResponse) as info:
        translate.utterance_from_wire(row(current(start_ms="soon"), number=7), PEOPLE)
    assert 'transcript.csv row 7, column "start_ms"' in str(info.value)


def test_legacy_layout_names_and_errors_name_its_columns() -> None:
    header = [
        "Timestamp",
        "participant id",
        "User ID",
        "Custom Participant ID",
        "Other",
        "Transcript",
    ]
    names = translate.legacy_names(header)
    assert names == {
        "start_ms": "Timestamp",
        "peer_id": "participant id",
        "user_id": "User ID",
        "custom_participant_id": "Custom Participant ID",
        "text": "Transcript",
    }
    cells = {
        "Timestamp": "2026-09-01T09:00:01.500Z",
        "participant id": "peer-1",
        "User ID": "u1",
        "Custom Participant ID": "c",
        "Other": "x",
        "Transcript": "hi",
    }
    u = translate.utterance_from_wire(row(cells), PEOPLE, names)
    assert u is not None
    assert u.timestamp == datetime(2026, 9, 1, 9, 0, 1, 500000, UTC)
    assert u.speaker == "Ada"
    assert "participant_name" not in u.provider_data
    with pytest.raises(MalformedResponse) as info:
        translate.utterance_from_wire(row({**cells, "Timestamp": "later"}), PEOPLE, names)
    assert 'column "Timestamp"' in str(info.value)


def test_json_transcript() -> None:
    raw = (
        b'[{"startTime": 1000, "endTime": 2500, "sentence": " Hi ", "peerData": {"id": "peer-1",'
        b' "userId": "u1", "displayName": "Ada", "cpi": "c", "joinedAt": "", "leftAt": ""}},'
        b' {"startTime": 3000, "endTime": 2000, "sentence": "Yo", "peerData": {"id": "zz"}},'
        b' {"startTime": 4000, "sentence": ""}]'
    )
    first, second = translate.json_utterances_from_wire(raw, PEOPLE, label="t.json")
    assert (first.start, first.end, first.text, first.speaker) == (1.0, 2.5, "Hi", "Ada")
    assert first.provider_data["participant_id"] == "peer-1"
    assert first.provider_data["peer_data"]["cpi"] == "c"
    assert second.end is None  # an end before the start is dropped
    assert second.speaker is None
    for bad in (b"{", b'{"a": 1}', b'[{"startTime": -1, "sentence": "x"}]', b"[1]"):
        with pytest.raises(MalformedResponse):
            translate.json_utterances_from_wire(bad, PEOPLE, label="t.json")


def test_transcript_in_time_order() -> None:
    rows = [current(start_ms="3000", text="b"), current(start_ms="1000", text="a")]
    found = [translate.utterance_from_wire(row(r), PEOPLE) for r in rows]
    utterances = [u for u in found if u is not None]
    t = translate.transcript_from_wire(SID, utterances, layout="csv", link={"sessionId": SID})
    assert [u.text for u in t.utterances] == ["a", "b"]
    assert t.session_id == SID
    assert t.engine == "realtimekit"
    assert t.language is None
    assert t.created_at is None
    assert t.provider_data == {"layout": "csv", "sessionId": SID}


# -- chat -----------------------------------------------------------------------------------


def chat_cells(**changes: str) -> dict[str, str]:
    cells = {
        "id": "m1",
        "participantId": "peer-1",
        "sessionId": SID,
        "meetingId": MEETING,
        "displayName": "Ada",
        "pinned": "true",
        "isEdited": "false",
        "payloadType": "TEXT_MESSAGE",
        "payload": "hello, world",
        "createdAt": "2026-09-01T09:01:00.000Z",
    }
    cells.update(changes)
    return cells


def test_chat_message_every_field() -> None:
    m = translate.chat_message_from_wire(SID, row(chat_cells(), label="chat.csv"))
    assert m.id == "m1"
    assert m.session_id == SID
    assert m.text == "hello, world"
    assert m.sent_at == at("2026-09-01T09:01:00")
    assert m.sender_id == "peer-1"
    assert m.sender_name == "Ada"
    assert m.kind == "text"
    assert m.pinned is True
    assert m.edited is False
    assert m.provider_data == chat_cells()
    extra = CsvRow(chat_cells(), number=2, label="chat.csv", provider="realtimekit", extras=["x"])
    assert translate.chat_message_from_wire(SID, extra).provider_data["extra_cells"] == ["x"]


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("IMAGE_MESSAGE", "image"),
        ("FILE_MESSAGE", "file"),
        ("VOICE_MESSAGE", "voice"),
        ("", "text"),
        ("POLL", "poll"),
    ],
)
def test_chat_kinds(word: str, kind: str) -> None:
    assert translate.chat_kind(word) == kind


def test_chat_times_and_order() -> None:
    epoch = translate.chat_message_from_wire(SID, row(chat_cells(createdAt="1788000000000")))
    assert epoch.sent_at == datetime.fromtimestamp(1788000000, UTC)
    late = translate.chat_message_from_wire(SID, row(chat_cells(id="b")))
    early = translate.chat_message_from_wire(
        SID, row(chat_cells(id="a", createdAt="2026-09-01T09:00:00Z"))
    )
    assert [m.id for m in translate.chat_from_wire([late, early])] == ["a", "b"]
    untimed = translate.chat_message_from_wire(SID, row(chat_cells(id="c", createdAt="")))
    assert untimed.sent_at is None
    assert [m.id for m in translate.chat_from_wire([late, untimed, early])] == ["b", "c", "a"]
    with pytest.raises(MalformedResponse):
        translate.chat_message_from_wire(SID, row(chat_cells(pinned="maybe")))


# -- recordings -------------------------------------------------------------------------------


def recording_payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "rec-1",
        "session_id": SID,
        "status": "UPLOADED",
        "output_file_name": f"{MEETING}_1788000000000.mp4",
        "download_url": "https://storage.example/rec-1.mp4?X-Amz-Signature=s",
        "audio_download_url": None,
        "download_url_expiry": "2026-09-08T09:00:00.000Z",
        "file_size": 1234,
        "invoked_time": "2026-09-01T09:00:03.000Z",
        "started_time": "2026-09-01T09:00:07.000Z",
        "stopped_time": "2026-09-01T09:30:00.000Z",
        "recording_duration": 1793,
    }
    data.update(changes)
    return data


def items(*raws: dict[str, Any]) -> list[Any]:
    found, _ = translate.recordings_page_from_wire({"success": True, "data": list(raws)})
    return found


def test_recording_every_field() -> None:
    raw = recording_payload()
    (r,) = translate.recordings_from_wire(SID, items(raw))
    assert r.id == "rec-1"
    assert r.session_id == SID
    assert r.media_type == "video/mp4"
    assert r.filename == raw["output_file_name"]
    assert r.duration == 1793.0
    assert r.size == 1234
    assert r.channels is None
    assert r.created_at == at("2026-09-01T09:00:07")
    assert r.url == raw["download_url"]
    assert r.expires_at == at("2026-09-08T09:00:00")
    assert r.provider_data == raw


def test_recordings_matched_to_the_session() -> None:
    found = translate.recordings_from_wire(
        SID,
        items(
            recording_payload(),
            recording_payload(id="other", session_id="another-session"),
            recording_payload(id="broken", status="ERRORED", download_url=None),
            recording_payload(
                id="pending",
                status="UPLOADING",
                download_url=None,
                download_url_expiry=None,
                file_size=None,
                started_time=None,
                output_file_name="a.webm",
            ),
        ),
    )
    assert [r.id for r in found] == ["rec-1", "pending"]
    pending = found[1]
    assert pending.url is None
    assert pending.size is None
    assert pending.expires_at is None
    assert pending.media_type == "video/webm"
    assert pending.created_at == at("2026-09-01T09:00:03")


def test_track_recordings_give_one_recording_per_file() -> None:
    layers = [
        {
            "layer_name": "peer-1",
            "download_urls": {
                "audio.ogg": {"download_url": "https://storage.example/a.ogg"},
                "video.webm": {"download_url": "https://storage.example/v.webm"},
            },
        },
        {"layer_name": "peer-2", "download_urls": {"audio.ogg": {}}},
    ]
    raw = recording_payload(download_url=layers, file_size=0)
    found = translate.recordings_from_wire(SID, items(raw))
    assert [(r.id, r.media_type, r.url, r.size) for r in found] == [
        ("rec-1:peer-1:audio.ogg", "audio/ogg", "https://storage.example/a.ogg", None),
        ("rec-1:peer-1:video.webm", "video/webm", "https://storage.example/v.webm", None),
    ]
    fresh = {"success": True, "data": {**raw, "download_url_expiry": "2026-09-09T00:00:00Z"}}
    url, when = translate.recording_link_from_wire(fresh, "rec-1:peer-1:video.webm")
    assert url == "https://storage.example/v.webm"
    assert when == at("2026-09-09T00:00:00")
    assert translate.recording_link_from_wire(fresh, "rec-1:peer-3:x") == (None, when)


def test_recording_link_and_surprises() -> None:
    body = {"success": True, "data": recording_payload()}
    assert translate.recording_link_from_wire(body, "rec-1") == (
        recording_payload()["download_url"],
        at("2026-09-08T09:00:00"),
    )
    gone = {"success": True, "data": recording_payload(download_url=None)}
    assert translate.recording_link_from_wire(gone, "rec-1")[0] is None
    for changes in ({"file_size": -1}, {"recording_duration": -5}, {"download_url": "ftp://x"}):
        with pytest.raises(MalformedResponse):
            translate.recordings_from_wire(SID, items(recording_payload(**changes)))
    assert translate.media_type_of(None) is None
    assert translate.media_type_of("noext") is None
    assert translate.media_type_of("a.M4A") == "audio/mp4"


def test_summary() -> None:
    s = translate.summary_from_wire(SID, "## Summary\n- done", {"sessionId": SID})
    assert s.session_id == SID
    assert s.text == "## Summary\n- done"
    assert s.format == "markdown"
    assert s.rating is None
    assert s.language is None
    assert s.created_at is None
    assert s.provider_data == {"sessionId": SID}


# -- errors ---------------------------------------------------------------------------------


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
    request = httpx.Request("GET", "https://api.cloudflare.com/client/v4/accounts/a/x")
    return httpx.Response(status, content=content, headers=headers, request=request)


def info_for(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    response = answer(status, body, headers)
    return translate.error_info_from_wire(response, response.content)


def test_realtimekit_envelope() -> None:
    info = info_for(404, {"success": False, "error": {"code": 404, "message": "Error: gone"}})
    assert info.message == "Error: gone"
    assert info.code == "404"
    assert info.retryable is None
    assert info.details == {}


def test_gateway_envelope_with_its_chain() -> None:
    body = {
        "success": False,
        "errors": [
            {
                "code": 6003,
                "message": "Invalid request headers",
                "error_chain": [
                    {"code": 6111, "message": "Invalid format for Authorization header"}
                ],
            }
        ],
        "messages": [],
        "result": None,
    }
    info = info_for(400, body)
    assert info.message == "Invalid request headers; Invalid format for Authorization header"
    assert info.code == "6003"
    assert info.hint == translate.TOKEN_HINT
    assert info.details == {"envelope": "cloudflare"}
    auth = info_for(
        401, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
    )
    assert auth.hint == translate.TOKEN_HINT
    denied = info_for(
        403, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
    )
    assert denied.hint == translate.TOKEN_HINT
    route = info_for(404, {"success": False, "errors": [{"code": 7003, "message": "No route"}]})
    assert route.hint == translate.ROUTE_HINT


def test_rate_limits() -> None:
    quick = info_for(
        429, {"success": False, "error": {"code": 429, "message": "slow"}}, {"retry-after": "2"}
    )
    assert quick.retryable is None  # the status table: retryable, waited for
    assert "250 requests" in (quick.hint or "")
    long = info_for(
        429, {"success": False, "error": {"code": 429, "message": "x"}}, {"retry-after": "300"}
    )
    assert long.retryable is False
    assert long.details == {"global_block": True, "retry_after": 300.0}
    gateway = info_for(
        429,
        {"success": False, "errors": [{"code": 10000, "message": wire.CF_GLOBAL_LIMIT_MESSAGE}]},
    )
    assert gateway.retryable is False
    assert gateway.details["retry_after"] == wire.GLOBAL_BLOCK_SECONDS
    assert "5 minutes" in (gateway.hint or "")
    millis = info_for(429, {}, {"retry-after-ms": "90000"})
    assert millis.details["retry_after"] == 90.0


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b"[1, 2]", b'{"error": "plain"}'])
def test_unreadable_error_bodies(body: bytes) -> None:
    info = info_for(500, body)
    assert info is not None
    assert info.message in (None, "plain")
