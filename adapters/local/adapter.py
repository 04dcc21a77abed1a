"""The ``local`` archive: a SQLite catalog and a media store, served through every read port.

Connect with ``convoport.connect("local:./archive")`` (or ``connect("local", path=...)``).
Options (:class:`LocalConfig`): ``path`` the archive folder; ``media_root`` where recordings go
(a folder or any fsspec URL such as ``memory://bucket/x`` or ``s3://bucket/archive``; default
``<path>/media``); ``create`` (default False) creates a missing archive — a migration opens its
destination with ``create=True``; otherwise a missing archive is a ``ConfigError`` naming the
path, so a mistyped path never silently becomes a new empty archive; ``busy_timeout`` seconds
to wait for another writer.
No I/O happens at ``connect``: the catalog is opened (created, migrated) on first use.

An archive holds sessions from several providers. Its id for a session is the string form of
the source's :class:`~convoport.SessionRef` (``"gladia:abc"``): ``get_session("gladia:abc")``
returns the session exactly as it was migrated (``provider="gladia"``, equal to the source's
``Session``), and ``list_sessions`` yields those sessions. Pass the ref string to every
per-session call (``client.get_transcript(str(session.ref))``).

Capabilities: catalog list/get/delete, recordings, transcripts, summaries, participants, chat,
archive sink. Every list filter runs in SQL: ``created_after`` (inclusive), ``created_before``
(exclusive), ``created_on`` (one UTC day), ``statuses``, ``metadata`` (each key equal to the
value as ``str()`` gives it, via SQLite's JSON functions) and ``search``: a case-insensitive
(ASCII) substring match on the session's title or its vendor id. Sessions are listed newest
first (``created_at``, then ref, both descending; sessions without a time last), or oldest first
(``order="oldest"``: the exact reverse).

Behaviour worth knowing:

* ``get_transcript`` returns the original transcript (the one the migration copied), or, when
  there is none, the first one re-processing added.
* ``delete_session`` removes the rows, the media files and the session's ledger entry (a later
  migration copies it again).
* Reading a recording whose file is missing, has the wrong size or the wrong sha256 raises
  ``ArchiveError`` naming the file and suggesting ``convoport verify`` (a hash mismatch is
  detected at the end of the stream, so a download never completes with corrupt bytes).

The archive port (:class:`convoport.archive.ArchiveAdapter`, reached as ``client.adapter``):
``claim_writer``/``release_writer`` (an OS lock on ``<path>/writer.lock``: one writing process
at a time), ``list_transcripts(session)`` (every transcript, original first), ``verify()``
(re-hash the media, check the ledger against the catalog), ``ingest(result)``.

Extensions (``client.adapter.<name>``):

* ``await ex_ledger() -> list[LedgerEntry]``: the migration ledger;
* ``await ex_raw_payload(session) -> dict``: the vendor's raw session payload as archived.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

import anyio
import anyio.to_thread
import attrs

from convoport.adapter import ConnectOptions
from convoport.config import flag, optional_text, setting
from convoport.errors import ArchiveError
from convoport.store.sqlarchive import (
    WRITE_BLOCK,
    ArchivedRecordingStream,
    SqlArchive,
    absolute_root,
)

if TYPE_CHECKING:
    from convoport.store.catalog import Catalog

#: What reading a stored recording gives (kept under its earlier name).
LocalRecordingStream = ArchivedRecordingStream


def _folder(value: str | Path) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("the archive path is empty (use local:PATH)")
    return str(Path(text).expanduser())


@attrs.frozen(kw_only=True)
class LocalConfig:
    """Settings of a local archive (``connect("local:PATH")`` sets ``path``)."""

    path: str = setting(converter=_folder, help="the archive folder (local:PATH)")
    media_root: str | None = setting(
        default=None,
        converter=optional_text,
        help="where recordings are stored: a folder or an fsspec URL (default <path>/media)",
    )
    create: bool = setting(
        default=False, converter=flag, help="create the archive when it does not exist"
    )
    busy_timeout: float = setting(
        default=30.0, converter=float, help="seconds to wait while another process writes"
    )


class LocalAdapter(SqlArchive):
    """The ``local`` archive backend (see the module docstring)."""

    name = "local"
    display_name = "Local archive"
    config_class = LocalConfig
    default_page_size = 50
    max_page_size = 500
    target_option: ClassVar[str | None] = "path"

    def __init__(self, config: LocalConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.config: LocalConfig = config
        self.folder = Path(config.path)
        self.media_root = config.media_root or str(self.folder / "media")
        self._writer_lock: IO[str] | None = None

    @property
    def where(self) -> str:
        return str(self.folder)

    def _open_catalog(self) -> Catalog:
        from .store import open_catalog  # SQLAlchemy loads with the first archive opened

        return open_catalog(
            self.folder, create=self.config.create, busy_timeout=self.config.busy_timeout
        )

    def _choose_media_root(self, catalog: Catalog) -> str:
        """The media root: the one given to ``connect``, else the one the archive was first
        given (kept in its catalog, as an absolute path or URL), else ``<path>/media`` derived
        anew on each open (so a moved or copied archive keeps finding its own media)."""
        given = self.config.media_root
        remembered = catalog.setting("media_root")
        if remembered is None and given:
            catalog.set_default("media_root", absolute_root(given))
        if given:
            return given
        if remembered is not None:
            return remembered
        return str(self.folder / "media")

    @property
    def writer_claimed(self) -> bool:
        return self._writer_lock is not None

    async def claim_writer(self) -> None:
        """Claims the archive for writing until :meth:`aclose` (a migration calls this first).

        One process writes to an archive at a time: a second migration into the same archive
        gets an ``ArchiveError`` at once instead of failing session by session on SQLite's
        write lock. Readers are never blocked. The claim is an advisory ``flock`` on
        ``<path>/writer.lock``, released by the operating system if the process dies.
        """
        if self._writer_lock is not None:
            return
        await self._stores()  # creates the archive folder when allowed, else ConfigError
        path = self.folder / "writer.lock"

        def claim() -> IO[str]:
            import fcntl
            import os

            try:
                handle = path.open("a+", encoding="utf-8")
            except OSError as exc:
                raise ArchiveError(f"could not lock the archive at {self.folder}: {exc}") from exc
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise ArchiveError(
                    f"the archive at {self.folder} is being written by {holder}",
                    hint="wait for that migration to finish, or stop it",
                ) from None
            except OSError as exc:
                handle.close()
                raise ArchiveError(f"could not lock the archive at {self.folder}: {exc}") from exc
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()}\n")
            handle.flush()
            return handle

        self._writer_lock = await anyio.to_thread.run_sync(claim)

    async def release_writer(self) -> None:
        """Gives up the claim of :meth:`claim_writer` (closing the file releases the lock)."""
        self._release_writer()

    def _release_writer(self) -> None:
        lock, self._writer_lock = self._writer_lock, None
        if lock is not None:
            lock.close()


__all__ = ["WRITE_BLOCK", "LocalAdapter", "LocalConfig", "LocalRecordingStream"]
