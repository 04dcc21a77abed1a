"""The archive port served on a SQL catalog and a media store: what the ``local`` (SQLite)
and ``postgresql`` backends share.

:class:`SqlArchive` implements every read port (catalog list/get/delete, recordings,
transcripts, summaries, participants, chat) and the archive sink on a
:class:`~convoport.store.catalog.Catalog` and a :class:`~convoport.store.media.MediaStore`.
A backend subclasses it and says how its catalog is opened (:meth:`SqlArchive._open_catalog`,
blocking, in a worker thread), where its media go by default, how the writer claim works, and
whether several writers may share it (``multi_writer``: sessions are then claimed one by one
with a lease, see :mod:`convoport.archive`).

Behaviour both backends share:

* sessions are keyed by their source's reference (``"gladia:abc"``); every list filter runs
  in SQL (keyset paging, newest first unless ``order="oldest"``);
* ``get_transcript`` returns the original transcript (the one the migration copied), or, when
  there is none, the first one re-processing added;
* ``delete_session`` removes the rows, the media files and the session's ledger entry;
* reading a recording whose file is missing, has the wrong size or the wrong sha256 raises
  ``ArchiveError`` naming the file and suggesting ``convoport verify`` (a hash mismatch is
  detected at the end of the stream, so a download never completes with corrupt bytes);
* media are written in blocks of :data:`WRITE_BLOCK` bytes from a worker thread while the next
  block is received: constant memory whatever the recording's size.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import IO, TYPE_CHECKING, ClassVar, TypeVar

import anyio
import anyio.to_thread

from convoport.adapter import ConnectOptions, RecordingStream
from convoport.archive import (
    ArchiveAdapter,
    Claim,
    LedgerEntry,
    SessionBundle,
    StoredMedia,
    VerifyIssue,
    VerifyReport,
)
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
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

from .media import (
    CHUNK_SIZE,
    MediaStore,
    MediaWriter,
    check_relative,
    media_error,
    media_path,
    session_dir,
)

if TYPE_CHECKING:  # the catalog (and SQLAlchemy) load when an archive is opened, not before
    from .catalog import Catalog, RecordingRow, SessionCursor

#: Bytes a recording is written to the media store in (gathered from the source's chunks).
WRITE_BLOCK = 1 << 20

T = TypeVar("T")

_VERIFY_HINT = "run 'convoport verify' on the archive"


def absolute_root(root: str) -> str:
    """A media root that means the same from any working directory (URLs are kept)."""
    if "://" in root:
        return root
    from pathlib import Path

    return str(Path(root).expanduser().resolve())


class ArchivedRecordingStream(RecordingStream):
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


def _dead_here(holder: str | None) -> bool:
    """Whether a claim's holder (``host:pid:token``) was a process of this machine that no
    longer runs. Unsure (another machine, a process of another user): False."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class SqlArchive(ArchiveAdapter):
    """An archive on a SQL catalog and a media store (see the module docstring)."""

    #: every read port and the sink, every filter and order: the catalog serves them all
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
    listed_sessions_complete: ClassVar[bool] = True
    emulator: ClassVar[str | None] = None
    #: seconds a session claim lasts unless renewed (several writers only)
    claim_lease: float = 60.0

    def __init__(self, config: object, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.media_root: str | None = None
        self._catalog: Catalog | None = None
        self._media: MediaStore | None = None
        self._open_lock = threading.Lock()
        #: who this connection is when it claims sessions (host, process, connection)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None

    # -- what a backend says --------------------------------------------------------------

    @property
    @abc.abstractmethod
    def where(self) -> str:
        """The archive as messages name it (a folder, or a URL without its password)."""

    @abc.abstractmethod
    def _open_catalog(self) -> Catalog:
        """Opens the catalog (blocking; creating or upgrading it as the config allows)."""

    @abc.abstractmethod
    def _choose_media_root(self, catalog: Catalog) -> str:
        """The media root to use, given the catalog (which may remember one)."""

    # -- session claims (several writers) -------------------------------------------------

    async def _claim(self, source: SessionRef, *, again: bool = False) -> Claim:
        """Claims ``source`` for :attr:`claim_lease` seconds when ``multi_writer`` (the
        claim is renewed every third of the lease while this connection holds it); a
        single-writer archive answers ``claimed``."""
        if not self.multi_writer:
            return Claim(state="claimed")
        ref = str(source)
        state = await self._db(lambda c: c.claim(ref, self.holder, self.claim_lease, again=again))
        dead = state.holder if state.state == "held" and _dead_here(state.holder) else None
        if dead is not None:  # a killed run of this machine: no need to wait for its lease
            state = await self._db(
                lambda c: c.claim(ref, self.holder, self.claim_lease, take_from=dead, again=again)
            )
        if state.state == "claimed":
            self._held.add(ref)
            self._start_renewing()
            return Claim(state="claimed", holder=self.holder)
        wait = None if state.expires_at is None else max(0.0, state.expires_at - state.now)
        return Claim(state=state.state, holder=state.holder, wait=wait)

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.ensure_future(self._renew_claims())

    async def _renew_claims(self) -> None:
        """Extends this connection's claims every third of the lease while it holds any."""
        while self._held:
            await anyio.sleep(self.claim_lease / 3)
            held = sorted(self._held)
            if not held:
                break
            try:
                lost = await self._db(
                    lambda c, held=held: c.renew(held, self.holder, self.claim_lease)  # type: ignore[misc]
                )
            except ArchiveError:
                continue  # the commit's own check decides; try again at the next beat
            self._held -= lost

    async def _release_claims(self) -> None:
        task, self._renewer = self._renewer, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        held, self._held = sorted(self._held), set()
        if held and self._catalog is not None:
            catalog = self._catalog
            for ref in held:
                with contextlib.suppress(ArchiveError):  # else it lapses with its lease
                    await anyio.to_thread.run_sync(catalog.release, ref, self.holder)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._release_claims()
        await self._release_writer_claim()
        catalog = self._catalog
        if catalog is not None:
            self._catalog = None
            self._media = None
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(catalog.close)

    async def _release_writer_claim(self) -> None:
        """Gives up the writer claim when the connection closes."""
        await self.release_writer()

    # -- plumbing -------------------------------------------------------------------------

    def _open_sync(self) -> tuple[Catalog, MediaStore]:
        with self._open_lock:
            if self._catalog is None or self._media is None:
                catalog = self._open_catalog()
                try:
                    self.media_root = self._choose_media_root(catalog)
                    media = MediaStore(self.media_root)
                except BaseException:
                    catalog.close()
                    raise
                self._catalog, self._media = catalog, media
            return self._catalog, self._media

    async def _stores(self) -> tuple[Catalog, MediaStore]:
        if self._catalog is not None and self._media is not None:
            return self._catalog, self._media
        return await anyio.to_thread.run_sync(self._open_sync)

    async def _db(self, fn: Callable[[Catalog], T]) -> T:
        catalog, _ = await self._stores()
        return await anyio.to_thread.run_sync(fn, catalog)

    async def _read(self, fn: Callable[[Catalog], T]) -> T:
        """A read: on the calling thread when the catalog allows it (:meth:`Catalog.read_now`:
        SQLite, no write under way, a bounded amount of row text), else in a worker
        thread."""
        from .catalog import ReadElsewhere  # loaded with the catalog by _stores

        catalog, _ = await self._stores()
        try:
            return catalog.read_now(fn)
        except ReadElsewhere:
            return await anyio.to_thread.run_sync(fn, catalog)

    async def _fs(self, fn: Callable[[MediaStore], T]) -> T:
        _, media = await self._stores()
        return await anyio.to_thread.run_sync(fn, media)

    def _missing(self, ref: str, what: str = "session") -> NotFound:
        hint = "archive ids are 'provider:id' (e.g. gladia:abc); list them with list_sessions"
        return NotFound(
            f"{what} {ref!r} is not in the archive at {self.where}",
            provider=self.name,
            hint=hint,
        )

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        after = _session_cursor(cursor)
        rows, nxt = await self._read(lambda c: c.list_sessions(query, after, page_size))
        return Page(items=rows, next=nxt)

    async def _get_session(self, session_id: str) -> Session:
        session = await self._read(lambda c: c.get_session(session_id))
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
        rows = await self._read(lambda c: c.recordings(session_id))
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
            yield ArchivedRecordingStream(row, fh, media)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(fh.close)

    async def list_transcripts(
        self, session: str | SessionRef, *, reprocessed: bool | None = None
    ) -> list[Transcript]:
        """See :meth:`ArchiveAdapter.list_transcripts`."""
        ref = str(session)
        origin = None if reprocessed is None else ("reprocess" if reprocessed else "commit")
        transcripts = await self._read(lambda c: c.transcripts(ref, origin))
        if transcripts is None:
            raise self._missing(ref)
        return transcripts

    async def _get_transcript(self, session: Session) -> Transcript:
        session_id = str(session.ref)
        found, transcript = await self._read(lambda c: c.first_transcript(session_id))
        if not found:
            raise self._missing(session_id)
        if transcript is None:
            raise NotFound(
                f"session {session_id!r} has no transcript in the archive", provider=self.name
            )
        return transcript

    async def _get_summary(self, session: Session) -> Summary:
        session_id = str(session.ref)
        found, summary = await self._read(lambda c: c.summary(session_id))
        if not found:
            raise self._missing(session_id)
        if summary is None:
            raise NotFound(
                f"session {session_id!r} has no summary in the archive", provider=self.name
            )
        return summary

    async def _list_participants(self, session: Session) -> list[Participant]:
        session_id = str(session.ref)
        rows = await self._read(lambda c: c.participants(session_id))
        if rows is None:
            raise self._missing(session_id)
        return rows

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        session_id = str(session.ref)
        rows = await self._read(lambda c: c.chat(session_id))
        if rows is None:
            raise self._missing(session_id)
        return rows

    async def ex_raw_payload(self, session: str | SessionRef) -> JSONDict:
        """The vendor's raw payload for an archived session, as the migration stored it."""
        ref = str(session)
        raw = await self._read(lambda c: c.raw_payload(ref))
        if raw is None:
            raise self._missing(ref)
        return raw

    async def ex_ledger(self) -> list[LedgerEntry]:
        """Every migration ledger entry, ordered by source reference."""
        return await self._db(lambda c: c.ledger())

    # -- archive sink ---------------------------------------------------------------------

    async def _ledger_entry(self, source: SessionRef) -> LedgerEntry | None:
        return await self._read(lambda c: c.ledger_entry(str(source)))

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

        catalog, media = await self._stores()
        ref = str(bundle.source)
        holder = self.holder if ref in self._held else None

        committing: list[bool] = []

        def check_and_commit() -> list[str]:
            # one trip to a worker thread for both: the media are checked, then committed
            check(media)
            committing.append(True)
            return catalog.commit(bundle, holder)

        try:
            unused = await anyio.to_thread.run_sync(check_and_commit)
        finally:
            # a commit tried ends the claim (or found it lost); a refused check leaves it held,
            # for _record_failure to release
            if committing:
                self._held.discard(ref)
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
        holder = self.holder if ref in self._held else None
        try:
            await self._db(lambda c: c.record_failure(ref, reason, holder))
        finally:
            self._held.discard(ref)
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

    async def media_checksums(self) -> dict[str, tuple[tuple[str, int, str], ...]]:
        found: dict[str, list[tuple[str, int, str]]] = {}
        for row in await self._db(lambda c: c.all_recordings()):
            found.setdefault(row.ref, []).append((row.recording.id, row.size, row.sha256))
        return {ref: tuple(rows) for ref, rows in found.items()}

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
            report.corrupt.append(VerifyIssue(detail=f"catalog {catalog.where}: {problem}"))
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


__all__ = ["WRITE_BLOCK", "ArchivedRecordingStream", "SqlArchive", "absolute_root"]
