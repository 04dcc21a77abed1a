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

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import IO, ClassVar, TypeVar

import anyio
import anyio.to_thread
import attrs

from convoport.adapter import ConnectOptions, RecordingStream
from convoport.archive import (
    ArchiveAdapter,
    LedgerEntry,
    SessionBundle,
    StoredMedia,
    VerifyIssue,
    VerifyReport,
)
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
from convoport.config import setting
from convoport.errors import ArchiveError, NotFound
from convoport.model import (
    ChatMessage,
    JSONDict,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    SessionStatus,
    Summary,
    Transcript,
)
from convoport.pagination import Cursor, Page
from convoport.store.media import (
    CHUNK_SIZE,
    MediaStore,
    MediaWriter,
    check_relative,
    media_error,
    media_path,
    session_dir,
)

from .store import Catalog, RecordingRow, SessionCursor

#: Bytes a recording is written to the media store in (gathered from the source's chunks).
WRITE_BLOCK = 1 << 20

T = TypeVar("T")

_VERIFY_HINT = "run 'convoport verify' on the archive"


def _absolute_root(root: str) -> str:
    """A media root that means the same from any working directory (URLs are kept)."""
    if "://" in root:
        return root
    return str(Path(root).expanduser().resolve())


def _folder(value: str | Path) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("the archive path is empty (use local:PATH)")
    return str(Path(text).expanduser())


def _optional_text(value: str | Path | None) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value)


def _flag(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


@attrs.frozen(kw_only=True)
class LocalConfig:
    """Settings of a local archive (``connect("local:PATH")`` sets ``path``)."""

    path: str = setting(converter=_folder, help="the archive folder (local:PATH)")
    media_root: str | None = setting(
        default=None,
        converter=_optional_text,
        help="where recordings are stored: a folder or an fsspec URL (default <path>/media)",
    )
    create: bool = setting(
        default=False, converter=_flag, help="create the archive when it does not exist"
    )
    busy_timeout: float = setting(
        default=30.0, converter=float, help="seconds to wait while another process writes"
    )


class LocalRecordingStream(RecordingStream):
    """A stored recording, read from the media store in chunks (checked against the catalog's
    size and sha256 as it goes)."""

    def __init__(self, row: RecordingRow, fh: IO[bytes], media: MediaStore) -> None:
        self.recording = row.recording
        self._row = row
        self._fh = fh
        self._media = media

    async def aiter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        digest = hashlib.sha256()
        size = 0
        where = self._media.display(self._row.path)
        while True:
            chunk = await anyio.to_thread.run_sync(self._read, chunk_size)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if size > self._row.size:
                raise ArchiveError(
                    f"the media file {where} is longer than archived ({self._row.size} bytes)",
                    hint=_VERIFY_HINT,
                )
            yield chunk
        if size != self._row.size or digest.hexdigest() != self._row.sha256:
            raise ArchiveError(
                f"the media file {where} is corrupt (its bytes differ from the archived "
                "sha256/size)",
                hint=_VERIFY_HINT,
            )

    def _read(self, chunk_size: int) -> bytes:
        try:
            return bytes(self._fh.read(chunk_size))
        except Exception as exc:
            raise media_error("read", self._media.display(self._row.path), exc) from exc


def _session_cursor(cursor: Cursor | None) -> SessionCursor | None:
    """The catalog's keyset cursor from a page's ``next`` (None: the first page)."""
    if cursor is None:
        return None
    part, created, ref = cursor
    return (str(part), None if created is None else str(created), str(ref))


class LocalAdapter(ArchiveAdapter):
    """The ``local`` archive backend (see the module docstring)."""

    name = "local"
    display_name = "Local archive"
    capabilities = Capabilities(
        ports={
            Capability.CATALOG_LIST,
            Capability.CATALOG_GET,
            Capability.CATALOG_DELETE,
            Capability.RECORDINGS,
            Capability.TRANSCRIPTS,
            Capability.SUMMARIES,
            Capability.PARTICIPANTS,
            Capability.CHAT,
            Capability.ARCHIVE_SINK,
        },
        filters=set(QueryFilter),
        orders=set(ListOrder),
    )
    config_class = LocalConfig
    default_page_size = 50
    max_page_size = 500
    target_option: ClassVar[str | None] = "path"
    listed_sessions_complete: ClassVar[bool] = True
    emulator: ClassVar[str | None] = None

    def __init__(self, config: LocalConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.config: LocalConfig = config
        self.folder = Path(config.path)
        self.media_root = config.media_root or str(self.folder / "media")
        self._catalog: Catalog | None = None
        self._media: MediaStore | None = None
        self._open_lock = threading.Lock()
        self._writer_lock: IO[str] | None = None

    # -- plumbing -------------------------------------------------------------------------

    def _open_sync(self) -> tuple[Catalog, MediaStore]:
        with self._open_lock:
            if self._catalog is None or self._media is None:
                catalog = Catalog.open(
                    self.folder, create=self.config.create, busy_timeout=self.config.busy_timeout
                )
                try:
                    self.media_root = self._remembered_media_root(catalog)
                    media = MediaStore(self.media_root)
                except BaseException:
                    catalog.close()
                    raise
                self._catalog, self._media = catalog, media
            return self._catalog, self._media

    def _remembered_media_root(self, catalog: Catalog) -> str:
        """The media root: the one given to ``connect``, else the one the archive was first
        given (kept in its catalog, as an absolute path or URL), else ``<path>/media`` derived
        anew on each open (so a moved or copied archive keeps finding its own media)."""
        given = self.config.media_root
        try:
            row = catalog.conn.execute(
                "SELECT value FROM settings WHERE key = 'media_root'"
            ).fetchone()
            if row is None and given:
                with catalog.transaction() as conn:
                    conn.execute(
                        "INSERT OR IGNORE INTO settings (key, value) VALUES ('media_root', ?)",
                        (_absolute_root(given),),
                    )
        except sqlite3.Error as exc:
            raise ArchiveError(
                f"could not read the settings of the archive at {self.folder}: {exc}",
                hint="run 'convoport verify' on it",
            ) from exc
        if given:
            return given
        if row is not None:
            return str(row[0])
        return str(self.folder / "media")

    async def _stores(self) -> tuple[Catalog, MediaStore]:
        if self._catalog is not None and self._media is not None:
            return self._catalog, self._media
        return await anyio.to_thread.run_sync(self._open_sync)

    async def _db(self, fn: Callable[[Catalog], T]) -> T:
        catalog, _ = await self._stores()
        return await anyio.to_thread.run_sync(fn, catalog)

    async def _fs(self, fn: Callable[[MediaStore], T]) -> T:
        _, media = await self._stores()
        return await anyio.to_thread.run_sync(fn, media)

    def _missing(self, ref: str, what: str = "session") -> NotFound:
        hint = "archive ids are 'provider:id' (e.g. gladia:abc); list them with list_sessions"
        return NotFound(
            f"{what} {ref!r} is not in the archive at {self.folder}",
            provider=self.name,
            hint=hint,
        )

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

    async def aclose(self) -> None:
        self._release_writer()
        catalog = self._catalog
        if catalog is not None:
            self._catalog = None
            self._media = None
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(catalog.close)

    # -- read ports -----------------------------------------------------------------------

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        after = _session_cursor(cursor)
        rows, nxt = await self._db(lambda c: c.list_sessions(query, after, page_size))
        return Page(items=rows, next=nxt)

    async def _get_session(self, session_id: str) -> Session:
        session = await self._db(lambda c: c.get_session(session_id))
        if session is None:
            raise self._missing(session_id)
        return session

    async def _session_for(self, session_id: str) -> Session:
        # Every per-session primitive reads by reference: no need to read the session first.
        try:
            ref = SessionRef.parse(session_id)
        except ValueError:
            raise self._missing(session_id) from None
        return Session(provider=ref.provider, id=ref.id, status=SessionStatus.PENDING)

    async def _delete_session(self, session_id: str) -> None:
        removed = await self._db(lambda c: c.delete(session_id))
        if removed is None:
            raise self._missing(session_id)

        def clean(media: MediaStore) -> None:
            for path in removed.paths:
                media.remove(path)
            media.remove_tree(session_dir(removed.source))

        await self._fs(clean)

    async def _rows(self, session_id: str) -> list[RecordingRow]:
        rows = await self._db(lambda c: c.recordings(session_id))
        if rows is None:
            raise self._missing(session_id)
        return rows

    async def _list_recordings(self, session: Session) -> list[Recording]:
        session_id = str(session.ref)
        return [row.recording for row in await self._rows(session_id)]

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        return self._open_stream(str(session.ref), recording)

    @asynccontextmanager
    async def _open_stream(
        self, session_id: str, recording: Recording
    ) -> AsyncIterator[RecordingStream]:
        rows = await self._rows(session_id)
        row = next((r for r in rows if r.recording.id == recording.id), None)
        if row is None:
            raise self._missing(f"{session_id} recording {recording.id}", "recording")

        def open_checked(media: MediaStore) -> IO[bytes]:
            size = media.size(row.path)
            if size is None:
                raise ArchiveError(
                    f"the media file {media.display(row.path)} of {session_id} is missing",
                    hint=_VERIFY_HINT,
                )
            if size != row.size:
                raise ArchiveError(
                    f"the media file {media.display(row.path)} of {session_id} is corrupt "
                    f"({size} bytes, archived {row.size})",
                    hint=_VERIFY_HINT,
                )
            return media.open_read(row.path)

        fh = await self._fs(open_checked)
        _, media = await self._stores()
        try:
            yield LocalRecordingStream(row, fh, media)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(fh.close)

    async def list_transcripts(
        self, session: str | SessionRef, *, reprocessed: bool | None = None
    ) -> list[Transcript]:
        """Every transcript of an archived session: the original first, then the ones
        re-processing added, in the order they were stored. ``reprocessed=True`` keeps only
        those added by re-processing, ``False`` only the migrated ones. Absent session:
        ``NotFound``."""
        ref = str(session)
        origin = None if reprocessed is None else ("reprocess" if reprocessed else "commit")
        transcripts = await self._db(lambda c: c.transcripts(ref, origin))
        if transcripts is None:
            raise self._missing(ref)
        return transcripts

    async def _get_transcript(self, session: Session) -> Transcript:
        session_id = str(session.ref)
        transcripts = await self.list_transcripts(session_id)
        if not transcripts:
            raise NotFound(
                f"session {session_id!r} has no transcript in the archive", provider=self.name
            )
        return transcripts[0]

    async def _get_summary(self, session: Session) -> Summary:
        session_id = str(session.ref)
        found, summary = await self._db(lambda c: c.summary(session_id))
        if not found:
            raise self._missing(session_id)
        if summary is None:
            raise NotFound(
                f"session {session_id!r} has no summary in the archive", provider=self.name
            )
        return summary

    async def _list_participants(self, session: Session) -> list[Participant]:
        session_id = str(session.ref)
        rows = await self._db(lambda c: c.participants(session_id))
        if rows is None:
            raise self._missing(session_id)
        return rows

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        session_id = str(session.ref)
        rows = await self._db(lambda c: c.chat(session_id))
        if rows is None:
            raise self._missing(session_id)
        return rows

    async def ex_raw_payload(self, session: str | SessionRef) -> JSONDict:
        """The vendor's raw payload for an archived session, as the migration stored it."""
        ref = str(session)
        raw = await self._db(lambda c: c.raw_payload(ref))
        if raw is None:
            raise self._missing(ref)
        return raw

    async def ex_ledger(self) -> list[LedgerEntry]:
        """Every migration ledger entry, ordered by source reference."""
        return await self._db(lambda c: c.ledger())

    # -- archive sink ---------------------------------------------------------------------

    async def _ledger_entry(self, source: SessionRef) -> LedgerEntry | None:
        return await self._db(lambda c: c.ledger_entry(str(source)))

    async def _store_media(
        self, source: SessionRef, recording: Recording, chunks: AsyncIterator[bytes]
    ) -> StoredMedia:
        """Streams ``chunks`` into the media file. Chunks are gathered into blocks of
        :data:`WRITE_BLOCK` bytes, and each block is hashed and written in a worker thread
        while the next one is being received (one write in flight at a time), so at most
        about three blocks are held in memory whatever the recording's size."""
        path = media_path(source, recording.id)
        _, media = await self._stores()
        opened: list[MediaWriter] = []  # the writer, made in the first write's thread

        def write(block: bytearray, *, last: bool = False) -> None:
            if not opened:
                opened.append(media.writer(path))
            if block:
                opened[0].write(block)
            if last:
                opened[0].finish()

        in_flight: asyncio.Task[None] | None = None
        try:
            buffer = bytearray()
            async for chunk in chunks:
                if not chunk:
                    continue
                buffer += chunk
                if len(buffer) >= WRITE_BLOCK:
                    if in_flight is not None:
                        await in_flight
                    # the block goes to the thread as it is; the next one is a new buffer
                    block, buffer = buffer, bytearray()
                    in_flight = asyncio.ensure_future(anyio.to_thread.run_sync(write, block))
            if in_flight is not None:
                await in_flight
            # the rest, and the rename: one trip to a thread (a small recording's only one)
            await anyio.to_thread.run_sync(lambda: write(buffer, last=True))
        except BaseException:
            with anyio.CancelScope(shield=True):
                if in_flight is not None and not in_flight.done():
                    await asyncio.wait([in_flight])  # the thread still holds the file
                if opened:
                    await anyio.to_thread.run_sync(opened[0].abort)
            raise
        writer = opened[0]
        return StoredMedia(recording=recording, path=path, size=writer.size, sha256=writer.sha256)

    async def _commit_session(self, bundle: SessionBundle) -> None:
        def check(media: MediaStore) -> None:
            for stored in bundle.media:
                size = media.size(stored.path)
                if size != stored.size:
                    found = "missing" if size is None else f"{size} bytes"
                    raise ArchiveError(
                        f"cannot commit {bundle.source}: its media file "
                        f"{media.display(stored.path)} is {found}, expected {stored.size} bytes",
                        hint="store the recording again with _store_media, then commit",
                    )

        await self._fs(check)
        unused = await self._db(lambda c: c.commit(bundle))
        if unused:

            def clean(media: MediaStore) -> None:
                for path in unused:
                    media.remove(path)

            await self._fs(clean)

    async def _record_failure(self, source: SessionRef, reason: str) -> None:
        """Marks the session failed and removes media the failed attempt stored but never
        committed (files of the session's folder that no recording row names), so a failure
        leaves no orphan behind."""
        ref = str(source)
        await self._db(lambda c: c.record_failure(ref, reason))
        try:
            keep = {row.path for row in await self._rows(ref)}
        except NotFound:
            keep = set()
        folder = session_dir(source)

        def clean(media: MediaStore) -> None:
            for path in list(media.walk(under=folder)):
                if path not in keep:
                    media.remove(path)

        await self._fs(clean)

    async def _remove_orphan(self, path: str) -> None:
        def remove(media: MediaStore) -> None:
            media.remove(check_relative(path))

        await self._fs(remove)

    async def _add_transcript(self, source: SessionRef, transcript: Transcript) -> None:
        ref = str(source)
        added = await self._db(lambda c: c.add_transcript(ref, transcript))
        if added is None:
            raise self._missing(ref)

    # -- verify ---------------------------------------------------------------------------

    async def verify(self) -> VerifyReport:
        """Re-hashes every media file (streamed), checks each recording row against its file,
        the ledger against the catalog, and lists orphan files. Nothing is changed."""
        catalog, media = await self._stores()
        report = VerifyReport(sessions=await anyio.to_thread.run_sync(catalog.session_count))
        for problem in await anyio.to_thread.run_sync(catalog.integrity_problems):
            report.corrupt.append(VerifyIssue(detail=f"catalog {catalog.path}: {problem}"))
        rows = await anyio.to_thread.run_sync(catalog.all_recordings)
        known: set[str] = set()
        for row in rows:
            known.add(row.path)
            issue = await anyio.to_thread.run_sync(self._check_file, media, row)
            report.checked += 1
            if issue is None:
                report.checked_bytes += row.size
            elif issue[0] == "missing":
                report.missing.append(issue[1])
            else:
                report.corrupt.append(issue[1])
        for path in await anyio.to_thread.run_sync(lambda: sorted(media.walk())):
            if path not in known:
                report.orphans.append(VerifyIssue(path=path, detail="no recording row names it"))
        for ref, detail in await anyio.to_thread.run_sync(catalog.ledger_mismatches):
            report.ledger_mismatches.append(VerifyIssue(ref=ref, detail=detail))
        return report

    @staticmethod
    def _check_file(media: MediaStore, row: RecordingRow) -> tuple[str, VerifyIssue] | None:
        if media.size(row.path) is None:
            return "missing", VerifyIssue(ref=row.ref, path=row.path, detail="the file is missing")
        size, sha256 = media.hash(row.path)
        if size != row.size or sha256 != row.sha256:
            detail = (
                f"size {size} bytes, sha256 {sha256[:16]}…; archived {row.size} bytes, "
                f"sha256 {row.sha256[:16]}…"
            )
            return "corrupt", VerifyIssue(ref=row.ref, path=row.path, detail=detail)
        return None


__all__ = ["LocalAdapter", "LocalConfig", "LocalRecordingStream", "VerifyIssue", "VerifyReport"]
