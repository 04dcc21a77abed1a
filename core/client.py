"""The async client: the user API over any adapter.

Every public method lives here once: it checks the capability (``UnsupportedOperation`` before
any I/O), checks its arguments, calls the adapter's primitive, and turns any surprise from
a vendor payload (``KeyError``, ``ValueError`` …) into ``MalformedResponse``. The sync twin
(:mod:`convoport.sync`) has the same methods with the same signatures.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Self, TypeVar

import attrs
import cattrs

from convoport.adapter import Adapter, RecordingStream
from convoport.archive import as_archive
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
from convoport.errors import (
    ConfigError,
    ConvoportError,
    MalformedResponse,
    NotFound,
    UnsupportedOperation,
    redact_error,
)
from convoport.live import IngestResult, LiveOptions, LiveSessionBase
from convoport.media import MediaInput, MediaSource
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    Summary,
    Transcript,
)
from convoport.pagination import Cursor, Page, paginate_pages

T = TypeVar("T")
logger = logging.getLogger("convoport")

#: A session given by id, by ``"provider:id"`` reference, or as a ``Session``.
SessionLike = str | SessionRef | Session

_TRANSLATION_ERRORS = (
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    ArithmeticError,  # OverflowError: float(10**400)
    RecursionError,
    cattrs.BaseValidationError,
)


class AsyncClient:
    """A connection to one backend. Use it as an async context manager (or call
    :meth:`aclose`), which closes its connections.

    Obtain one with :func:`convoport.connect`.
    """

    def __init__(self, adapter: Adapter) -> None:
        self._adapter = adapter
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncClient(provider={self.provider!r})"

    @property
    def provider(self) -> str:
        """The backend's name (``"gladia"``)."""
        return self._adapter.name

    @property
    def capabilities(self) -> Capabilities:
        """What the backend declares it can do."""
        return self._adapter.capabilities

    @property
    def adapter(self) -> Adapter:
        """The adapter (for adapter-specific extensions documented by each adapter)."""
        return self._adapter

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the backend's connections. Safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._adapter.aclose()

    # -- catalog --------------------------------------------------------------------------

    async def list_sessions(
        self,
        query: SessionQuery | None = None,
        *,
        order: ListOrder | str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncGenerator[Session, None]:
        """Every session matching ``query``, each once, in ``order`` (``"newest"`` or
        ``"oldest"`` first by creation time; default: newest first wherever the backend can
        give it — ``capabilities.orders`` says what it can). An order the backend cannot give
        raises ``UnsupportedOperation`` before any I/O. ``page_size`` is items per request
        (capped by the adapter); ``limit`` stops after that many sessions."""
        async with contextlib.aclosing(
            self._list_pages(query, order=order, page_size=page_size, limit=limit)
        ) as pages:
            async for sessions in pages:
                for session in sessions:
                    yield session

    async def _list_pages(
        self,
        query: SessionQuery | None = None,
        *,
        order: ListOrder | str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncGenerator[list[Session], None]:
        """:meth:`list_sessions` a page at a time (the sync twin crosses threads once per
        page with it): the sessions of each page after the local filters, the last one cut at
        ``limit``, empty pages left out; a page is fetched only when the caller asks for more.
        Every argument is checked before the first request."""
        self._require(Capability.CATALOG_LIST)
        query = self._ordered(query or SessionQuery(), order)
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be >= 0, got {limit}")
        if limit == 0:
            return
        size = self._adapter.default_page_size if page_size is None else page_size
        if size < 1:
            raise ConfigError(f"page_size must be >= 1, got {page_size}")
        size = min(size, self._adapter.max_page_size)
        local_filter = self._local_filters(query)

        async def fetch(cursor: Cursor | None) -> Page[Session]:
            return await self._call(
                "list sessions", lambda: self._adapter._list_sessions_page(query, cursor, size)
            )

        left = limit
        # An archive holds sessions of several providers: identity is (provider, id).
        async for items in paginate_pages(
            fetch, provider=self.provider, key=lambda s: (s.provider, s.id)
        ):
            sessions = [s for s in items if query.matches(s)] if local_filter else items
            if left is not None:
                sessions = sessions[:left]
                left -= len(sessions)
            if sessions:
                yield sessions
            if left == 0:
                return

    def _ordered(self, query: SessionQuery, order: ListOrder | str | None) -> SessionQuery:
        """``query`` with its order resolved against what the backend declares."""
        try:
            asked = None if order is None else ListOrder(order)
        except ValueError:
            raise ConfigError(
                f"order must be newest or oldest, got {order!r}", hint="order='newest'"
            ) from None
        if asked is not None and query.order is not None and asked is not query.order:
            raise ConfigError(
                f"order={asked.value!r} contradicts the query's order {query.order.value!r}"
            )
        wanted = asked or query.order
        declared = self._adapter.capabilities.orders
        if wanted is None:
            wanted = self._adapter.capabilities.default_order
        elif wanted not in declared:
            can = ", ".join(sorted(o.value for o in declared)) or "only the vendor's own order"
            raise UnsupportedOperation(
                f"order {wanted.value}", self.provider, detail=f"this backend lists {can}"
            )
        return attrs.evolve(query, order=wanted)

    def _local_filters(self, query: SessionQuery) -> bool:
        """Whether some filter in ``query`` must be applied here (the backend does not)."""
        declared = self._adapter.capabilities.filters
        if query.search is not None and QueryFilter.SEARCH not in declared:
            raise UnsupportedOperation(
                f"filter {QueryFilter.SEARCH.value}",
                self.provider,
                detail="this backend has no free-text search",
            )
        used = {
            QueryFilter.CREATED_AFTER: query.created_after is not None,
            QueryFilter.CREATED_BEFORE: query.created_before is not None,
            QueryFilter.CREATED_ON: query.created_on is not None,
            QueryFilter.STATUS: query.statuses is not None,
            QueryFilter.METADATA: bool(query.metadata),
        }
        return any(on and f not in declared for f, on in used.items())

    async def get_session(self, session: SessionLike) -> Session:
        """One session by id or reference. Missing: ``NotFound``."""
        self._require(Capability.CATALOG_GET)
        sid = self._session_id(session)
        return await self._call("get session", lambda: self._adapter._get_session(sid))

    async def delete_session(self, session: SessionLike) -> None:
        """Deletes a session and what the vendor stores with it."""
        self._require(Capability.CATALOG_DELETE)
        sid = self._session_id(session)
        await self._call("delete session", lambda: self._adapter._delete_session(sid))

    # -- artifacts ------------------------------------------------------------------------

    async def list_recordings(self, session: SessionLike) -> list[Recording]:
        """The media files of a session (possibly none)."""
        self._require(Capability.RECORDINGS)
        target = await self._session(session)
        return await self._call("list recordings", lambda: self._adapter._list_recordings(target))

    def open_recording(
        self, session: SessionLike, *, recording_id: str | None = None
    ) -> AbstractAsyncContextManager[RecordingStream]:
        """Opens a recording for streaming (the first one when ``recording_id`` is None)::

        async with client.open_recording("abc") as rec:
            async for chunk in rec.aiter_bytes():
                ...
        """
        self._require(Capability.RECORDINGS)
        self._session_id(session)  # argument errors at the call, before any I/O
        return self._open_recording(session, recording_id)

    @asynccontextmanager
    async def _open_recording(
        self, session: SessionLike, recording_id: str | None
    ) -> AsyncIterator[RecordingStream]:
        target = await self._session(session)
        recording = await self._pick_recording(target, recording_id)
        try:
            cm = self._adapter._open_recording(target, recording)
            stream = await cm.__aenter__()
        except ConvoportError as exc:
            redact_error(exc, self._adapter.redactor)
            raise
        except _TRANSLATION_ERRORS as exc:
            raise self._malformed("open recording", exc) from exc
        try:
            yield stream
        except BaseException as exc:
            if not await cm.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await cm.__aexit__(None, None, None)

    async def _pick_recording(self, session: Session, recording_id: str | None) -> Recording:
        sid = session.id
        recordings = await self.list_recordings(session)
        if recording_id is None:
            if not recordings:
                raise NotFound(f"session {sid} has no recording", provider=self.provider)
            return recordings[0]
        for recording in recordings:
            if recording.id == recording_id:
                return recording
        raise NotFound(
            f"session {sid} has no recording {recording_id!r}",
            provider=self.provider,
            hint="available: " + (", ".join(r.id for r in recordings) or "none"),
        )

    async def download_recording(
        self,
        session: SessionLike,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        recording_id: str | None = None,
        on_chunk: Callable[[Recording, bytes], None] | None = None,
    ) -> Recording:
        """Streams a recording to a path, a folder or a binary file object, in constant memory.

        A folder receives the file under the recording's own file name (its last path part
        only). A path is written to ``<path>.part`` and renamed when complete, so a failed
        download never leaves a truncated file under the final name. ``on_chunk(recording,
        chunk)`` sees every chunk as it is written (progress, a checksum). Returns the
        recording with ``size`` set to the bytes written and ``filename`` to the file's name
        when written to a path.
        """
        self._require(Capability.RECORDINGS)
        self._session_id(session)
        written = 0
        async with self._open_recording(session, recording_id) as stream:
            recording = stream.recording
            if isinstance(destination, (str, os.PathLike)):
                final = Path(destination)
                if final.is_dir():  # noqa: ASYNC240 (one stat before the download starts)
                    final = final / _safe_filename(recording)
                partial = final.with_name(final.name + ".part")
                try:
                    with partial.open("wb") as fh:
                        async for chunk in stream.aiter_bytes():
                            fh.write(chunk)
                            written += len(chunk)
                            if on_chunk is not None:
                                on_chunk(recording, chunk)
                    partial.replace(final)
                except OSError as exc:
                    if exc.filename is None:  # a failed write (disk full) names no file
                        raise OSError(exc.errno, exc.strerror, str(partial)) from exc
                    raise
                finally:
                    with contextlib.suppress(OSError):
                        partial.unlink(missing_ok=True)
                recording = attrs.evolve(recording, filename=final.name)
            else:
                async for chunk in stream.aiter_bytes():
                    destination.write(chunk)
                    written += len(chunk)
                    if on_chunk is not None:
                        on_chunk(recording, chunk)
        return attrs.evolve(recording, size=written)

    async def get_transcript(self, session: SessionLike) -> Transcript:
        """The session's transcript."""
        self._require(Capability.TRANSCRIPTS)
        target = await self._session(session)
        return await self._call("get transcript", lambda: self._adapter._get_transcript(target))

    async def get_summary(self, session: SessionLike) -> Summary:
        """The session's summary. None produced: ``NotFound``."""
        self._require(Capability.SUMMARIES)
        target = await self._session(session)
        return await self._call("get summary", lambda: self._adapter._get_summary(target))

    async def list_participants(self, session: SessionLike) -> list[Participant]:
        """Who took part in the session."""
        self._require(Capability.PARTICIPANTS)
        target = await self._session(session)
        return await self._call(
            "list participants", lambda: self._adapter._list_participants(target)
        )

    async def list_chat(self, session: SessionLike) -> list[ChatMessage]:
        """The chat messages sent during the session, in time order."""
        self._require(Capability.CHAT)
        target = await self._session(session)
        return await self._call("list chat", lambda: self._adapter._list_chat(target))

    # -- ingest ---------------------------------------------------------------------------

    async def start_live(self, options: LiveOptions | None = None) -> LiveSessionBase:
        """Starts a live session; use the handle as an async context manager."""
        self._require(Capability.LIVE_INGEST)
        opts = options or LiveOptions()
        return await self._call("start live session", lambda: self._adapter._start_live(opts))

    async def analyze(
        self, media: MediaInput | MediaSource, options: LiveOptions | None = None
    ) -> IngestResult:
        """Sends a recording (path, bytes or byte chunks, streamed) for batch analysis."""
        self._require(Capability.BATCH_INGEST)
        source = MediaSource.of(media)
        opts = options or LiveOptions()
        return await self._call("analyze", lambda: self._adapter._analyze(source, opts))

    # -- archive --------------------------------------------------------------------------

    async def ingest(
        self,
        result: IngestResult,
        *,
        media: MediaInput | MediaSource | None = None,
        filename: str | None = None,
        media_type: str | None = None,
    ) -> SessionRef:
        """Stores what a live session or a batch analysis produced in this archive — the
        session, its transcript, its summary and, when given, the audio that was sent
        (streamed) — in one commit, keyed by the session's reference (which it returns).
        Storing it again replaces it. Only archives can: ``UnsupportedOperation`` otherwise."""
        self._require(Capability.ARCHIVE_SINK)
        archive = as_archive(self._adapter)
        return await self._call(
            "ingest",
            lambda: archive.ingest(result, media=media, filename=filename, media_type=media_type),
        )

    # -- helpers --------------------------------------------------------------------------

    def _require(self, capability: Capability) -> None:
        if self._closed:
            raise ConfigError(f"this {self.provider} client is closed")
        if capability not in self._adapter.capabilities.ports:
            raise UnsupportedOperation(capability.value, self.provider)

    def _session_id(self, session: SessionLike) -> str:
        if isinstance(session, (Session, SessionRef)):
            ref = session.ref if isinstance(session, Session) else session
            if ref.provider == self.provider:
                return ref.id
            if Capability.ARCHIVE_SINK in self._adapter.capabilities.ports:
                return str(ref)  # an archive keys sessions by the source's "provider:id"
            raise ConfigError(f"session {ref} belongs to {ref.provider}, not {self.provider}")
        if not isinstance(session, str) or not session.strip():
            raise ConfigError(f"a session id must be a non-empty string, got {session!r}")
        if "\x00" in session:
            raise ConfigError("a session id cannot contain NUL")
        try:
            session.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(
                f"the session id {session.encode('utf-8', 'backslashreplace').decode()!r} is not "
                "valid Unicode text (it holds a lone surrogate)",
                hint="pass the id the vendor gave (see 'convoport sessions list')",
            ) from None
        return session

    async def _session(self, session: SessionLike) -> Session:
        """The ``Session`` an artifact primitive receives: the caller's own (a ``Session`` of
        this backend, or any session for an archive, which keys them by reference), else the
        adapter's ``_session_for`` the id."""
        if isinstance(session, Session) and (
            session.provider == self.provider
            or Capability.ARCHIVE_SINK in self._adapter.capabilities.ports
        ):
            return session
        sid = self._session_id(session)
        return await self._call("get session", lambda: self._adapter._session_for(sid))

    async def _call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        except ConvoportError as exc:
            # What the vendor echoed (a request id, a value quoted in a MalformedResponse)
            # may hold a configured secret: every error leaves through the redactor.
            redact_error(exc, self._adapter.redactor)
            raise
        except NotImplementedError:
            raise UnsupportedOperation(
                what, self.provider, detail="declared but not implemented by the adapter"
            ) from None
        except _TRANSLATION_ERRORS as exc:
            raise self._malformed(what, exc) from exc

    def _malformed(self, what: str, exc: BaseException) -> MalformedResponse:
        detail = str(exc)
        if isinstance(exc, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(exc)) or detail
        logger.debug("%s: %s failed to translate", self.provider, what, exc_info=True)
        return MalformedResponse(
            f"could not read the answer to {what}: {type(exc).__name__}: "
            f"{self._adapter.redactor.text(detail)[:300]}",
            provider=self.provider,
            hint="the vendor's API may have changed; run with --debug and report it",
        )


def _safe_filename(recording: Recording) -> str:
    """The recording's file name without any folder part (never ``.``/``..``)."""
    name = Path((recording.filename or "").replace("\\", "/")).name
    if name in ("", ".", ".."):
        name = f"{recording.id or 'recording'}.bin"
    return name


__all__ = ["AsyncClient", "SessionLike"]
