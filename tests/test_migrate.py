"""Migration into the local archive, from an in-memory source: copy, resume, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convoport import (
    AsyncClient,
    AuthenticationError,
    ConfigError,
    NotFound,
    ProviderUnavailable,
    SessionQuery,
    SessionStatus,
    connect,
)
from convoport.archive import as_archive
from convoport.migration import migrate, progress_from
from tests.fakes import BASE, FakeAdapter, FakeConfig

pytestmark = pytest.mark.anyio


class FlakySource(FakeAdapter):
    """Fails some sessions: ``broken`` always, ``flaky`` on the first try only."""

    def __init__(self, config: FakeConfig, options: Any = None) -> None:
        super().__init__(config, options)
        self.broken: set[str] = set()
        self.flaky: set[str] = set()
        self.tries: dict[str, int] = {}

    async def _get_transcript(self, session: Any) -> Any:
        session_id = session.id
        self.tries[session_id] = self.tries.get(session_id, 0) + 1
        if session_id in self.broken or (session_id in self.flaky and self.tries[session_id] == 1):
            raise ProviderUnavailable("vendor hiccup", provider="fake", status_code=503)
        return await super()._get_transcript(session)


def source(sessions: int = 7) -> AsyncClient:
    return AsyncClient(FlakySource(FakeConfig(api_key="k", sessions=sessions)))


def finished(adapter: Any) -> list[Any]:
    return [s for s in adapter.sessions if s.status.terminal]


async def test_copy_then_read_everything_back(tmp_path: Path) -> None:
    src = source()
    archive = f"local:{tmp_path / 'archive'}"
    chunks: list[int] = []
    report = await migrate(
        src,
        archive,
        backoff_base=0,
        progress=progress_from(
            lambda kind, value: chunks.append(value) if kind == "bytes" else None
        ),
    )
    adapter: Any = src.adapter
    done = finished(adapter)
    assert report.copied == len(done)
    assert report.skipped == len(adapter.sessions) - len(done)  # unfinished sessions
    assert report.failed == 0
    assert report.bytes == len(adapter.media) * len(done)
    assert len(chunks) > len(done)  # media moved in chunks, not whole
    async with connect(archive) as local:
        listed = [s async for s in local.list_sessions()]
        assert sorted(s.id for s in listed) == sorted(s.id for s in done)
        for original in done:
            ref = f"fake:{original.id}"
            assert await local.get_session(ref) == original
            transcript = await local.get_transcript(ref)
            assert transcript == await src.get_transcript(original.id)
            assert await local.get_summary(ref) == await src.get_summary(original.id)
            assert await local.list_participants(ref) == await src.list_participants(original.id)
            assert await local.list_chat(ref) == await src.list_chat(original.id)
            async with local.open_recording(ref) as stream:
                data = b"".join([c async for c in stream.aiter_bytes()])
            assert data == adapter.media


async def test_rerun_skips_everything_already_copied(tmp_path: Path) -> None:
    archive = f"local:{tmp_path / 'a'}"
    first = await migrate(source(), archive, backoff_base=0)
    again = await migrate(source(), archive, backoff_base=0)
    assert again.copied == 0
    assert again.skipped == first.copied + first.skipped
    assert again.bytes == 0


async def test_a_failing_session_is_recorded_and_the_rest_continue(tmp_path: Path) -> None:
    src = source()
    src.adapter.broken.add("s0")  # type: ignore[attr-defined]
    archive = f"local:{tmp_path / 'a'}"
    report = await migrate(src, archive, attempts=2, backoff_base=0)
    assert report.failed == 1
    (failed,) = [o for o in report.outcomes if o.state == "failed"]
    assert str(failed.ref) == "fake:s0"
    assert "vendor hiccup" in (failed.reason or "")
    assert src.adapter.tries["s0"] == 2  # type: ignore[attr-defined]
    assert report.copied == len(finished(src.adapter)) - 1
    assert not report.ok
    async with connect(archive) as local:
        entry = await as_archive(local.adapter)._ledger_entry(failed.ref)
        assert entry is not None
        assert entry.state == "failed"
        assert "vendor hiccup" in (entry.reason or "")
        with pytest.raises(NotFound):
            await local.get_session("fake:s0")
    # the next run retries the failed session and succeeds
    fixed = source()
    again = await migrate(fixed, archive, backoff_base=0)
    assert again.copied == 1
    assert again.failed == 0


async def test_transient_failures_are_retried(tmp_path: Path) -> None:
    src = source()
    src.adapter.flaky.update({"s0", "s3"})  # type: ignore[attr-defined]
    report = await migrate(src, f"local:{tmp_path / 'a'}", backoff_base=0)
    assert report.failed == 0
    assert report.copied == len(finished(src.adapter))


async def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    report = await migrate(source(), f"local:{folder}", dry_run=True)
    assert report.dry_run
    assert report.copied == 0
    assert report.planned == len(finished(source().adapter))
    assert all((o.bytes or 0) > 0 for o in report.outcomes if o.state == "planned")
    assert not folder.exists()  # not even an empty archive
    # into an existing archive: nothing is written either
    first = await migrate(source(sessions=2), f"local:{folder}", backoff_base=0)
    before = sorted((p.name, p.stat().st_size) for p in folder.rglob("*") if p.is_file())
    again = await migrate(source(), f"local:{folder}", dry_run=True)
    assert again.planned == report.planned - first.copied
    async with connect(f"local:{folder}") as local:
        assert len([s async for s in local.list_sessions()]) == first.copied
    after = sorted((p.name, p.stat().st_size) for p in folder.rglob("*") if p.is_file())
    assert [n for n, _ in after if not n.endswith(("-wal", "-shm"))] == [
        n for n, _ in before if not n.endswith(("-wal", "-shm"))
    ]


async def test_include_and_since_narrow_the_copy(tmp_path: Path) -> None:
    archive = f"local:{tmp_path / 'a'}"
    since = BASE.replace(day=4)
    report = await migrate(source(), archive, include=["transcripts"], since=since, backoff_base=0)
    assert all(o.artifacts == ["transcript"] for o in report.outcomes if o.state == "copied")
    async with connect(archive) as local:
        sessions = [s async for s in local.list_sessions()]
        assert sessions
        assert all(s.created_at is not None and s.created_at >= since for s in sessions)
        with pytest.raises(NotFound):
            await local.get_summary(f"fake:{sessions[0].id}")
        assert await local.list_recordings(f"fake:{sessions[0].id}") == []


async def test_status_filter(tmp_path: Path) -> None:
    report = await migrate(
        source(),
        f"local:{tmp_path / 'a'}",
        query=SessionQuery(statuses={SessionStatus.FAILED}),
        backoff_base=0,
    )
    assert report.copied == len(
        [s for s in source().adapter.sessions if s.status is SessionStatus.FAILED]  # type: ignore[attr-defined]
    )


async def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown artifact"):
        await migrate(source(), f"local:{tmp_path}", include=["videos"])
    with pytest.raises(ConfigError, match="concurrency"):
        await migrate(source(), f"local:{tmp_path}", concurrency=0)
    with pytest.raises(ConfigError, match="cannot migrate from fake to fake"):
        await migrate(source(), source())


async def test_archive_accepts_the_sessions_it_lists(tmp_path: Path) -> None:
    archive = f"local:{tmp_path / 'a'}"
    await migrate(source(), archive, backoff_base=0)
    async with connect(archive) as local:
        (first,) = [s async for s in local.list_sessions(limit=1)]
        assert first.provider == "fake"
        assert await local.get_session(first) == first
        assert await local.get_session(first.ref) == first
        assert (await local.get_transcript(first)).session_id == first.id


async def test_an_archive_copies_into_another_archive(tmp_path: Path) -> None:
    first = f"local:{tmp_path / 'a'}"
    second = f"local:{tmp_path / 'b'}"
    copied = await migrate(source(), first, backoff_base=0)
    report = await migrate(first, second, backoff_base=0)
    assert report.failed == 0, [o.reason for o in report.outcomes]
    assert report.copied == copied.copied
    assert {str(o.ref) for o in report.outcomes} == {
        str(o.ref) for o in copied.outcomes if o.state == "copied"
    }
    async with connect(first) as a, connect(second) as b:
        left = [s async for s in a.list_sessions()]
        right = [s async for s in b.list_sessions()]
        assert left == right
        for session in left:
            assert await a.get_transcript(session) == await b.get_transcript(session)
    again = await migrate(first, second, backoff_base=0)
    assert again.copied == 0


class BuggySource(FlakySource):
    async def _get_summary(self, session: Any) -> Any:
        if session.id == "s3":
            raise struct_error("unpack requires a buffer of 16 bytes")
        return await super()._get_summary(session)


def struct_error(message: str) -> Exception:
    import struct

    return struct.error(message)


async def test_an_unexpected_error_fails_one_session_only(tmp_path: Path) -> None:
    src = AsyncClient(BuggySource(FakeConfig(api_key="k", sessions=7)))
    report = await migrate(src, f"local:{tmp_path / 'a'}", backoff_base=0)
    (failed,) = [o for o in report.outcomes if o.state == "failed"]
    assert str(failed.ref) == "fake:s3"
    assert failed.reason is not None
    assert failed.reason.startswith("error: unpack requires")
    assert report.copied == len(finished(src.adapter)) - 1


class BrokenListing(FlakySource):
    async def _list_sessions_page(self, query: Any, cursor: Any, page_size: int) -> Any:
        if cursor:
            raise AuthenticationError("key revoked", provider="fake", status_code=401)
        return await super()._list_sessions_page(query, cursor, page_size)


async def test_a_listing_error_is_raised_as_itself(tmp_path: Path) -> None:
    src = AsyncClient(BrokenListing(FakeConfig(api_key="k", sessions=7)))
    with pytest.raises(AuthenticationError, match="key revoked"):
        await migrate(src, f"local:{tmp_path / 'a'}", backoff_base=0)


def test_migrate_sync(tmp_path: Path) -> None:
    import convoport

    report = convoport.migrate_sync(source(), f"local:{tmp_path / 'a'}", backoff_base=0)
    assert report.copied == len(finished(source().adapter))
    with convoport.connect_sync(f"local:{tmp_path / 'a'}") as archive:
        again = convoport.migrate_sync(source(), archive, backoff_base=0)
    assert again.copied == 0


class SecondRecordingFails(FlakySource):
    async def _list_recordings(self, session: Any) -> Any:
        from convoport import Recording

        first = await super()._list_recordings(session)
        if session.id != "s0":
            return first
        return [*first, Recording(id="s0-broken", session_id=session.id)]

    def _open_recording(self, session: Any, recording: Any) -> Any:
        if recording.id == "s0-broken":
            raise ProviderUnavailable("storage hiccup", provider="fake", retryable=False)
        return super()._open_recording(session, recording)


async def test_a_failed_session_leaves_no_orphan_media(tmp_path: Path) -> None:
    src = AsyncClient(SecondRecordingFails(FakeConfig(api_key="k")))
    archive = f"local:{tmp_path / 'a'}"
    report = await migrate(src, archive, backoff_base=0, attempts=1)
    assert [str(o.ref) for o in report.outcomes if o.state == "failed"] == ["fake:s0"]
    async with connect(archive) as local:
        verify = await as_archive(local.adapter).verify()
    assert verify.ok, verify


async def test_one_migration_writes_to_an_archive_at_a_time(tmp_path: Path) -> None:
    import subprocess
    import sys
    from functools import partial

    import anyio.to_thread

    from convoport import ArchiveError

    archive = tmp_path / "a"
    await migrate(source(sessions=2), f"local:{archive}", backoff_base=0)
    async with connect(f"local:{archive}") as holder:
        await as_archive(holder.adapter).claim_writer()
        with pytest.raises(ArchiveError, match="being written by process"):
            await migrate(source(), f"local:{archive}", backoff_base=0)
        # another process is refused as well (the claim is an OS-level lock)
        code = (
            "import asyncio, convoport\n"
            f"asyncio.run(convoport.migrate('gladia', 'local:{archive}', sandbox=True))\n"
        )
        run = partial(
            subprocess.run,
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        other = await anyio.to_thread.run_sync(run)
        assert other.returncode != 0
        assert "being written by process" in other.stderr
        # readers and dry runs are never blocked
        async with connect(f"local:{archive}") as reader:
            assert [s async for s in reader.list_sessions()]
        dry = await migrate(source(), f"local:{archive}", dry_run=True)
        assert dry.planned > 0
    report = await migrate(source(), f"local:{archive}", backoff_base=0)
    assert report.copied > 0


async def test_a_callers_archive_client_is_released_after_each_run(tmp_path: Path) -> None:
    async with connect(f"local:{tmp_path / 'a'}", create=True) as archive:
        first = await migrate(source(), archive, backoff_base=0)
        second = await migrate(source(), archive, backoff_base=0)
        assert first.copied > 0
        assert second.skipped == first.copied + first.skipped
        # and another process may write now
        await migrate(source(), f"local:{tmp_path / 'a'}", backoff_base=0)


def test_archive_opened_from_another_directory_finds_its_media(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from convoport.cli import cli

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(
        cli, ["migrate", "gladia", "local:./arch", "--sandbox", "--limit", "4"]
    )
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)
    verified = CliRunner().invoke(cli, ["verify", str(work / "arch")])
    assert verified.exit_code == 0, verified.output
    moved = tmp_path / "moved"
    (work / "arch").rename(moved)
    assert CliRunner().invoke(cli, ["verify", str(moved)]).exit_code == 0
