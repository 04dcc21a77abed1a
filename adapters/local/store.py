"""Opening a local archive's SQLite catalog (``<folder>/catalog.sqlite``).

The connection runs in WAL mode with ``foreign_keys=ON`` and a ``busy_timeout``; SQLite's
driver is left in autocommit mode and the engine emits ``BEGIN`` itself (``BEGIN IMMEDIATE``
for writes, so writers queue instead of failing mid-way), the way SQLAlchemy documents for
pysqlite. The reads and writes are :class:`convoport.store.catalog.Catalog`'s, shared with the
PostgreSQL archive.

**Reading never writes.** Opening an existing archive without ``create`` changes nothing in it:
a catalog whose schema is older than this convoport is read as it is (the tables later versions
add are read as empty TEMP tables) and upgraded only by the first write; a catalog this process
may not write (read-only media, a file or folder owned by another user) is opened read-only
(SQLite ``mode=ro``, else ``immutable=1`` when even the WAL index cannot be created), and a
write to it is an ``ArchiveError`` saying so. A 0-byte or schema-less ``catalog.sqlite`` is not
an archive: without ``create`` it is a ``ConfigError`` (a read never creates an archive).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from convoport.errors import ArchiveError, ConfigError
from convoport.store import schema
from convoport.store.catalog import Catalog, float_text
from convoport.store.upgrade import current_version, upgrade

#: The catalog's file name inside the archive folder.
CATALOG_NAME = "catalog.sqlite"
#: How a catalog this process may not write is opened, in order (SQLite URI parameters).
READ_ONLY_MODES = ("mode=ro", "mode=ro&immutable=1")


def sqlite_engine(conn: sqlite3.Connection) -> sa.Engine:
    """An engine over the one connection (used under the catalog's lock), beginning its own
    transactions: ``BEGIN IMMEDIATE`` for a connection with the ``convoport_write`` option."""
    engine = sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)

    @sa.event.listens_for(engine, "begin")
    def begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get("convoport_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _prepare(conn: sqlite3.Connection, busy_timeout: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.create_function("cp_float_text", 1, float_text, deterministic=True)


def open_catalog(folder: Path, *, create: bool, busy_timeout: float = 30.0) -> Catalog:
    """Opens (and, with ``create``, creates) the catalog of the archive at ``folder`` and
    brings its schema up to date (or, without ``create``, leaves an older one to the first
    write). No archive and not ``create``: ``ConfigError``."""
    db = folder / CATALOG_NAME
    try:
        exists = db.is_file()
        if not exists:
            if not create:
                raise ConfigError(
                    f"no archive at {folder} (no {CATALOG_NAME} there)",
                    hint="check the path, or let a migration create it (create=True)",
                )
            if folder.exists() and not folder.is_dir():
                raise ArchiveError(
                    f"cannot create an archive at {folder}: it is a file",
                    hint="choose a folder path for the archive",
                )
            folder.mkdir(parents=True, exist_ok=True)
        elif db.stat().st_size == 0 and not create:
            raise ConfigError(
                f"no archive at {folder}: its {CATALOG_NAME} is empty (0 bytes)",
                hint="restore the catalog from a backup, or remove the empty file and let "
                "a migration create the archive",
            )
        writable = not exists or _may_write(db)
    except OSError as exc:
        raise ArchiveError(
            f"cannot create the archive folder {folder}: {exc}",
            hint="check the path and its permissions",
        ) from exc
    if not writable:
        return _open_read_only(db, busy_timeout)
    try:
        conn = sqlite3.connect(
            db, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
    except sqlite3.Error as exc:
        raise ArchiveError(
            f"cannot open the archive catalog {db}: {exc}",
            hint="check the file's permissions; run 'convoport verify' on it",
        ) from exc
    engine = sqlite_engine(conn)
    catalog = Catalog(engine, where=str(db), raw=conn)
    try:
        _setup(catalog, conn, busy_timeout, create=create)
        catalog.inline_reads = _readers_never_wait(conn, immutable=False)
    except BaseException:
        catalog.close()
        raise
    return catalog


def _open_read_only(db: Path, busy_timeout: float) -> Catalog:
    """Opens a catalog this process may not write: ``mode=ro``, else (no WAL index can be
    created next to it, as on read-only media) ``immutable=1``."""
    last: BaseException | None = None
    for flags in READ_ONLY_MODES:
        try:
            conn = sqlite3.connect(
                f"{db.resolve().as_uri()}?{flags}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout,
            )
        except sqlite3.Error as exc:
            last = exc
            continue
        catalog = Catalog(sqlite_engine(conn), where=str(db), read_only=True, raw=conn)
        try:
            _prepare(conn, busy_timeout)
            version = _version(catalog)
            _check_archive(db, version)
            readable = version >= schema.LATEST or _read_old_schema(catalog, conn, version)
            conn.execute("PRAGMA query_only = ON")  # after the TEMP tables of an old schema
            catalog.inline_reads = _readers_never_wait(conn, immutable="immutable=1" in flags)
        except sqlite3.OperationalError as exc:
            catalog.close()
            last = exc
            continue
        except sa.exc.OperationalError as exc:
            catalog.close()
            if "unable to open" not in str(exc.orig):
                raise catalog.error("open", exc.orig or exc) from exc
            last = exc.orig
            continue
        except BaseException:
            catalog.close()
            raise
        if not readable:
            catalog.close()
            raise ArchiveError(
                f"the read-only archive at {db.parent} has schema version {version}, "
                f"older than this convoport's ({schema.LATEST}), and cannot be read without "
                "upgrading it",
                hint="open it once with write access (any write upgrades it), or read it "
                "with the convoport version that wrote it",
            )
        return catalog
    raise ArchiveError(
        f"cannot open the read-only archive catalog {db}: {last}",
        hint="check that the file is readable by this user",
    )


def _readers_never_wait(conn: sqlite3.Connection, *, immutable: bool) -> bool:
    """Whether a read on this connection can never wait for another process's writer (WAL
    journaling, or an immutable file): then reads may run on the calling thread."""
    if immutable:
        return True
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return str(mode).lower() == "wal"


def _version(catalog: Catalog) -> int:
    with catalog.engine.connect() as conn:
        return current_version(conn)


def _setup(
    catalog: Catalog, conn: sqlite3.Connection, busy_timeout: float, *, create: bool
) -> None:
    try:
        _prepare(conn, busy_timeout)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = _version(catalog)
        if not create:
            _check_archive(catalog_path(catalog), version)
            if version < schema.LATEST and _read_old_schema(catalog, conn, version):
                # read as it is; the first write upgrades
                catalog.defer_upgrade(lambda: _upgrade_pending(catalog, conn))
                return
        _upgrade(catalog, conn)
    except sqlite3.Error as exc:
        raise catalog.error("open", exc) from exc
    except sa.exc.DBAPIError as exc:
        raise catalog.error("open", exc.orig or exc) from exc


def catalog_path(catalog: Catalog) -> Path:
    """The catalog's file."""
    return Path(catalog.where)


def _check_archive(db: Path, version: int) -> None:
    """Refuses a catalog without convoport's schema (a read never creates one) and one
    written by a newer convoport."""
    if version == 0:
        raise ConfigError(
            f"no archive at {db.parent}: {db.name} holds no convoport catalog",
            hint="check the path, or let a migration create the archive (create=True)",
        )
    schema.check_version(version, str(db))


def _read_old_schema(catalog: Catalog, conn: sqlite3.Connection, version: int) -> bool:
    """Makes a catalog at an older ``version`` readable without changing it: the tables
    later versions add exist as empty TEMP tables (in this connection only). False when one
    cannot be made."""
    names = [n for v, added in schema.TABLES_ADDED.items() if v > version for n in added]
    dialect = catalog.engine.dialect
    made: list[str] = []
    try:
        for name in names:
            table = schema.metadata.tables[name]
            shim = sa.Table(
                name,
                sa.MetaData(),
                *(sa.Column(c.name, c.type, nullable=c.nullable) for c in table.columns),
                prefixes=["TEMP"],
            )
            conn.execute(str(sa.schema.CreateTable(shim).compile(dialect=dialect)))
            made.append(name)
    except sqlite3.Error:
        _drop_shims(conn, made)
        return False
    catalog.shims = frozenset(made)
    return True


def _drop_shims(conn: sqlite3.Connection, names: Any) -> None:
    for name in reversed(list(names)):
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _upgrade_pending(catalog: Catalog, conn: sqlite3.Connection) -> None:
    _drop_shims(conn, catalog.shims)
    catalog.shims = frozenset()
    _upgrade(catalog, conn)


def _upgrade(catalog: Catalog, conn: sqlite3.Connection) -> None:
    """WAL journaling and the schema brought to the latest version (writes)."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise ArchiveError(
            f"the archive catalog {catalog.where} cannot use WAL journaling (got {mode})",
            hint="keep the archive on a local disk that supports it",
        )
    with catalog.engine.connect().execution_options(convoport_write=True) as connection:
        upgrade(connection, catalog.where)


def _may_write(db: Path) -> bool:
    """Whether this process may write the catalog and create files beside it (SQLite's
    journal, WAL and WAL index): read-only media and another user's files say no."""
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK | os.X_OK)


__all__ = [
    "CATALOG_NAME",
    "READ_ONLY_MODES",
    "Catalog",
    "catalog_path",
    "open_catalog",
    "sqlite_engine",
]
