"""The blocking twin of :class:`convoport.AsyncClient`.

The async client is the implementation. :class:`SyncClient` runs it on one background event
loop thread (an anyio blocking portal) and offers the same methods with the same signatures;
only ``aclose`` is ``close``, async iterators are iterators, and async context managers are
context managers. A test compares the two classes mechanically.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from types import TracebackType
from typing import IO, Any, Self, TypeVar

from convoport.adapter import RecordingStream
from convoport.capabilities import Capabilities, ListOrder
from convoport.client import AsyncClient, SessionLike
from convoport.errors import ConfigError
from convoport.live import IngestResult, LiveEvent, LiveOptions, LiveSessionBase
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

T = TypeVar("T")


class _Portal:
    """One event loop on a daemon thread, stopped when the client closes (or is collected).

    A daemon thread, not anyio's blocking portal, so that a client somebody forgot to close
    never keeps the interpreter from exiting.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="convoport-sync", daemon=True
        )
        self._thread.start()

    @property
    def on_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        loop = self._loop
        if loop is None:
            raise ConfigError("this client is closed")
        if self.on_loop_thread:
            raise ConfigError("a sync client cannot be used from inside its own event loop")
        return asyncio.run_coroutine_threadsafe(fn(*args), loop).result()

    def submit(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Schedules ``fn`` on the loop without waiting (safe from any thread)."""
        loop = self._loop
        if loop is None:
            return
        if self.on_loop_thread:
            loop.create_task(fn(*args))
        else:
            asyncio.run_coroutine_threadsafe(fn(*args), loop)

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """Drives an async iterator from this thread, one item per round trip; leaving early
        closes it on the loop."""

        async def step() -> tuple[bool, Any]:
            try:
                return True, await anext(iterator)
            except StopAsyncIteration:
                return False, None

        try:
            while True:
                more, item = self.call(step)
                if not more:
                    return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and self._loop is not None:
                if self.on_loop_thread:  # collected on the loop's own thread: do not wait
                    self.submit(aclose)
                else:
                    with suppress(ConfigError):
                        self.call(aclose)

    def shutdown(self, client: AsyncClient | None = None) -> None:
        """Closes ``client`` (if given) on the loop, cancels what is still running there,
        stops the loop and its thread. Safe from any thread, and twice."""
        loop = self._loop
        if loop is None:
            return

        async def finish() -> None:
            if client is not None:
                with suppress(Exception):
                    await client.aclose()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()
            loop.call_soon(loop.stop)

        if self.on_loop_thread:
            self._loop = None
            loop.create_task(finish())  # the thread ends after this callback returns
            return
        try:
            asyncio.run_coroutine_threadsafe(finish(), loop).result(timeout=30)
        except Exception:  # the loop is stuck; stop it anyway
            loop.call_soon_threadsafe(loop.stop)
        self._loop = None
        self._thread.join(timeout=10)
        if not loop.is_running():
            loop.close()


class SyncRecordingStream:
    """A recording open for reading: ``recording`` and ``iter_bytes()``."""

    def __init__(self, stream: RecordingStream, portal: _Portal, owner: SyncClient) -> None:
        self._stream = stream
        self._portal = portal
        self._owner = owner  # keeps the client (and its loop) alive while this is in use
        self.recording = stream.recording

    def iter_bytes(self, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The media bytes in chunks of at most ``chunk_size`` bytes."""
        yield from self._portal.iterate(self._stream.aiter_bytes(chunk_size))


class SyncLiveSession:
    """The blocking twin of a live session handle (a context manager)."""

    def __init__(self, live: LiveSessionBase, portal: _Portal, owner: SyncClient) -> None:
        self._live = live
        self._portal = portal
        self._owner = owner  # keeps the client (and its loop) alive while this is in use

    @property
    def session_id(self) -> str:
        return self._live.session_id

    @property
    def result(self) -> IngestResult:
        return self._live.result

    @property
    def transcript(self) -> Transcript:
        return self._live.transcript

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._portal.call(self._live.__aexit__, exc_type, exc, tb)

    def send_audio(self, data: bytes) -> None:
        self._portal.call(self._live.send_audio, data)

    def finalize(self) -> None:
        self._portal.call(self._live.finalize)

    def cancel(self) -> None:
        self._portal.call(self._live.cancel)

    def keepalive(self) -> None:
        self._portal.call(self._live.keepalive)

    def events(self) -> Iterator[LiveEvent]:
        yield from self._portal.iterate(self._live.events())

    def wait(self) -> IngestResult:
        return self._portal.call(self._live.wait)


class SyncClient:
    """A blocking client: the same methods as :class:`AsyncClient`, without ``await``.

    Use it as a context manager (or call :meth:`close`) to stop its event-loop thread and
    close its connections.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._portal = _Portal()
        # A client dropped without close() still closes its connections and stops its thread
        # (objects it handed out keep it alive while they are in use).
        self._finalizer = weakref.finalize(self, self._portal.shutdown, client)

    def __repr__(self) -> str:
        return f"SyncClient(provider={self.provider!r})"

    @property
    def provider(self) -> str:
        return self._client.provider

    @property
    def capabilities(self) -> Capabilities:
        return self._client.capabilities

    @property
    def adapter(self) -> Any:
        return self._client.adapter

    @property
    def async_client(self) -> AsyncClient:
        """The async client this one drives."""
        return self._client

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections and stops the event-loop thread. Safe to call twice."""
        self._finalizer()

    def list_sessions(
        self,
        query: SessionQuery | None = None,
        *,
        order: ListOrder | str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> Iterator[Session]:
        # A generator of this client's, so the client lives as long as the iteration; one
        # trip to the event loop per page, not per session.
        pages = self._client._list_pages(query, order=order, page_size=page_size, limit=limit)
        for sessions in self._portal.iterate(pages):
            yield from sessions

    def get_session(self, session: SessionLike) -> Session:
        return self._portal.call(self._client.get_session, session)

    def delete_session(self, session: SessionLike) -> None:
        self._portal.call(self._client.delete_session, session)

    def list_recordings(self, session: SessionLike) -> list[Recording]:
        return self._portal.call(self._client.list_recordings, session)

    def open_recording(
        self, session: SessionLike, *, recording_id: str | None = None
    ) -> AbstractContextManager[SyncRecordingStream]:
        return self._open(session, recording_id)

    @contextmanager
    def _open(
        self, session: SessionLike, recording_id: str | None
    ) -> Iterator[SyncRecordingStream]:
        cm = self._client.open_recording(session, recording_id=recording_id)
        stream = self._portal.call(cm.__aenter__)
        try:
            yield SyncRecordingStream(stream, self._portal, self)
        except BaseException as exc:
            if not self._portal.call(cm.__aexit__, type(exc), exc, exc.__traceback__):
                raise
        else:
            self._portal.call(cm.__aexit__, None, None, None)

    def download_recording(
        self,
        session: SessionLike,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        recording_id: str | None = None,
        on_chunk: Callable[[Recording, bytes], None] | None = None,
    ) -> Recording:
        async def run() -> Recording:
            return await self._client.download_recording(
                session, destination, recording_id=recording_id, on_chunk=on_chunk
            )

        return self._portal.call(run)

    def get_transcript(self, session: SessionLike) -> Transcript:
        return self._portal.call(self._client.get_transcript, session)

    def get_summary(self, session: SessionLike) -> Summary:
        return self._portal.call(self._client.get_summary, session)

    def list_participants(self, session: SessionLike) -> list[Participant]:
        return self._portal.call(self._client.list_participants, session)

    def list_chat(self, session: SessionLike) -> list[ChatMessage]:
        return self._portal.call(self._client.list_chat, session)

    def start_live(self, options: LiveOptions | None = None) -> SyncLiveSession:
        live = self._portal.call(self._client.start_live, options)
        return SyncLiveSession(live, self._portal, self)

    def analyze(
        self, media: MediaInput | MediaSource, options: LiveOptions | None = None
    ) -> IngestResult:
        return self._portal.call(self._client.analyze, media, options)

    def ingest(
        self,
        result: IngestResult,
        *,
        media: MediaInput | MediaSource | None = None,
        filename: str | None = None,
        media_type: str | None = None,
    ) -> SessionRef:
        async def run() -> SessionRef:
            return await self._client.ingest(
                result, media=media, filename=filename, media_type=media_type
            )

        return self._portal.call(run)


__all__ = ["SyncClient", "SyncLiveSession", "SyncRecordingStream"]
