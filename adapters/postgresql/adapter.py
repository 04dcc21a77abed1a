"""The ``postgresql`` archive: a team archive's catalog on PostgreSQL, media on any fsspec store.

Connect with ``convoport.connect("postgresql://user:password@host:5432/db")``. It serves the
same archive port and read ports as ``local:`` (both are
:class:`convoport.store.sqlarchive.SqlArchive`s on one catalog implementation and one schema),
so everything said of the local archive holds: sessions keyed by their source's reference,
every list filter in SQL, the original transcript first, ``verify``, ``ingest``.

Options (:class:`PostgresConfig`): ``url``; ``media_root`` where recordings go (an fsspec URL
such as ``s3://bucket/archive``, or a folder every writer can reach): the archive remembers the
first one it is given, so later connections may omit it, and one that names another location
is refused (every writer must put media where every reader looks); ``create`` (default False)
creates the catalog's tables in an empty database — a migration opens its destination with
``create=True``; ``claim_lease`` seconds (default 60, env ``CONVOPORT_CLAIM_LEASE``);
``pool_size`` connections (default 8); ``connect_timeout`` seconds (default 10).
No I/O happens at ``connect``: the catalog is opened (created, upgraded) on first use.

**Several writers.** Any number of migrations, and the workers of a distributed one, may write
to one PostgreSQL archive at once. The writer claim is therefore cheap (it only checks the
database answers); instead each session is claimed before it is copied: a row in ``claims``,
read ``FOR UPDATE SKIP LOCKED``, held for ``claim_lease`` seconds and renewed every third of
it while the copy runs. The commit checks the claim is still this writer's and ends it in the
same transaction as the session and its ledger row, so a session is never committed twice. A
claim whose writer died lapses at the end of its lease and another writer takes the session
over; a writer that finds a session claimed by a live one skips it (a later run picks it up if
that writer failed).

**The password** never appears in reprs, logs or errors: the URL prints as
``postgresql://user:***@host/db`` and driver messages pass through the adapter's redactor.

Extensions (``client.adapter.<name>``):

* ``await ex_ledger() -> list[LedgerEntry]``: the migration ledger;
* ``await ex_raw_payload(session) -> dict``: the vendor's raw session payload as archived;
* ``await ex_claims() -> list[tuple[str, str, float]]``: the sessions claimed right now
  (source, holder, expiry in seconds since the epoch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

from convoport.adapter import ConnectOptions
from convoport.config import flag, optional_text, setting
from convoport.errors import ConfigError
from convoport.store.sqlarchive import SqlArchive, absolute_root

from .url import DatabaseURL

if TYPE_CHECKING:
    from convoport.store.catalog import Catalog


def _positive(value: float | str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"expected a number of seconds above 0, got {value!r}")
    return number


def _pool(value: int | str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"pool_size must be at least 1, got {value!r}")
    return number


@attrs.frozen(kw_only=True)
class PostgresConfig:
    """Settings of a PostgreSQL archive (``connect("postgresql://…")`` sets ``url``)."""

    url: DatabaseURL = setting(  # noqa: RUF009 (attrs, not a dataclass)
        converter=DatabaseURL.parse,
        env="CONVOPORT_POSTGRES_URL",
        help="the database (postgresql://user:password@host:port/db)",
    )
    media_root: str | None = setting(
        default=None,
        converter=optional_text,
        help="where recordings are stored: an fsspec URL such as s3://bucket/prefix "
        "(remembered by the archive)",
    )
    create: bool = setting(
        default=False, converter=flag, help="create the catalog when the database has none"
    )
    claim_lease: float = setting(
        default=60.0,
        converter=_positive,
        env="CONVOPORT_CLAIM_LEASE",
        help="seconds a session claim lasts unless its writer renews it",
    )
    pool_size: int = setting(default=8, converter=_pool, help="database connections kept open")
    connect_timeout: float = setting(
        default=10.0, converter=_positive, help="seconds to wait for the server"
    )


class PostgresAdapter(SqlArchive):
    """The ``postgresql`` archive backend (see the module docstring)."""

    name = "postgresql"
    display_name = "PostgreSQL archive"
    config_class = PostgresConfig
    default_page_size = 100
    max_page_size = 1000
    target_option: ClassVar[str | None] = "url"
    multi_writer: ClassVar[bool] = True

    def __init__(self, config: PostgresConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.config: PostgresConfig = config
        self.redactor.add(config.url.password)
        self.claim_lease = config.claim_lease
        self.media_root = config.media_root
        self._writer = False

    @property
    def where(self) -> str:
        return str(self.config.url)

    def _open_catalog(self) -> Catalog:
        from .database import open_catalog  # SQLAlchemy loads with the first archive opened

        return open_catalog(
            self.config.url,
            create=self.config.create,
            pool_size=self.config.pool_size,
            connect_timeout=self.config.connect_timeout,
            redact=self.redactor.text,
        )

    def _choose_media_root(self, catalog: Catalog) -> str:
        """The media root the archive remembers (the first one it was given; the one given
        to ``connect`` must be the same, since every writer and reader shares it). None at
        all: ``ConfigError`` (a team archive has no folder of its own to keep media beside)."""
        given = self.config.media_root
        remembered = catalog.setting("media_root")
        if remembered is None and given and not catalog.read_only:
            remembered = catalog.set_default("media_root", absolute_root(given))
        if given and remembered is not None and absolute_root(given) != remembered:
            # every writer must put media where every reader looks for them
            raise ConfigError(
                f"the PostgreSQL archive at {self.where} keeps its media at {remembered}, "
                f"not {given}",
                hint="drop --media (the archive remembers its own), or give that location",
            )
        if remembered is not None:
            return remembered
        raise ConfigError(
            f"the PostgreSQL archive at {self.where} has no media location yet",
            hint="give one the first time: --media s3://bucket/prefix (media_root=...)",
        )

    @property
    def writer_claimed(self) -> bool:
        return self._writer

    async def claim_writer(self) -> None:
        """Opens the catalog (creating it when allowed) and marks this connection a writer.
        Other writers are not excluded: sessions are claimed one by one instead."""
        await self._stores()
        self._writer = True

    async def release_writer(self) -> None:
        self._writer = False

    async def ex_claims(self) -> list[tuple[str, str, float]]:
        """The sessions claimed right now: (source, holder, expiry in epoch seconds)."""
        return await self._db(lambda c: c.claims())


__all__ = ["DatabaseURL", "PostgresAdapter", "PostgresConfig"]
