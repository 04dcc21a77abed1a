"""Reads on the calling thread: SQLite reads run where they are asked for when the catalog is
free and the rows are small, and give way to a worker thread otherwise, with the same
answers either way."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
import attrs
import pytest

import convoport
from convoport import SessionQuery
from convoport.adapters.local.adapter import LocalAdapter
from convoport.model import Transcript, Utterance
from convoport.store import catalog as catalog_module
from convoport.store.catalog import INLINE_BYTES, ReadElsewhere

from ._helpers import archive_session, make_session, make_transcript

pytestmark = pytest.mark.anyio


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to a worker thread."""
    sent: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__qualname__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return sent


async def test_point_reads_run_on_the_calling_thread(
    adapter: LocalAdapter, client: convoport.AsyncClient, hops: list[str]
) -> None:
    session = make_session("a")
    await archive_session(adapter, session)
    hops.clear()
    assert await client.get_session("gladia:a") == session
    assert await client.get_transcript("gladia:a") == make_transcript("a")
    assert len(await client.list_participants("gladia:a")) == 2
    assert len(await client.list_chat("gladia:a")) == 2
    assert (await client.get_summary("gladia:a")).text == "They said hello."
    assert [s async for s in client.list_sessions()] == [session]
    assert hops == []


async def test_a_read_gives_way_while_a_write_holds_the_catalog(
    adapter: LocalAdapter, client: convoport.AsyncClient, hops: list[str]
) -> None:
    session = make_session("a")
    await archive_session(adapter, session)
    catalog, _ = await adapter._stores()
    held = threading.Event()
    release = threading.Event()

    def writer() -> None:  # stands for a commit of this process under way
        with catalog._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    timer = threading.Timer(0.2, release.set)
    try:
        assert held.wait(10)
        hops.clear()
        timer.start()
        with anyio.fail_after(10):
            assert await client.get_transcript("gladia:a") == make_transcript("a")
        release.set()  # (a read started after the write: free again, so on this thread)
        hops.append("-")
        release.clear()
        with anyio.fail_after(10):
            assert [s async for s in client.list_sessions()] == [session]
    finally:
        timer.cancel()
        release.set()
        thread.join()
    assert hops == ["SqlArchive._get_transcript.<locals>.<lambda>", "-"]


async def test_large_rows_are_decoded_in_a_worker_thread(
    adapter: LocalAdapter, client: convoport.AsyncClient, hops: list[str]
) -> None:
    big = attrs.evolve(
        make_transcript("a"),
        utterances=tuple(Utterance(text=f"word {i} " * 40) for i in range(INLINE_BYTES // 200)),
    )
    await archive_session(adapter, make_session("a"), transcripts=(big,))
    hops.clear()
    got = await client.get_transcript("gladia:a")
    assert isinstance(got, Transcript)
    assert got == big
    assert len(hops) == 1


async def test_listing_pages_read_inline_end_early_and_lose_nothing(
    adapter: LocalAdapter, client: convoport.AsyncClient, hops: list[str]
) -> None:
    # rows of ~INLINE_BYTES/5: a page read on the calling thread holds about five of them;
    # one row over the whole budget is read in a worker thread
    filler = "x" * (INLINE_BYTES // 5)
    sessions = []
    for i in range(23):
        data = {"blob": "y" * (INLINE_BYTES + 10)} if i == 11 else {"blob": filler}
        session = attrs.evolve(make_session(f"s{i:02d}", day=i), provider_data=data)
        sessions.append(session)
        await archive_session(adapter, session)
    hops.clear()
    pages = [page async for page in client._list_pages(page_size=20)]
    listed = [s for page in pages for s in page]
    assert listed == sessions[::-1]
    # the pages read on this thread ended early (under five rows), with a cursor that
    # resumed exactly; the one starting with the large row was read whole in a worker thread
    assert [len(page) < 5 for page in pages] == [True, True, True, False]
    assert len(pages[-1]) == 12
    assert len(hops) == 1
    oldest = [s async for s in client.list_sessions(order="oldest", page_size=7)]
    assert oldest == sessions


async def test_only_a_catalog_whose_readers_never_wait_reads_inline(
    adapter: LocalAdapter,
) -> None:
    catalog, _ = await adapter._stores()
    assert catalog.inline_reads  # the archive's catalog is in WAL mode
    assert catalog.read_now(lambda c: c.session_count()) == 0
    raw, catalog._raw = catalog._raw, None
    try:
        with pytest.raises(ReadElsewhere):  # not SQLite
            catalog.read_now(lambda c: c.session_count())
    finally:
        catalog._raw = raw
    catalog.inline_reads = False  # e.g. a read-only catalog in rollback-journal mode
    try:
        with pytest.raises(ReadElsewhere):
            catalog.read_now(lambda c: c.session_count())
    finally:
        catalog.inline_reads = True


async def test_a_long_scan_is_interrupted_and_read_in_a_worker_thread(
    adapter: LocalAdapter,
    client: convoport.AsyncClient,
    hops: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = [make_session(f"s{i:03d}", day=i) for i in range(300)]
    for session in sessions:
        await archive_session(adapter, session)
    hops.clear()
    monkeypatch.setattr(catalog_module, "INLINE_SECONDS", -1.0)  # any SQL is too long
    query = SessionQuery(search="no such title")  # a scan of every row, matching none
    assert [s async for s in client.list_sessions(query)] == []
    assert hops == ["SqlArchive._list_sessions_page.<locals>.<lambda>"]
    hops.clear()
    # pages interrupted part-way are read again whole: nothing lost or doubled
    assert [s async for s in client.list_sessions(page_size=100)] == sessions[::-1]
    assert hops
    monkeypatch.undo()
    hops.clear()
    assert [s async for s in client.list_sessions(query)] == []
    assert hops == []  # 300 rows scan well within the time
