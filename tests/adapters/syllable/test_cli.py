"""The user's view: the command line against the Syllable sandbox, and code that lists sessions
and reads transcripts running unchanged on ``gladia``, ``syllable`` and ``local:``."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
import webvtt

import convoport
from convoport import SessionQuery, SessionStatus
from convoport.adapters.syllable.emulator import SyllableEmulator
from tests.support.cli import as_json, invoke


def test_providers_lists_syllable() -> None:
    rows = as_json(invoke("providers", "--json"))
    row = next(r for r in rows if (r.get("provider") or r.get("name")) == "syllable")
    assert "transcripts" in json.dumps(row)
    assert "participants" in json.dumps(row)


def test_sessions_list_with_search() -> None:
    harness = SyllableEmulator()
    seeded = harness.listed()[4]
    phone = str(seeded.wire["source"])
    found = as_json(
        invoke("sessions", "list", "syllable", "--sandbox", "--json", "--search", f"source={phone}")
    )
    assert [s["id"] for s in found] == [seeded.id]
    by_agent = as_json(
        invoke(
            "sessions",
            "list",
            "syllable",
            "--sandbox",
            "--json",
            "--search",
            "Support Bot",
            "--limit",
            "100",
        )
    )
    assert by_agent
    assert {s["title"] for s in by_agent} == {"Support Bot"}
    table = invoke("sessions", "list", "syllable", "--sandbox", "--limit", "3")
    assert table.exit_code == 0
    assert "3 sessions" in table.stdout
    bad = invoke("sessions", "list", "syllable", "--sandbox", "--search", "agent_id=")
    assert bad.exit_code == 2
    assert "has no value" in bad.output


def test_transcript_as_vtt_and_show() -> None:
    harness = SyllableEmulator()
    seeded = next(
        s for s in harness.listed() if s.voice and s.ended and s.has_transcript and not s.settling
    )
    result = invoke("transcript", "syllable", seeded.id, "--sandbox", "--format", "vtt")
    assert result.exit_code == 0, result.output
    captions = webvtt.from_buffer(io.StringIO(result.stdout))
    texts = [t["text"] for t in harness.transcript_for(seeded)["transcription"]]
    assert [c.text.split(">", 1)[-1] for c in captions.captions] == texts
    assert result.stdout.count("<v agent>")
    assert result.stdout.count("<v caller>")
    shown = as_json(invoke("sessions", "show", "syllable", seeded.id, "--sandbox", "--json"))
    assert shown["id"] == seeded.id
    assert shown["status"] == "completed"
    missing = invoke("sessions", "show", "syllable", "999999", "--sandbox")
    assert missing.exit_code == 1
    assert "session 999999 not found" in missing.output


def test_migrate_sandbox_into_a_local_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("migrate", "syllable", "local:./a", "--sandbox", "--json")
    report = as_json(result)
    harness = SyllableEmulator()
    finished = [s for s in harness.listed() if s.ended]
    assert report["failed"] == 0
    assert report["copied"] == len(finished)
    assert report["bytes"] == sum(
        len(harness.audio_for(s, i)) for s in finished for i in range(s.recordings)
    )
    listed = as_json(invoke("sessions", "list", "local:./a", "--json", "--limit", "500"))
    assert {s["id"] for s in listed} == {s.id for s in finished}
    voice = next(s for s in finished if s.has_transcript and s.voice)
    vtt = invoke("transcript", "local:./a", f"syllable:{voice.id}", "--format", "vtt")
    assert vtt.exit_code == 0, vtt.output
    assert "<v caller>" in vtt.stdout
    again = as_json(invoke("migrate", "syllable", "local:./a", "--sandbox", "--json"))
    assert again["copied"] == 0  # a rerun skips what is done
    assert (tmp_path / "a").is_dir()


async def _read_transcripts(client: convoport.AsyncClient, count: int) -> list[tuple[str, str]]:
    """What user code does, on any backend: list finished sessions, read their transcripts."""
    out: list[tuple[str, str]] = []
    query = SessionQuery(statuses={SessionStatus.COMPLETED})
    async for session in client.list_sessions(query, limit=count * 3):
        try:
            transcript = await client.get_transcript(session)
        except convoport.NotFound:
            continue
        if transcript.text:
            out.append((str(session.ref), transcript.text))
        if len(out) == count:
            break
    return out


def test_the_same_code_on_gladia_syllable_and_local(tmp_path: Path) -> None:
    async def main() -> dict[str, list[tuple[str, str]]]:
        results: dict[str, list[tuple[str, str]]] = {}
        for provider in ("gladia", "syllable"):
            async with convoport.connect(provider, sandbox=True) as client:
                results[provider] = await _read_transcripts(client, 3)
            await convoport.migrate(
                provider, f"local:{tmp_path / 'archive'}", sandbox=True, limit=6
            )
        async with convoport.connect(f"local:{tmp_path / 'archive'}") as archive:
            results["local"] = await _read_transcripts(archive, 100)
        return results

    results = asyncio.run(main())
    assert len(results["gladia"]) == 3
    assert len(results["syllable"]) == 3
    archived = dict(results["local"])
    assert {ref.split(":")[0] for ref in archived} == {"gladia", "syllable"}
    for ref, text in results["syllable"][:1] + results["gladia"][:1]:
        if ref in archived:
            assert archived[ref] == text
