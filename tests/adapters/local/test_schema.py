"""The versioned schema, the version guard and opening/creating archives."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import convoport
from convoport import ArchiveError, ConfigError
from convoport.adapters.local.adapter import LocalAdapter
from convoport.store import schema
from convoport.store.upgrade import current_version, upgrade

from ._helpers import archive_session, catalog_db, make_session

pytestmark = pytest.mark.anyio


async def test_new_archive_has_the_latest_schema(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "archive"
    async with convoport.connect(f"local:{folder}", create=True) as client:
        assert [s async for s in client.list_sessions()] == []
    with catalog_db(folder) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(schema.LATEST,)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "transcripts", "recordings", "ledger", "schema_version"} <= tables


async def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    for _ in range(2):
        async with convoport.connect(f"local:{tmp_path}", create=True) as client:
            assert isinstance(client.adapter, LocalAdapter)
            await archive_session(client.adapter, make_session("abc"))
    async with convoport.connect(f"local:{tmp_path}", create=False) as client:
        assert [s.id async for s in client.list_sessions()] == ["abc"]


async def test_foreign_keys_are_enforced(adapter: LocalAdapter) -> None:
    catalog, _ = await adapter._stores()
    with pytest.raises(sa.exc.IntegrityError), catalog.transaction() as conn:
        conn.execute(sa.text("INSERT INTO summaries (session_pk, neutral) VALUES (12345, '{}')"))


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    async with convoport.connect(f"local:{tmp_path}", create=True) as client:
        assert [s async for s in client.list_sessions()] == []
    with catalog_db(tmp_path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (schema.LATEST + 1,))
    async with convoport.connect(f"local:{tmp_path}") as client:
        with pytest.raises(ArchiveError, match="upgrade convoport") as info:
            await client.get_session("gladia:abc")
    assert str(tmp_path) in str(info.value)
    assert f"version {schema.LATEST + 1}" in str(info.value)


async def test_migrations_run_from_an_empty_database(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as conn:
        assert current_version(conn) == 0
        conn.commit()
        assert upgrade(conn, "x") == schema.LATEST
        assert upgrade(conn, "x") == schema.LATEST  # idempotent
    engine.dispose()


async def test_missing_archive_without_create(tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    async with convoport.connect(f"local:{folder}") as client:  # create=False by default
        with pytest.raises(ConfigError, match=str(folder)):
            await client.get_session("gladia:abc")
    assert not folder.exists()


async def test_create_accepts_text(tmp_path: Path) -> None:
    client = convoport.connect(f"local:{tmp_path}", create="false")
    assert isinstance(client.adapter, LocalAdapter)
    assert client.adapter.config.create is False
    await client.aclose()


def test_an_empty_path_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="path"):
        convoport.connect("local:")
    with pytest.raises(ConfigError):
        convoport.connect("local")


async def test_a_file_in_place_of_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("not an archive")
    async with convoport.connect(f"local:{target}", create=True) as client:
        with pytest.raises(ArchiveError, match=str(target)):
            await client.get_session("gladia:abc")


async def test_a_damaged_catalog(tmp_path: Path) -> None:
    (tmp_path / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    async with convoport.connect(f"local:{tmp_path}") as client:
        with pytest.raises(ArchiveError, match="catalog") as info:
            await client.get_session("gladia:abc")
    assert "catalog.sqlite" in str(info.value)


async def test_the_archive_remembers_its_media_root(tmp_path: Path) -> None:
    from ._helpers import archive_session as store

    folder = tmp_path / "archive"
    elsewhere = (tmp_path / "elsewhere").as_uri()
    async with convoport.connect(f"local:{folder}", media_root=elsewhere, create=True) as c:
        assert isinstance(c.adapter, LocalAdapter)
        await store(c.adapter, make_session("abc"), {"r1": b"audio" * 1000})
    assert not (folder / "media").exists()
    assert any((tmp_path / "elsewhere").rglob("*"))
    async with convoport.connect(f"local:{folder}") as client:  # no media_root this time
        assert isinstance(client.adapter, LocalAdapter)
        report = await client.adapter.verify()
        assert report.ok, report
        assert report.checked == 1
