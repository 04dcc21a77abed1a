"""The Gladia emulator: seeded data, the REST surface, errors, and conformance to the spec."""

from __future__ import annotations

import io
import json
import wave
from typing import Any

import httpx
import pytest

import convoport
from convoport import LiveOptions, SessionQuery, SessionStatus
from convoport.adapters.gladia.emulator import SANDBOX_KEY, WORDS, GladiaEmulator
from convoport.sandbox import Faults, HarnessSettings, tone_pcm
from tests.adapters.gladia.openapi import DOCUMENT, message_errors
from tests.support.checked import CheckedClient

KEY = {"x-gladia-key": SANDBOX_KEY}
BASE = "https://api.gladia.io"


def test_seeded_data() -> None:
    harness = GladiaEmulator(seed=3)
    jobs = harness.jobs()
    assert len(jobs) >= 30
    assert {j.status for j in jobs} == {"queued", "processing", "done", "error"}
    assert any(j.custom_metadata for j in jobs)
    assert any(not j.custom_metadata for j in jobs)
    days = {j.created_at.date() for j in jobs}
    assert len(days) >= 5
    stereo = [j for j in harness.jobs("done") if (j.file or {}).get("number_of_channels") == 2]
    assert stereo
    utterances = stereo[0].result["transcription"]["utterances"]  # type: ignore[index]
    assert {u["channel"] for u in utterances} == {0, 1}
    assert all(u["words"] and u["text"] for u in utterances)
    assert all(w["word"].strip() in WORDS for u in utterances for w in u["words"])
    again = GladiaEmulator(seed=3)
    assert [j.to_wire() for j in again.jobs()] == [j.to_wire() for j in jobs]
    assert [j.id for j in GladiaEmulator(seed=4).jobs()] != [j.id for j in jobs]


@pytest.mark.anyio
async def test_rest_surface_follows_the_spec() -> None:
    harness = GladiaEmulator(faults=Faults(seed=1))
    checked = CheckedClient(harness.transport(), DOCUMENT, base_url=BASE)
    async with checked as http:
        # listing, every filter, pagination
        listed: list[dict[str, Any]] = []
        url: str | None = "/v2/live?limit=7"
        while url:
            answer = (await http.get(url, headers=KEY)).json()
            listed += answer["items"]
            url = answer["next"]
        assert len(listed) == len(harness.jobs())
        created = [i["created_at"] for i in listed]
        assert created == sorted(created, reverse=True)
        one = listed[5]
        params = [
            ("status", one["status"]),
            ("status", "queued"),
            ("date", one["created_at"][:10]),
            ("after_date", "2026-09-01T00:00:00.000Z"),
            ("before_date", "2026-12-01T00:00:00.000Z"),
        ] + [(f"custom_metadata[{k}]", str(v)) for k, v in one["custom_metadata"].items()]
        filtered = (await http.get("/v2/live", params=params, headers=KEY)).json()
        assert one["id"] in [i["id"] for i in filtered["items"]]
        for item in filtered["items"]:
            assert item["status"] in (one["status"], "queued")
            assert item["created_at"][:10] == one["created_at"][:10]
        bad = await http.get("/v2/live", params={"status": "finished", "limit": 0}, headers=KEY)
        assert bad.status_code == 400
        assert len(bad.json()["validation_errors"]) == 2
        # one job of each kind
        for job in harness.jobs():
            assert (await http.get(f"/v2/live/{job.id}", headers=KEY)).status_code == 200
            file = await http.get(f"/v2/live/{job.id}/file", headers=KEY)
            if job.status == "done":
                assert file.status_code == 200
                with wave.open(io.BytesIO(file.content)) as w:
                    assert w.getnchannels() == job.file["number_of_channels"]  # type: ignore[index]
                assert file.headers["content-disposition"].startswith("attachment; filename=")
            else:
                assert file.status_code == 404
        # errors
        assert (await http.get("/v2/live/missing", headers=KEY)).status_code == 404
        unknown = await http.get("/v2/other", headers=KEY)
        assert unknown.json()["message"] == "Cannot GET /v2/other"
        wrong_method = await http.put("/v2/live", headers=KEY)
        assert (wrong_method.status_code, wrong_method.json()["message"]) == (
            404,
            "Cannot PUT /v2/live",
        )
        missing_key = await http.get("/v2/live")
        assert (missing_key.status_code, missing_key.json()["message"]) == (
            401,
            "no gladia key provided",
        )
        wrong_key = await http.get("/v2/live", headers={"x-gladia-key": "nope"})
        assert wrong_key.json()["message"] == "gladia user not found"
        # delete, patch
        busy = harness.jobs("processing")[0]
        refused = await http.delete(f"/v2/live/{busy.id}", headers=KEY)
        assert refused.status_code == 403
        done = harness.jobs("done")[0]
        assert (
            await http.patch(f"/v2/live/{done.id}", json={"a": 1}, headers=KEY)
        ).status_code == 204
        assert (await http.get(f"/v2/live/{done.id}", headers=KEY)).json()[
            "post_session_metadata"
        ] == {"a": 1}
        too_big = await http.patch(f"/v2/live/{done.id}", json={"a": "x" * 100_001}, headers=KEY)
        assert too_big.status_code == 413
        not_object = await http.patch(f"/v2/live/{done.id}", json=[1], headers=KEY)
        assert not_object.status_code == 400
        assert (await http.delete(f"/v2/live/{done.id}", headers=KEY)).status_code == 202
        assert (await http.get(f"/v2/live/{done.id}", headers=KEY)).status_code == 404
        # init
        created_job = await http.post(
            "/v2/live", params={"region": "eu-west"}, json={"sample_rate": 8000}, headers=KEY
        )
        assert created_job.status_code == 201
        assert created_job.json()["url"].startswith("wss://api.gladia.io/v2/live/ws?token=")
        invalid = await http.post(
            "/v2/live",
            params={"region": "mars"},
            json={"encoding": "mp3", "channels": 9, "endpointing": 100},
            headers=KEY,
        )
        assert invalid.status_code == 400
        assert len(invalid.json()["validation_errors"]) == 4
        # injected faults use Gladia's error body
        harness.faults.rate_limit_next = 1
        limited = await http.get("/v2/live", headers=KEY)
        assert limited.status_code == 429
        assert limited.headers["retry-after"]
        harness.faults.fail_next = 1
        assert (await http.get("/v2/live", headers=KEY)).status_code == 503
    assert not checked.problems, "\n".join(checked.problems)
    assert len(set(checked.answered)) >= 20


@pytest.mark.anyio
async def test_next_links_use_the_request_host() -> None:
    harness = GladiaEmulator()
    async with httpx.AsyncClient(
        transport=harness.transport(), base_url="http://localhost:8080"
    ) as http:
        answer = (await http.get("/v2/live?limit=2&status=done", headers=KEY)).json()
    assert answer["next"] == "http://localhost:8080/v2/live?offset=2&limit=2&status=done"
    assert answer["first"].startswith("http://localhost:8080/v2/live?offset=0")


@pytest.mark.anyio
async def test_trailing_slash_routes_like_gladia_and_settings_size_the_data() -> None:
    harness = GladiaEmulator(settings=HarnessSettings(sessions=5, seed=3))
    async with httpx.AsyncClient(transport=harness.transport(), base_url=BASE) as http:
        listed = (await http.get("/v2/live/?limit=10", headers=KEY)).json()
        one = await http.get(f"/v2/live/{listed['items'][0]['id']}/", headers=KEY)
    assert len(listed["items"]) == 5
    assert one.status_code == 200
    assert [j.id for j in harness.jobs()] == [j.id for j in GladiaEmulator(seed=3, jobs=5).jobs()]


@pytest.mark.anyio
async def test_live_messages_follow_the_spec_and_bytes_are_counted() -> None:
    harness = GladiaEmulator(record_frames=True)
    options = LiveOptions(
        channels=2,
        sample_rate=8000,
        partial_transcripts=True,
        provider_options={"post_processing": {"summarization": True}},
    )
    pcm = tone_pcm(2.25, sample_rate=8000, channels=2, silence_every=1.0)
    async with (
        convoport.connect(
            "gladia",
            transport=harness.transport(),
            live_poll_interval=0.01,
            **harness.connect_options(),
        ) as client,
        await client.start_live(options) as live,
    ):
        await live.send_audio(pcm)
        await live.finalize()
        result = await live.wait()
    assert harness.bytes_received(live.session_id) == len(pcm)
    (frames,) = harness.ws_log
    problems = []
    for frame in frames:
        if frame["type"] == "text":
            problems += message_errors(frame["data"], client=frame["dir"] == "send")
    assert not problems, "\n".join(problems)
    kinds = [f["data"]["type"] for f in frames if f["dir"] == "recv" and f["type"] == "text"]
    for kind in (
        "start_recording",
        "audio_chunk",
        "transcript",
        "speech_start",
        "speech_end",
        "stop_recording",
        "end_recording",
        "post_transcript",
        "post_final_transcript",
        "post_summarization",
        "end_session",
    ):
        assert kind in kinds
    assert frames[-1] == {"dir": "recv", "type": "close", "data": {"code": 1000, "reason": ""}}
    job = harness.job(live.session_id)
    assert job.status == "done"
    assert result.session.status is SessionStatus.COMPLETED
    assert result.session.duration == 2.25
    utterances = result.transcript.utterances
    assert [(u.start, u.channel) for u in utterances] == [
        (0.0, 0),
        (0.0, 1),
        (1.0, 0),
        (1.0, 1),
        (2.0, 0),
        (2.0, 1),
    ]
    assert result.summary is not None
    with wave.open(io.BytesIO(job.wav or b"")) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        assert w.readframes(w.getnframes()) == pcm


@pytest.mark.anyio
async def test_reconnect_to_an_ended_job_is_refused() -> None:
    harness = GladiaEmulator()
    async with convoport.connect(
        "gladia",
        transport=harness.transport(),
        live_poll_interval=0.01,
        **harness.connect_options(),
    ) as client:
        live = await client.start_live(LiveOptions())
        async with live:
            await live.send_audio(b"\0\0" * 100)
            await live.finalize()
            await live.wait()
        again = await client.adapter.http.json("GET", f"/v2/live/{live.session_id}")  # type: ignore[attr-defined]
        assert again["status"] == "done"
    from httpx_ws import WebSocketDisconnect, aconnect_ws

    token = harness.job(live.session_id).token
    async with httpx.AsyncClient(transport=harness.transport()) as http:
        with pytest.raises(WebSocketDisconnect) as info:
            async with aconnect_ws(f"wss://api.gladia.io/v2/live/ws?token={token}", http):
                pass
    assert info.value.code == 4403


@pytest.mark.anyio
async def test_sandbox() -> None:
    async with convoport.connect("gladia", sandbox=True) as client:
        sessions = [s async for s in client.list_sessions(SessionQuery(), limit=40)]
        assert len(sessions) >= 30
        done = next(s for s in sessions if s.status is SessionStatus.COMPLETED)
        transcript = await client.get_transcript(done)
        assert transcript.utterances
        buffer = io.BytesIO()
        recording = await client.download_recording(done, buffer)
        assert recording.size == len(buffer.getvalue()) > 44
        assert buffer.getvalue()[:4] == b"RIFF"


def test_error_bodies_are_json() -> None:
    harness = GladiaEmulator()
    body = harness.error_body(400, "bad", path="/v2/live", validation_errors=["x must be y"])
    assert json.loads(json.dumps(body))["validation_errors"] == ["x must be y"]
    assert set(body) == {
        "timestamp",
        "path",
        "request_id",
        "statusCode",
        "message",
        "validation_errors",
    }
