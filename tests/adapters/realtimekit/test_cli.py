"""RealtimeKit from the user's side: the command line against the sandbox, a migration into an
archive that then serves participants and chat like any backend, and code that runs unchanged
on gladia, realtimekit and ``local:``."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
import webvtt

import convoport
from convoport.adapters.realtimekit.emulator import RealtimeKitEmulator
from tests.support.cli import as_json, invoke


@pytest.fixture(scope="module")
def seeded() -> RealtimeKitEmulator:
    """What ``--sandbox`` serves (the default seed and size)."""
    return RealtimeKitEmulator()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("rtk") / "archive"
    report = as_json(invoke("migrate", "realtimekit", f"local:{path}", "--sandbox", "--json"))
    return path, report


def test_sessions_list_show_and_filters(seeded: RealtimeKitEmulator) -> None:
    listed = as_json(invoke("sessions", "list", "realtimekit", "--sandbox", "--json"))
    assert [s["id"] for s in listed] == [
        s.id for s in sorted(seeded.top_level(), key=lambda s: s.raw["created_at"], reverse=True)
    ]
    live = as_json(
        invoke("sessions", "list", "realtimekit", "--sandbox", "--json", "--status", "active")
    )
    assert live
    assert all(s["provider_status"] == "LIVE" for s in live)
    first = seeded.top_level()[0]
    found = as_json(
        invoke("sessions", "list", "realtimekit", "--sandbox", "--json", "--search", first.id)
    )
    assert [s["id"] for s in found] == [first.id]
    titled = as_json(
        invoke("sessions", "list", "realtimekit", "--sandbox", "--json", "--search", "Town hall")
    )
    assert titled
    assert all("Town hall" in s["title"] for s in titled)
    shown = as_json(
        invoke("sessions", "show", "realtimekit", found[0]["id"], "--sandbox", "--json")
    )
    assert shown["metadata"]["meeting_id"] == seeded.top_level()[0].raw["associated_id"]
    missing = invoke("sessions", "show", "realtimekit", "no-such-session", "--sandbox")
    assert missing.exit_code == 1
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "not found" in missing.stderr


def test_transcript_as_webvtt_names_the_participants(
    seeded: RealtimeKitEmulator, tmp_path: Path
) -> None:
    session = next(s for s in seeded.top_level("ENDED") if s.transcript)
    out = tmp_path / "t.vtt"
    result = invoke(
        "transcript", "realtimekit", session.id, "--sandbox", "--format", "vtt", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    captions = webvtt.read(str(out))
    known = {p["id"]: p["display_name"] for p in session.participants}
    voices = {c.voice for c in captions.captions}
    expected = {known[r["peer_id"]] for r in session.transcript or [] if r["peer_id"] in known}
    assert voices - {None} == expected
    assert len(captions.captions) == len(session.transcript or [])


def test_recording_download(seeded: RealtimeKitEmulator, tmp_path: Path) -> None:
    args = seeded.scenario_args("download_recording")
    assert args is not None
    result = invoke(
        "recording", "download", "realtimekit", args["session_id"], "--sandbox", "-o",
        str(tmp_path / "r.mp4"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = tmp_path / "r.mp4"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == args["sha256"]


def test_migrate_copies_every_ended_session(
    seeded: RealtimeKitEmulator, archive: tuple[Path, dict[str, Any]]
) -> None:
    path, report = archive
    assert report["failed"] == 0
    assert report["copied"] == len(seeded.top_level("ENDED"))
    assert report["skipped"] == len(seeded.top_level("LIVE"))
    uploaded = [
        r for r in seeded.recordings.values() if r["status"] == "UPLOADED" and r["download_url"]
    ]
    assert report["bytes"] == sum(r["file_size"] for r in uploaded)
    assert as_json(invoke("verify", str(path), "--json"))["ok"] is True
    again = as_json(invoke("migrate", "realtimekit", f"local:{path}", "--sandbox", "--json"))
    assert again["copied"] == 0


def test_the_archive_serves_what_the_vendor_gave(
    seeded: RealtimeKitEmulator, archive: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = archive

    async def compare() -> None:
        async with (
            convoport.connect("realtimekit", sandbox=True) as vendor,
            convoport.connect(f"local:{path}") as local,
        ):
            for seeded_session in seeded.top_level("ENDED"):
                sid = seeded_session.id
                ref = f"realtimekit:{sid}"
                assert await local.list_participants(ref) == await vendor.list_participants(sid)
                if seeded_session.chat:
                    assert await local.list_chat(ref) == await vendor.list_chat(sid)
                if seeded_session.transcript:
                    mine = await local.get_transcript(ref)
                    theirs = await vendor.get_transcript(sid)
                    assert mine.utterances == theirs.utterances
                    assert mine.speakers
                if seeded_session.summary:
                    assert (await local.get_summary(ref)).text == seeded_session.summary
                raw = await local.adapter.ex_raw_payload(ref)  # type: ignore[attr-defined]
                reports = raw["peer_reports"]  # the peer reports, archived raw
                assert sorted(reports) == sorted(p["id"] for p in seeded_session.participants)
                assert all(r["peer_report"]["quality"] for r in reports.values())

    asyncio.run(compare())


async def portable(client: convoport.AsyncClient) -> list[tuple[str, tuple[str, ...]]]:
    """Code written once: the speakers of each finished session's transcript."""
    out = []
    async for session in client.list_sessions(convoport.SessionQuery(statuses={"completed"})):
        try:
            transcript = await client.get_transcript(session)
        except convoport.NotFound:
            continue
        out.append((session.id, transcript.speakers))
        if len(out) == 4:
            break
    return out


def test_the_same_code_runs_on_gladia_realtimekit_and_local(
    archive: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = archive

    async def run(target: str, **options: Any) -> list[tuple[str, tuple[str, ...]]]:
        async with convoport.connect(target, **options) as client:
            return await portable(client)

    gladia = asyncio.run(run("gladia", sandbox=True))
    rtk = asyncio.run(run("realtimekit", sandbox=True))
    local = asyncio.run(run(f"local:{path}"))
    assert len(gladia) == len(rtk) == len(local) == 4
    assert all(speakers for _, speakers in rtk)
    vendor = dict(asyncio.run(_all()))
    for sid, speakers in local:  # the archive answers with the vendor's transcripts
        assert vendor[sid.removeprefix("realtimekit:")] == speakers


async def _all() -> list[tuple[str, tuple[str, ...]]]:
    out = []
    async with convoport.connect("realtimekit", sandbox=True) as vendor:
        async for session in vendor.list_sessions():
            try:
                out.append((session.id, (await vendor.get_transcript(session)).speakers))
            except convoport.NotFound:
                continue
    return out
