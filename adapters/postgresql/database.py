"""Opening a PostgreSQL archive's catalog: the URL, the engine, the version guard.

The URL's password is kept out of every text: :class:`~.url.DatabaseURL` prints as
``postgresql://user:***@host/db`` and the adapter's redactor knows the password, so a driver
message that echoes it is masked too. The engine uses psycopg 3 (``postgresql+psycopg``), a
pool of connections (``pool_size``, checked before use), and a connect timeout, so a server
that does not answer is an error after ``connect_timeout`` seconds, never a hang.

A catalog is created (with ``create``) or upgraded when it is opened, under a transaction-
scoped advisory lock (:mod:`convoport.store.upgrade`), so many workers opening one archive at
once upgrade it once.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from convoport.errors import ArchiveError, ConfigError
from convoport.store import schema
from convoport.store.catalog import Catalog
from convoport.store.upgrade import current_version, upgrade

from .url import DatabaseURL


def _hint(text: str) -> str | None:
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return "check the user and password in the URL (or PGPASSWORD)"
    if "does not exist" in lowered and "database" in lowered:
        return "create the database first (createdb NAME), or fix its name in the URL"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return "check that the PostgreSQL server is running and reachable at the URL's host/port"
    if "nul" in lowered or "0x00" in lowered:
        return "ids and texts containing NUL characters cannot be archived in PostgreSQL"
    return None


def open_catalog(
    url: DatabaseURL,
    *,
    create: bool,
    pool_size: int,
    connect_timeout: float,
    redact: Callable[[str], str],
) -> Catalog:
    """Opens (with ``create``: creates) the catalog in the database at ``url`` and brings its
    schema to the latest version. No catalog there and not ``create``: ``ConfigError``."""
    where = str(url)
    engine = sa.create_engine(
        url.engine_url(),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout,
        hide_parameters=True,
        connect_args={"connect_timeout": max(1, round(connect_timeout))},
    )
    catalog = Catalog(engine, where=where, lock=False, hint=_hint, redact=redact)
    try:
        try:
            with engine.connect() as conn:
                version = current_version(conn)
        except sa.exc.DBAPIError as exc:
            text = redact(" ".join(str(exc.orig or exc).split()))
            raise ArchiveError(
                f"cannot open the PostgreSQL archive at {where}: {text}",
                hint=_hint(text) or "check the URL, the server and the user's rights",
            ) from None
        if version == 0 and not create:
            raise ConfigError(
                f"no archive at {where}: the database holds no convoport catalog",
                hint="check the URL, or let a migration create the archive (create=True)",
            )
        schema.check_version(version, where)
        if version < schema.LATEST:
            try:
                with engine.connect() as conn:
                    upgrade(conn, where)
            except sa.exc.DBAPIError as exc:
                raise catalog.error("create the catalog", exc.orig or exc) from None
    except BaseException:
        catalog.close()
        raise
    return catalog


__all__ = ["DatabaseURL", "open_catalog"]
