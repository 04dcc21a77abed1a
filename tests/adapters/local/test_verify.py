"""``verify`` finds corrupt and missing media, orphans and ledger mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest

from convoport.adapters.local.adapter import LocalAdapter

from ._helpers import archive_session, catalog_db, make_session, payload

pytestmark = pytest.mark.anyio


async def _two_sessions(adapter: LocalAdapter) -> tuple[str, str]:
    a = await archive_session(adapter, make_session("a", day=1), {"audio": payload(70_000)})
    b = await archive_session(adapter, make_session("b", day=2), {"audio": payload(1_000)})
    return a.media[0].path, b.media[0].path


async def test_clean_archive_is_ok(adapter: LocalAdapter) -> None:
    await _two_sessions(adapter)
    report = await adapter.verify()
    assert report.ok
    assert report.checked == 2
    assert report.checked_bytes == 71_000


async def test_empty_archive_is_ok(adapter: LocalAdapter) -> None:
    assert (await adapter.verify()).ok


async def test_a_corrupted_byte(adapter: LocalAdapter) -> None:
    path, _ = await _two_sessions(adapter)
    _, media = await adapter._stores()
    data = bytearray(media.fs.cat_file(media.full(path)))
    data[12345] ^= 1
    media.fs.pipe_file(media.full(path), bytes(data))
    report = await adapter.verify()
    assert not report.ok
    assert [(i.ref, i.path) for i in report.corrupt] == [("gladia:a", path)]
    assert "sha256" in str(report.corrupt[0])
    assert report.missing == report.orphans == report.ledger_mismatches == []


async def test_a_missing_file(adapter: LocalAdapter) -> None:
    _, path = await _two_sessions(adapter)
    _, media = await adapter._stores()
    media.fs.rm(media.full(path))
    report = await adapter.verify()
    assert [(i.ref, i.path) for i in report.missing] == [("gladia:b", path)]
    assert report.corrupt == []
    assert not report.ok


async def test_an_orphan(adapter: LocalAdapter) -> None:
    await _two_sessions(adapter)
    _, media = await adapter._stores()
    media.fs.makedirs(media.full("gladia/00/stray"), exist_ok=True)
    media.fs.pipe_file(media.full("gladia/00/stray/file"), b"nobody's")
    media.fs.pipe_file(media.full("gladia/00/stray/half~part"), b"interrupted")
    report = await adapter.verify()
    assert sorted(i.path or "" for i in report.orphans) == [
        "gladia/00/stray/file",
        "gladia/00/stray/half~part",
    ]
    assert not report.ok


async def test_ledger_without_session_and_session_without_ledger(
    adapter: LocalAdapter, archive_path: Path
) -> None:
    await _two_sessions(adapter)
    with catalog_db(archive_path) as conn:
        conn.execute(
            "INSERT INTO ledger (source, state, attempts, updated_at, bytes) "
            "VALUES ('gladia:ghost', 'done', 1, '2026-01-01T00:00:00.000000Z', 0)"
        )
        conn.execute("DELETE FROM ledger WHERE source = 'gladia:b'")
    report = await adapter.verify()
    assert sorted(i.ref or "" for i in report.ledger_mismatches) == ["gladia:b", "gladia:ghost"]
    assert report.missing == report.corrupt == report.orphans == []
    assert "not archived" in str(
        next(i for i in report.ledger_mismatches if i.ref == "gladia:ghost")
    )


async def test_failed_ledger_entries_are_fine(adapter: LocalAdapter) -> None:
    await _two_sessions(adapter)
    await adapter._record_failure(make_session("c").ref, "kept failing")
    assert (await adapter.verify()).ok
