"""One schema definition and one migration history for SQLite and PostgreSQL, and an archive
written by convoport 0.1.0 opening (read as it is) and upgrading in place (on its first
write) with nothing lost."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import convoport
from convoport.adapters.local.store import sqlite_engine
from convoport.archive import as_archive
from convoport.migration import migrate
from convoport.model import SessionQuery
from convoport.store import schema
from convoport.store.upgrade import current_version, head_revision, upgrade

pytestmark = pytest.mark.anyio
RELEASED = Path(__file__).resolve().parents[1] / "data" / "archive-v2"


def _differences(engine: sa.Engine) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


def _upgraded(engine: sa.Engine) -> int:
    with engine.connect().execution_options(convoport_write=True) as conn:
        return upgrade(conn, str(engine.url))


def _sqlite(path: Path) -> sa.Engine:
    """An engine as the local archive makes one (the driver in autocommit, BEGIN emitted)."""
    return sqlite_engine(sqlite3.connect(path, isolation_level=None, check_same_thread=False))


def test_the_history_ends_at_the_latest_version() -> None:
    assert head_revision() == schema.REVISIONS[schema.LATEST]
    assert sorted(schema.REVISIONS) == list(range(1, schema.LATEST + 1))
    assert sorted(schema.TABLES_ADDED) == sorted(schema.REVISIONS)
    added = {t for tables in schema.TABLES_ADDED.values() for t in tables}
    assert added | {"schema_version"} == set(schema.metadata.tables)


def test_the_history_builds_the_definition_on_sqlite(tmp_path: Path) -> None:
    engine = _sqlite(tmp_path / "catalog.sqlite")
    assert _upgraded(engine) == schema.LATEST
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).all() == [(3,)]
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [("0003",)]
    engine.dispose()


def test_the_history_builds_the_definition_on_postgresql(postgres_url: str) -> None:
    engine = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"))
    assert _upgraded(engine) == schema.LATEST
    assert _upgraded(engine) == schema.LATEST  # idempotent
    assert _differences(engine) == []
    with engine.connect() as conn:
        collations: dict[str, str] = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, collation_name FROM information_schema.columns "
                    "WHERE table_name = 'sessions'"
                )
            ).all()
        )
    assert collations["ref"] == "C"  # bytewise order: the same listing as SQLite's
    assert collations["created_at"] == "C"
    engine.dispose()


def test_an_interrupted_upgrade_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic.operations import Operations

    engine = _sqlite(tmp_path / "catalog.sqlite")
    original = Operations.create_index

    def boom(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "session_meta_value":
            raise RuntimeError("the power went out")
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_index", boom)
    with pytest.raises(RuntimeError):
        _upgraded(engine)
    with engine.connect() as conn:
        assert current_version(conn) == 0  # every revision rolled back together
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def _copy_released(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    shutil.copytree(RELEASED, folder)
    return folder


def _version(folder: Path) -> tuple[int, list[str]]:
    conn = sqlite3.connect(folder / "catalog.sqlite")
    try:
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()
    return int(version), tables


async def test_an_archive_written_by_the_released_version_is_read_as_it_is(
    tmp_path: Path,
) -> None:
    folder = _copy_released(tmp_path)
    before = (folder / "catalog.sqlite").read_bytes()
    async with convoport.connect(f"local:{folder}") as archive:
        sessions = [s async for s in archive.list_sessions()]
        assert len(sessions) == 4
        team = next(iter(sessions[0].metadata.items()), None)
        if team is not None:  # the metadata filter works before any upgrade
            key, value = team
            query = SessionQuery(metadata={key: str(value)})
            expected = [s.id for s in sessions if query.matches(s)]
            assert [s.id async for s in archive.list_sessions(query)] == expected
        report = await as_archive(archive.adapter).verify()
        assert report.ok, report
        assert report.checked == 3
        assert report.checked_bytes == 160_132
    assert (folder / "catalog.sqlite").read_bytes() == before  # reading never writes
    assert _version(folder)[0] == 2


async def test_an_archive_written_by_the_released_version_upgrades_on_its_first_write(
    tmp_path: Path,
) -> None:
    folder = _copy_released(tmp_path)
    async with convoport.connect(f"local:{folder}") as archive:
        adapter = as_archive(archive.adapter)
        before = {
            str(s.ref): (s, await adapter.list_transcripts(s.ref))
            async for s in archive.list_sessions()
        }
    report = await migrate("gladia", f"local:{folder}", sandbox=True)  # writes: upgrades
    assert report.failed == 0
    assert report.skipped_by_reason.get("already copied") == 4
    version, tables = _version(folder)
    assert version == schema.LATEST
    assert {"session_meta", "claims", "alembic_version"} <= set(tables)
    async with convoport.connect(f"local:{folder}") as archive:
        adapter = as_archive(archive.adapter)
        for ref, (session, transcripts) in before.items():
            assert await archive.get_session(ref) == session
            assert await adapter.list_transcripts(ref) == transcripts
        sessions = [s async for s in archive.list_sessions()]
        for session in sessions:  # session_meta was filled from the archived sessions
            for key, value in session.metadata.items():
                query = SessionQuery(metadata={key: str(value)})
                found = [s.id async for s in archive.list_sessions(query)]
                assert found == [s.id for s in sessions if query.matches(s)]
        verify = await as_archive(archive.adapter).verify()
        assert verify.ok, verify
