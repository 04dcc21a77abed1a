"""Runs the catalog's migration history (Alembic, programmatically) on one connection.

:func:`upgrade` brings a catalog to :data:`~convoport.store.schema.LATEST` in **one**
transaction (every revision and the version bumps), so an interrupted upgrade leaves the
catalog as it was. The version is read inside that transaction, after taking the database's
write lock (SQLite: the transaction is ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped
advisory lock), so two processes opening one old catalog upgrade it once. A catalog written by
convoport 0.1 (``schema_version`` but no ``alembic_version``) is first stamped with the revision
of its version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .schema import LATEST, REVISIONS, check_version

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def current_version(connection: sa.Connection) -> int:
    """The catalog's schema version (0 for an empty database)."""
    if not sa.inspect(connection).has_table("schema_version"):
        return 0
    value = connection.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar()
    return int(value or 0)


def _config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in ``migrations/`` (a test checks it is ``REVISIONS[LATEST]``)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


#: The advisory lock PostgreSQL catalogs are upgraded under (any constant shared by all).
ADVISORY_LOCK = 0x636F6E766F  # "convo"


def upgrade(connection: sa.Connection, where: str) -> int:
    """Brings the catalog on ``connection`` (not in a transaction; on SQLite one whose
    ``begin`` is ``BEGIN IMMEDIATE``) to the latest version and returns it. A newer catalog:
    ``ArchiveError`` (see :func:`check_version`)."""
    from alembic import command
    from alembic.migration import MigrationContext

    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
            )
        version = current_version(connection)
        check_version(version, where)
        if version >= LATEST:
            return version
        config = _config(connection)
        if MigrationContext.configure(connection).get_current_revision() is None and version:
            command.stamp(config, REVISIONS[version])
        command.upgrade(config, "head")
        return current_version(connection)


__all__ = ["ADVISORY_LOCK", "MIGRATIONS", "current_version", "head_revision", "upgrade"]
