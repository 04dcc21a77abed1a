"""The archive-sink primitives: ledger, idempotent commits, failures, added transcripts,
delete, rollback."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import attrs
import fsspec  # type: ignore[import-untyped]
import pytest

import convoport
from convoport import ArchiveError, NotFound, Transcript, Utterance
from convoport.adapters.local.adapter import LocalAdapter
from convoport.adapters.local.store import Catalog
from convoport.archive import SessionBundle, StoredMedia

from ._helpers import (
    achunks,
    archive_session,
    catalog_db,
    make_bundle,
    make_recording,
    make_session,
    payload,
    ref,
    table_counts,
)

pytestmark = pytest.mark.anyio


def _dump(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    with catalog_db(folder) as conn:
        return {
            "sessions": conn.execute(
                "SELECT ref, provider, id, status, created_at, title, neutral, raw, archived_at "
                "FROM sessions ORDER BY ref"
            ).fetchall(),
            "transcripts": conn.execute(
                "SELECT origin, is_original, engine, created_at, neutral FROM transcripts "
                "ORDER BY neutral"
            ).fetchall(),
            "summaries": conn.execute("SELECT neutral FROM summaries").fetchall(),
            "participants": conn.execute(
                "SELECT position, participant_id, neutral FROM participants ORDER BY position"
            ).fetchall(),
            "chat": conn.execute(
                "SELECT position, message_id, neutral FROM chat_messages ORDER BY position"
            ).fetchall(),
            "recordings": conn.execute(
                "SELECT recording_id, path, size, sha256, neutral FROM recordings ORDER BY path"
            ).fetchall(),
            "ledger": conn.execute(
                "SELECT source, state, attempts, reason, bytes FROM ledger ORDER BY source"
            ).fetchall(),
        }


async def test_commit_is_idempotent(adapter: LocalAdapter, archive_path: Path) -> None:
    session = make_session("abc")
    bundle = await archive_session(adapter, session, {"audio": payload(1000)})
    before = _dump(archive_path)
    assert table_counts(archive_path) == {
        "sessions": 1,
        "transcripts": 1,
        "summaries": 1,
        "participants": 2,
        "chat_messages": 2,
        "recordings": 1,
        "ledger": 1,
    }
    await adapter._commit_session(bundle)
    await adapter._commit_session(bundle)
    assert _dump(archive_path) == before
    assert (await adapter.verify()).ok


async def test_recommit_replaces_artifacts(adapter: LocalAdapter, archive_path: Path) -> None:
    session = make_session("abc")
    await archive_session(adapter, session, {"audio": payload(1000), "extra": payload(10)})
    changed = attrs.evolve(session, title="renamed")
    bundle = await archive_session(adapter, changed, {"audio": payload(2000, seed=3)})
    assert await adapter._get_session("gladia:abc") == changed
    assert table_counts(archive_path)["recordings"] == 1
    assert await adapter._list_recordings(await adapter._session_for("gladia:abc")) == [
        bundle.media[0].recording
    ]
    report = await adapter.verify()
    assert report.ok, report  # the dropped recording's file was removed too


async def test_ledger_states(adapter: LocalAdapter) -> None:
    source = ref("gladia:abc")
    assert await adapter._ledger_entry(source) is None
    await adapter._record_failure(source, "503 from the vendor")
    entry = await adapter._ledger_entry(source)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.reason) == ("failed", 1, "503 from the vendor")
    assert entry.updated_at is not None
    assert entry.updated_at.tzinfo is not None
    await adapter._record_failure(source, "timeout")
    entry = await adapter._ledger_entry(source)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.reason) == ("failed", 2, "timeout")
    # the session is not archived yet: reads say so
    with pytest.raises(NotFound):
        await adapter._get_session("gladia:abc")

    await archive_session(adapter, make_session("abc"), {"audio": payload(500)})
    entry = await adapter._ledger_entry(source)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.reason, entry.bytes) == ("done", 3, None, 500)

    # a failure reported for an already complete copy does not undo it
    await adapter._record_failure(source, "late failure")
    entry = await adapter._ledger_entry(source)
    assert entry is not None
    assert entry.state == "done"
    assert [e.source for e in await adapter.ex_ledger()] == [source]
    assert (await adapter.verify()).ok


async def test_add_transcript_beside_the_original(
    adapter: LocalAdapter, archive_path: Path
) -> None:
    session = make_session("abc")
    bundle = await archive_session(adapter, session)
    original = bundle.transcripts[0]
    new = Transcript(
        session_id="gladia:abc",
        engine="illocution",
        utterances=(Utterance(text="hello again", start=0.0, end=1.0),),
    )
    await adapter._add_transcript(session.ref, new)
    await adapter._add_transcript(session.ref, new)  # an identical one is not stored twice
    assert await adapter.list_transcripts("gladia:abc") == [original, new]
    assert await adapter.list_transcripts(session.ref) == [original, new]
    assert await adapter._get_transcript(await adapter._session_for("gladia:abc")) == original
    # re-committing the session keeps what re-processing added
    await adapter._commit_session(bundle)
    assert await adapter.list_transcripts("gladia:abc") == [original, new]
    assert table_counts(archive_path)["transcripts"] == 2
    with pytest.raises(NotFound, match="gladia:nope"):
        await adapter._add_transcript(ref("gladia:nope"), new)


async def test_only_reprocessed_transcripts(adapter: LocalAdapter) -> None:
    session = make_session("abc")
    await archive_session(adapter, session, transcripts=())
    with pytest.raises(NotFound, match="no transcript"):
        await adapter._get_transcript(await adapter._session_for("gladia:abc"))
    new = Transcript(session_id="gladia:abc", engine="illocution")
    await adapter._add_transcript(session.ref, new)
    assert await adapter._get_transcript(await adapter._session_for("gladia:abc")) == new


async def test_delete_cascades_and_removes_media(
    adapter: LocalAdapter, client: convoport.AsyncClient, archive_path: Path
) -> None:
    keep = make_session("keep", day=1)
    gone = make_session("gone", day=2)
    await archive_session(adapter, keep, {"audio": payload(100)})
    bundle = await archive_session(adapter, gone, {"audio": payload(100), "b": payload(9)})
    _, media = await adapter._stores()
    assert all(media.size(m.path) is not None for m in bundle.media)

    await client.delete_session("gladia:gone")

    assert table_counts(archive_path) == {
        "sessions": 1,
        "transcripts": 1,
        "summaries": 1,
        "participants": 2,
        "chat_messages": 2,
        "recordings": 1,
        "ledger": 1,
    }
    assert all(media.size(m.path) is None for m in bundle.media)
    assert await adapter._ledger_entry(gone.ref) is None
    with pytest.raises(NotFound, match="gladia:gone"):
        await client.get_session("gladia:gone")
    with pytest.raises(NotFound):
        await client.delete_session("gladia:gone")
    assert [s async for s in client.list_sessions()] == [keep]
    assert (await adapter.verify()).ok


async def test_missing_session_is_not_found_everywhere(client: convoport.AsyncClient) -> None:
    for call in (
        client.get_session,
        client.get_transcript,
        client.get_summary,
        client.list_participants,
        client.list_chat,
        client.list_recordings,
    ):
        with pytest.raises(NotFound, match="gladia:missing"):
            await call("gladia:missing")


async def test_no_summary_is_not_found(adapter: LocalAdapter) -> None:
    session = make_session("abc")
    await adapter._commit_session(SessionBundle(source=session.ref, session=session))
    with pytest.raises(NotFound, match="no summary"):
        await adapter._get_summary(await adapter._session_for("gladia:abc"))
    assert await adapter._list_participants(await adapter._session_for("gladia:abc")) == []
    assert await adapter._list_chat(await adapter._session_for("gladia:abc")) == []
    assert await adapter._list_recordings(await adapter._session_for("gladia:abc")) == []


async def test_failure_mid_commit_rolls_back(
    adapter: LocalAdapter, archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_session("abc")
    await archive_session(adapter, first, {"audio": payload(100)})
    before = _dump(archive_path)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error (injected)")

    monkeypatch.setattr(Catalog, "_replace_recordings", boom)
    changed = attrs.evolve(first, title="changed")
    with pytest.raises(ArchiveError, match="injected"):
        await adapter._commit_session(make_bundle(changed))
    new = make_session("new", day=3)
    with pytest.raises(ArchiveError, match="catalog"):
        await adapter._commit_session(make_bundle(new))
    monkeypatch.undo()

    assert _dump(archive_path) == before
    assert await adapter._ledger_entry(new.ref) is None
    assert await adapter._get_session("gladia:abc") == first
    # the failed transactions ended: the next commit writes
    await adapter._commit_session(make_bundle(new))
    entry = await adapter._ledger_entry(new.ref)
    assert entry is not None
    assert entry.state == "done"
    assert await adapter._get_session("gladia:new") == new


async def test_constraint_violation_rolls_back(adapter: LocalAdapter, archive_path: Path) -> None:
    session = make_session("abc")
    stored = await adapter._store_media(session.ref, make_recording("abc"), achunks(b"xyz"))
    # the same recording twice violates UNIQUE(path): nothing of the session may remain
    with pytest.raises(ArchiveError, match="UNIQUE"):
        await adapter._commit_session(make_bundle(session, (stored, stored)))
    assert set(table_counts(archive_path).values()) == {0}


async def test_commit_refuses_media_of_another_session(adapter: LocalAdapter) -> None:
    a, b = make_session("a"), make_session("b")
    stored = await adapter._store_media(a.ref, make_recording("a"), achunks(b"xyz"))
    with pytest.raises(ArchiveError, match="must be stored under"):
        await adapter._commit_session(make_bundle(b, (stored,)))
    hostile = StoredMedia(recording=make_recording("b"), path="../../etc/passwd", size=3, sha256="")
    with pytest.raises(ArchiveError, match="refusing"):
        await adapter._commit_session(make_bundle(b, (hostile,)))


async def test_commit_refuses_missing_media(adapter: LocalAdapter) -> None:
    session = make_session("abc")
    stored = await adapter._store_media(session.ref, make_recording("abc"), achunks(b"xyz"))
    _, media = await adapter._stores()
    media.remove(stored.path)
    with pytest.raises(ArchiveError, match="missing"):
        await adapter._commit_session(make_bundle(session, (stored,)))
    assert await adapter._ledger_entry(session.ref) is None


async def test_interrupted_store_leaves_no_file(adapter: LocalAdapter) -> None:
    session = make_session("abc")

    async def broken() -> Any:
        yield b"x" * 1000
        raise ConnectionError("source dropped")

    with pytest.raises(ConnectionError):
        await adapter._store_media(session.ref, make_recording("abc"), broken())
    _, media = await adapter._stores()
    assert list(media.walk()) == []


async def test_concurrent_commits(adapter: LocalAdapter, client: convoport.AsyncClient) -> None:
    import anyio

    sessions = [make_session(f"s{i:02d}", day=i) for i in range(16)]
    async with anyio.create_task_group() as tg:
        for i, session in enumerate(sessions):
            tg.start_soon(archive_session, adapter, session, {"audio": payload(5000 + i)})
    assert [s async for s in client.list_sessions(order="oldest")] == sessions
    assert (await adapter.verify()).checked == 16


async def test_memory_root_holds_the_media(archive_path: Path) -> None:
    from ._helpers import memory_root

    root = memory_root()
    async with convoport.connect(f"local:{archive_path}", media_root=root, create=True) as client:
        assert isinstance(client.adapter, LocalAdapter)
        bundle = await archive_session(client.adapter, make_session("abc"), {"a": payload(10)})
    fs, base = fsspec.core.url_to_fs(root)
    assert fs.cat_file(f"{base}/{bundle.media[0].path}") == payload(10)
    assert not (archive_path / "media").exists()
    fs.rm(base, recursive=True)
