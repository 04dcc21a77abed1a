"""Re-processing: archived recordings pushed into ingest backends, new transcripts stored
beside the originals."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoport import connect
from convoport.archive import as_archive
from convoport.migration import migrate

pytestmark = pytest.mark.anyio


@pytest.fixture
async def archive(tmp_path: Path) -> str:
    target = f"local:{tmp_path / 'archive'}"
    report = await migrate("gladia", target, sandbox=True, limit=8)
    assert report.copied > 0
    return target


@pytest.mark.parametrize("engine", ["illocution", "gladia"])
async def test_reprocess_archive_stores_a_second_transcript(archive: str, engine: str) -> None:
    report = await migrate(archive, engine, sandbox=True, concurrency=2)
    assert report.mode == "reprocess"
    assert report.failed == 0, [o.reason for o in report.outcomes if o.state == "failed"]
    assert report.reprocessed > 0
    assert report.copied == 0  # re-processing copies nothing: it is counted as re-processed
    async with connect(archive) as local:
        adapter = local.adapter
        for outcome in report.outcomes:
            if outcome.state != "reprocessed":
                continue
            transcripts = await as_archive(adapter).list_transcripts(outcome.ref)
            added = await as_archive(adapter).list_transcripts(outcome.ref, reprocessed=True)
            assert len(transcripts) == len(added) + 1  # the original comes first
            assert transcripts[1:] == added
            (new,) = added
            assert new.engine == engine
            assert new.session_id == str(outcome.ref)
            assert new.utterances
            # the original is untouched and still what get_transcript returns
            assert await local.get_transcript(str(outcome.ref)) == transcripts[0]
    again = await migrate(archive, engine, sandbox=True)
    assert again.reprocessed == 0
    assert again.skipped == report.reprocessed + report.skipped
    assert again.skipped_by_reason[f"already has a {engine} transcript"] == report.reprocessed


async def test_reprocess_dry_run(archive: str) -> None:
    report = await migrate(archive, "illocution", sandbox=True, dry_run=True)
    assert report.planned > 0
    assert report.reprocessed == 0


async def test_archive_copies_keep_reprocessed_transcripts(archive: str, tmp_path: Path) -> None:
    await migrate(archive, "illocution", sandbox=True)
    copy = f"local:{tmp_path / 'copy'}"
    report = await migrate(archive, copy)
    assert report.failed == 0
    async with connect(archive) as a, connect(copy) as b:
        async for session in a.list_sessions():
            left = await as_archive(a.adapter).list_transcripts(session.ref)
            right = await as_archive(b.adapter).list_transcripts(session.ref)
            assert [t.engine for t in right] == [t.engine for t in left]
            assert right == left
