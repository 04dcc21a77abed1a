"""Live ingest: the neutral events, the options, and the handle both live vendors share.

A live session is opened with ``client.start_live(options)`` and used as an async context
manager::

    async with await client.start_live(LiveOptions(sample_rate=16000)) as live:
        await live.send_audio(pcm_bytes)
        await live.finalize()
        async for event in live.events():
            ...
    result = live.result          # Session + Transcript (+ Summary) built from what arrived

Events are the classes below; ``VendorEvent`` passes through whatever a vendor sends that has
no neutral meaning (Illocution's emotion, Gladia's named entities), with its data.

Adapters subclass :class:`LiveSessionBase` (its docstring lists the protected API): a handle
says how to connect, how to send and how to translate; the base class keeps the event queue,
the single-consumer rule, the reconnect loop and its backoff (the one formula of
:meth:`convoport.http.RetryPolicy.delay`), the transcript assembled from final utterances
(partials replaced by id), the last summary, and builds the final ``Session`` and
``Transcript`` in one place.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Literal, Protocol, Self

import attrs

from convoport.capabilities import Capabilities, Capability
from convoport.errors import ConfigError, ConvoportError, LiveSessionError, ProviderError
from convoport.http import RetryPolicy
from convoport.model import (
    JSONDict,
    Session,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    _json_dict,
    _strings,
)

logger = logging.getLogger("convoport.live")


@attrs.frozen(kw_only=True)
class LiveOptions:
    """What to tell a live backend about the audio and the session.

    ``encoding`` is ``"pcm_s16le"``-style neutral names mapped by each adapter (``"pcm"``,
    ``"alaw"``, ``"ulaw"``; containers such as ``"wav"``, ``"mp3"``, ``"opus"`` where the vendor
    transcodes). ``sample_rate`` is Hz, ``bit_depth`` bits per sample, ``channels`` interleaved
    channels. ``languages`` are hints (empty: auto-detect). ``ttl`` is the session lifetime in
    seconds where the vendor has one (Illocution: 60..3600). ``provider_options`` is merged into
    the vendor's request body as-is, for options with no neutral name.
    """

    encoding: str = "pcm"
    sample_rate: int = 16000
    bit_depth: int = 16
    channels: int = 1
    languages: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    metadata: JSONDict = attrs.field(factory=dict, converter=_json_dict)
    partial_transcripts: bool = True
    filename: str | None = None
    ttl: float | None = None
    region: str | None = None
    provider_options: JSONDict = attrs.field(factory=dict, converter=_json_dict)


@attrs.frozen(kw_only=True)
class StatusEvent:
    """The session moved to another phase. ``phase`` is the vendor's word (an open string);
    ``status`` its neutral meaning where one is known; ``progress`` 0..1 where given."""

    kind: ClassVar[str] = "status"
    phase: str
    status: SessionStatus | None = None
    progress: float | None = None
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class PartialTranscript:
    """Interim text for an utterance still being spoken; replaced by later partials with the
    same ``utterance.id`` and finally by a :class:`FinalUtterance`."""

    kind: ClassVar[str] = "partial"
    utterance: Utterance
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class FinalUtterance:
    """A finished utterance. It is part of the result's transcript."""

    kind: ClassVar[str] = "final"
    utterance: Utterance
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class SpeechEvent:
    """Voice activity: speech started (``started=True``) or ended, at ``time`` seconds."""

    kind: ClassVar[str] = "speech"
    started: bool
    time: float | None = None
    channel: int | None = None
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class AudioAcknowledged:
    """The vendor confirmed receiving audio up to byte ``byte_end`` (exclusive, cumulative)."""

    kind: ClassVar[str] = "ack"
    byte_end: int
    time_end: float | None = None
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class SummaryEvent:
    """A summary of the conversation so far; the last one received wins."""

    kind: ClassVar[str] = "summary"
    summary: Summary
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """The vendor reported an error. ``fatal`` errors end the session."""

    kind: ClassVar[str] = "error"
    message: str
    code: str | None = None
    fatal: bool = False
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class DoneEvent:
    """The session finished successfully; no more events follow."""

    kind: ClassVar[str] = "done"
    session_id: str
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class VendorEvent:
    """Anything the vendor sent that has no neutral meaning, passed through with its data
    (``name`` is the vendor's event or message type)."""

    kind: ClassVar[str] = "vendor"
    name: str
    data: JSONDict = attrs.field(factory=dict, converter=_json_dict)


LiveEvent = (
    StatusEvent
    | PartialTranscript
    | FinalUtterance
    | SpeechEvent
    | AudioAcknowledged
    | SummaryEvent
    | ErrorEvent
    | DoneEvent
    | VendorEvent
)
LIVE_EVENT_TYPES: tuple[type[Any], ...] = (
    StatusEvent,
    PartialTranscript,
    FinalUtterance,
    SpeechEvent,
    AudioAcknowledged,
    SummaryEvent,
    ErrorEvent,
    DoneEvent,
    VendorEvent,
)


@attrs.frozen(kw_only=True)
class IngestResult:
    """What an ingest produced (a live session, or a batch analysis of a recording): the
    session, the transcript (for live sessions, assembled from the final utterances), the
    last summary, and how many audio bytes were sent."""

    session: Session
    transcript: Transcript
    summary: Summary | None = None
    bytes_sent: int = 0
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


class ConnectionDropped(Exception):
    """Raised by a handle's ``_connect``/``_receive`` (or returned through ``_classify``) when
    its connection was lost in a way that reconnecting may fix.

    ``reason`` is a short human text (``"code 1011"``); ``data`` is put into the
    ``StatusEvent(phase="reconnecting")`` the base emits (with the ``attempt`` number);
    ``error`` is the underlying convoport error, if any: it is raised as is when the first
    connection could never be opened and the attempts ran out, and its ``retry_after`` is
    honoured by the backoff.
    """

    def __init__(
        self,
        reason: str,
        *,
        error: BaseException | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.data: JSONDict = dict(data or {})


@attrs.frozen(kw_only=True)
class ConnectionClosed:
    """How one connection ended, as ``LiveSessionBase._classify`` reports it.

    ``outcome`` is ``"normal"`` (the vendor closed it as planned: ``_on_closed`` runs),
    ``"dropped"`` (``drop`` says why; the base may reconnect) or ``"fatal"`` (``error`` ends
    the session).
    """

    outcome: Literal["normal", "dropped", "fatal"]
    drop: ConnectionDropped | None = None
    error: BaseException | None = None

    @classmethod
    def normal(cls) -> ConnectionClosed:
        return cls(outcome="normal")

    @classmethod
    def dropped(cls, drop: ConnectionDropped) -> ConnectionClosed:
        return cls(outcome="dropped", drop=drop)

    @classmethod
    def fatal(cls, error: BaseException) -> ConnectionClosed:
        return cls(outcome="fatal", error=error)


@attrs.frozen(kw_only=True)
class ReadBack:
    """The vendor's own view of a finished live session, for vendors with a read-back API
    (Gladia's job). What is given replaces what the base built from the events; ``summary``
    is used only when no ``SummaryEvent`` arrived."""

    session: Session | None = None
    transcript: Transcript | None = None
    summary: Summary | None = None


class ResultSink(Protocol):
    """Where :meth:`LiveSessionBase.persist_to` commits what arrived: an archive client
    (``AsyncClient.ingest``) or an archive adapter (``ArchiveAdapter.ingest``). ``capabilities``
    must declare ``archive.sink``."""

    @property
    def capabilities(self) -> Capabilities: ...

    async def ingest(self, result: IngestResult) -> object: ...


_END = object()


def _leaf(exc: BaseException) -> BaseException:
    """The first non-group exception inside (nested) exception groups (anyio task groups,
    such as httpx-ws's, wrap what their body raises)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class LiveSessionBase(abc.ABC):
    """The live handle. The user API is public; adapters implement the protected API below.

    Invariants: events are delivered in arrival order to at most one consumer; the transcript
    keeps one utterance per id (a final replaces any partial of the same id, a later final of
    the same id replaces the earlier one); after ``DoneEvent`` or a fatal ``ErrorEvent`` no
    further event is delivered.

    **A subclass implements**

    * ``_send(data)``, ``_finalize()``, ``_cancel()`` (abstract), ``_keepalive()`` and
      ``_close()`` (optional): the vendor's actions behind the user API;
    * for a vendor with a connection that delivers its messages (a WebSocket, an SSE stream):
      ``_connect()`` (an async context manager: entering it opens one connection),
      ``_receive(conn)`` (an async iterator of the vendor's messages until the connection
      closes: returning is a normal close, raising :class:`ConnectionDropped` a drop that
      reconnecting may fix, raising ``LiveSessionError`` a fatal end), ``_on_message(message)``
      (translate it and ``_emit`` the neutral events), and optionally
      ``_on_connected(conn, reconnected=...)`` (after a reconnect: resend what the vendor has
      not acknowledged), ``_classify(exc)`` (any other exception the connection raised ->
      :class:`ConnectionClosed`; the default treats retryable ``ProviderError`` as a drop),
      ``_on_closed()`` (after a normal close: emit the ending, e.g. ``DoneEvent``) and
      ``_safe_text(text)`` (redacts the vendor's secrets from an unexpected error's text (the
      default keeps no text));
    * for a vendor with a read-back API: ``_read_back()`` (its view of the finished session),
      with ``_reads_back = True``; ``_live_status()``, ``_provider_status(status)`` and
      ``_session_data()`` where the vendor has its own words for what arrived.

    **Class declarations** (protected, with defaults): ``_connection_name`` (in messages:
    ``"live socket"``, ``"event stream"``), ``_reopens_after_drop`` (False: a connection that
    was open is never opened again; a connection that could not be opened is still retried),
    ``_lost_hint`` (the hint of that error), ``_reads_back``, ``_clock_timestamps`` (True, the
    default: ``created_at``/``ended_at`` are this machine's clock unless the vendor's are set,
    and are then listed under ``client_observed`` in the session's ``provider_data``; False:
    never taken from the clock), and
    ``_joined_vendor_events`` (names of ``VendorEvent``\\ s whose ``data["utterance_id"]``
    joins them into that utterance's ``provider_data``).

    **A subclass may call** ``_emit(event)``, ``_fail(error)``, ``_end(status)``,
    ``_start_connection()`` (runs the reconnect loop in a task; returns once the first
    connection is open, raises why it could not be opened), ``_stop_connection()``, and read
    ``_connection_started``, ``_connection_running``, ``_errors_received``, ``_end_status``,
    ``_last_summary``, ``_vendor_events``, ``_cancelled_by_user``, ``ended``,
    ``created_at`` (may be set, or None when the vendor gives no time).

    **A subclass must not touch** any other ``_``-prefixed attribute of this class (the
    queue, the finals, the persistence state, ``_finished``, ``_errors``, ``_summary``, …).

    **The reconnect loop** (``_start_connection``): connects; after a drop it waits
    ``reconnect.delay(n)`` seconds (the shared backoff; a ``retry_after`` of the drop's error
    is honoured), emits ``StatusEvent(phase="reconnecting")`` (once a connection has been
    open), and connects again, at most ``reconnect.attempts`` tries in a row; a connection
    that delivered messages resets the count. When the tries run out the stream fails with
    ``LiveSessionError``. After the user's ``cancel()`` any end of the connection ends the
    session as ``CANCELLED``. A fatal end fails the stream with its error.
    """

    _connection_name: ClassVar[str] = "connection"
    _reopens_after_drop: ClassVar[bool] = True
    _lost_hint: ClassVar[str | None] = None
    _reads_back: ClassVar[bool] = False
    _clock_timestamps: ClassVar[bool] = True
    _joined_vendor_events: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        provider: str,
        session_id: str,
        options: LiveOptions,
        reconnect: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.provider_name = provider
        self.session_id = session_id
        self.options = options
        self._created_at: datetime | None = datetime.now(UTC) if self._clock_timestamps else None
        #: the times taken from this machine's clock rather than given by the vendor
        self._client_observed: set[str] = {"created_at"} if self._clock_timestamps else set()
        self.bytes_sent = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._consumer_attached = False
        self._drained = False
        self._ended = asyncio.Event()
        self._finished = False
        self._final: dict[str, Utterance] = {}
        self._order: list[str] = []
        self._summary: Summary | None = None
        self._errors: list[ErrorEvent] = []
        self._result: IngestResult | None = None
        self._ended_status: SessionStatus | None = None
        self._ended_at: datetime | None = None
        self._extras: dict[str, list[JSONDict]] = {}
        self._user_cancelled = False
        self._finalize_called = False
        self._reconnect = reconnect or RetryPolicy()
        self._sleep = sleep or asyncio.sleep
        self._loop_task: asyncio.Task[None] | None = None
        self._opened: asyncio.Future[None] | None = None
        self._archive: ResultSink | None = None
        self._persist_stop = False
        self._final_committed = False
        self._persist_wakeup = asyncio.Event()
        self._persist_task: asyncio.Task[None] | None = None

    # -- user API -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not self._finished:
            try:
                await self.cancel()
            except Exception as error:  # the original error matters more than the cancel's
                logger.warning(
                    "cancelling %s live session %s failed: %s",
                    self.provider_name,
                    self.session_id,
                    error,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
        await self._stop_persisting()
        await self._close()
        await self._stop_connection()

    async def send_audio(self, data: bytes) -> None:
        """Sends audio bytes in the format declared in the options. Large buffers are split
        as the vendor requires."""
        if self._finished:
            raise LiveSessionError(
                "the live session has ended; no more audio can be sent",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        if not data:
            return
        await self._send(bytes(data))
        self.bytes_sent += len(data)

    async def finalize(self) -> None:
        """Ends the audio; the vendor produces its final results."""
        self._finalize_called = True
        await self._finalize()

    async def cancel(self) -> None:
        """Abandons the session. A fatal error the vendor reports after this (Illocution
        answers a cancel with an ``error`` event) ends the session as ``CANCELLED``."""
        if not self._finished:
            self._user_cancelled = True
        await self._cancel()

    async def keepalive(self) -> None:
        """Extends the session's lifetime while no audio is sent (where the vendor needs it)."""
        await self._keepalive()

    async def events(self) -> AsyncGenerator[LiveEvent, None]:
        """The neutral events, in arrival order, until the session ends. One consumer at a
        time; a consumer that stops early leaves the rest for the next (or for ``wait()``)."""
        if self._consumer_attached:
            raise LiveSessionError(
                "events() is already being consumed; a live session has one consumer",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        if self._drained:
            return
        self._consumer_attached = True
        try:
            while True:
                item = await self._queue.get()
                if item is _END:
                    self._drained = True
                    return
                if isinstance(item, BaseException):
                    self._drained = True
                    raise item
                yield item
        finally:
            self._consumer_attached = False

    async def wait(self) -> IngestResult:
        """Consumes the remaining events (unless another task is consuming them, in which
        case it waits for the end) and returns the result (also committed to the archive of
        :meth:`persist_to`, if any)."""
        try:
            if self._consumer_attached:
                await self._ended.wait()
            else:
                async for _ in self.events():
                    pass
            result = await self._build_result()
        except BaseException:
            await self._stop_persisting()  # keeps what arrived, with the end status
            raise
        if self._archive is not None and not self._final_committed:
            await self._stop_persisting()
            await self._archive.ingest(result)
            self._final_committed = True
        return result

    def persist_to(self, archive: ResultSink) -> None:
        """Keeps ``archive`` (a client of an archive backend, ``local:PATH``, or the archive
        adapter itself: anything with the archive port's ``ingest``) up to date while
        the session runs: after each final utterance and summary, the session and everything
        received so far are committed in one transaction, so a crash or a lost stream loses
        nothing that arrived. ``wait()`` commits the final result. Call it from the event
        loop, before sending audio. (For vendors with no read-back API, Illocution, this is
        the only copy.)"""
        if Capability.ARCHIVE_SINK not in archive.capabilities.ports:
            raise ConfigError(
                "persist_to needs an archive; this is not an archive", hint="use local:PATH"
            )
        self._archive = archive
        if self._persist_task is None:
            self._persist_task = asyncio.get_running_loop().create_task(self._persist_loop())

    async def _persist_loop(self) -> None:
        """Commits a snapshot whenever woken; after the end (or when told to stop) it commits
        one last snapshot, with the end status, and returns."""
        assert self._archive is not None
        while True:
            await self._persist_wakeup.wait()
            self._persist_wakeup.clear()
            last = self._ended.is_set() or self._persist_stop
            snapshot = IngestResult(
                session=await LiveSessionBase._final_session(self),
                transcript=self.transcript,
                summary=self._summary,
                bytes_sent=self.bytes_sent,
            )
            try:
                await self._archive.ingest(snapshot)
            except Exception as error:  # keep the session going; the next commit retries
                logger.warning(
                    "%s live session %s: could not update the archive: %s",
                    self.provider_name,
                    self.session_id,
                    error,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
            if last:
                return

    async def _stop_persisting(self) -> None:
        """Lets the persist loop commit its last snapshot and end (30 s at most)."""
        task, self._persist_task = self._persist_task, None
        if task is None:
            return
        self._persist_stop = True
        self._persist_wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=30)
        except TimeoutError:
            task.cancel()
            logger.warning(
                "%s live session %s: the archive did not answer in time",
                self.provider_name,
                self.session_id,
            )
        except asyncio.CancelledError:
            task.cancel()
            raise

    @property
    def ended(self) -> bool:
        """Whether the session has ended (done, a fatal error, or a lost stream)."""
        return self._finished

    @property
    def result(self) -> IngestResult:
        """The result, available once ``wait()`` has returned (``wait()`` also drains the
        events when nobody consumed them)."""
        if self._result is None:
            raise LiveSessionError(
                "the live session has not ended yet; await live.wait() first",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        return self._result

    @property
    def transcript(self) -> Transcript:
        """The transcript assembled so far from final utterances (in time order; each joined
        with the vendor events the handle declares, e.g. Illocution's emotion)."""
        return Transcript(
            session_id=self.session_id,
            utterances=tuple(self._joined_finals()),
            language=self._main_language(),
            engine=self.provider_name,
        )

    # -- adapter side: events ---------------------------------------------------------------

    def _emit(self, event: LiveEvent) -> None:
        """Records and queues one event (adapters call this for everything they receive)."""
        if self._finished:
            return
        if isinstance(event, FinalUtterance):
            key = event.utterance.id or f"#{len(self._order)}"
            if key not in self._final:
                self._order.append(key)
            self._final[key] = event.utterance
            self._persist_wakeup.set()
        elif isinstance(event, SummaryEvent):
            self._summary = event.summary
            self._persist_wakeup.set()
        elif isinstance(event, VendorEvent):
            self._extras.setdefault(event.name, []).append(event.data)
        elif isinstance(event, ErrorEvent):
            self._errors.append(event)
        self._queue.put_nowait(event)
        if isinstance(event, DoneEvent):
            self._end(SessionStatus.COMPLETED)
        elif isinstance(event, ErrorEvent) and event.fatal:
            self._end(SessionStatus.CANCELLED if self._user_cancelled else SessionStatus.FAILED)

    def _fail(self, error: BaseException) -> None:
        """Ends the event stream with an exception raised to the consumer."""
        if self._finished:
            return
        self._queue.put_nowait(error)
        self._finish_as(SessionStatus.FAILED)

    def _end(self, status: SessionStatus) -> None:
        """Ends the event stream (idempotent)."""
        if self._finished:
            return
        self._queue.put_nowait(_END)
        self._finish_as(status)

    def _finish_as(self, status: SessionStatus) -> None:
        self._finished = True
        self._ended_status = status
        if self._clock_timestamps:
            self._ended_at = datetime.now(UTC)
            self._client_observed.add("ended_at")
        self._ended.set()
        self._persist_wakeup.set()

    @property
    def created_at(self) -> datetime | None:
        """When the session was created: the vendor's time where the adapter set it, else this
        machine's clock at the start (marked ``client_observed`` in the session's
        ``provider_data``), or None for a handle that takes no time from the clock."""
        return self._created_at

    @created_at.setter
    def created_at(self, value: datetime | None) -> None:
        self._created_at = value
        self._client_observed.discard("created_at")

    # -- adapter side: what arrived (read-only accessors) -----------------------------------

    @property
    def _errors_received(self) -> tuple[ErrorEvent, ...]:
        """Every ``ErrorEvent`` emitted so far, in order."""
        return tuple(self._errors)

    @property
    def _end_status(self) -> SessionStatus | None:
        """How the stream ended (COMPLETED, CANCELLED, FAILED), None while it runs."""
        return self._ended_status

    @property
    def _last_summary(self) -> Summary | None:
        """The last ``SummaryEvent``'s summary."""
        return self._summary

    @property
    def _vendor_events(self) -> Mapping[str, tuple[JSONDict, ...]]:
        """The data of every ``VendorEvent`` emitted so far, by event name, in order."""
        return {name: tuple(items) for name, items in self._extras.items()}

    @property
    def _cancelled_by_user(self) -> bool:
        """Whether ``cancel()`` was called before the session ended."""
        return self._user_cancelled

    def _sorted_finals(self) -> list[Utterance]:
        utterances = [self._final[k] for k in self._order]
        return sorted(
            utterances,
            key=lambda u: (u.start if u.start is not None else float("inf"), u.channel or 0),
        )

    def _main_language(self) -> str | None:
        counts: dict[str, int] = {}
        for u in self._final.values():
            if u.language:
                counts[u.language] = counts.get(u.language, 0) + 1
        return max(counts, key=lambda k: counts[k]) if counts else None

    def _joined_finals(self) -> list[Utterance]:
        """The finals in time order, each joined with the ``_joined_vendor_events`` of its id."""
        finals = self._sorted_finals()
        if not self._joined_vendor_events:
            return finals
        joined: dict[str, dict[str, Any]] = {}
        for name in self._joined_vendor_events:
            for data in self._extras.get(name, []):
                uid = data.get("utterance_id")
                if isinstance(uid, str):
                    joined.setdefault(uid, {})[name] = data
        out = []
        for u in finals:
            extra = joined.get(u.id or "")
            out.append(attrs.evolve(u, provider_data={**u.provider_data, **extra}) if extra else u)
        return out

    # -- the result: built here, once -------------------------------------------------------

    async def _build_result(self) -> IngestResult:
        if self._result is None:
            view = await self._read_back() if self._reads_back else ReadBack()
            self._result = IngestResult(
                session=view.session or await self._final_session(),
                transcript=view.transcript or self.transcript,
                summary=self._summary or view.summary,
                bytes_sent=self.bytes_sent,
                provider_data={"events": self._extras} if self._extras else {},
            )
        return self._result

    def _status(self) -> SessionStatus:
        """The neutral status from what arrived. Ended: how it ended (a failure after the
        user's cancel is CANCELLED; COMPLETED is PROCESSING for a vendor with a read-back API
        whose view could not be read: the vendor may still be working). Running: CANCELLED
        after ``cancel()``, PROCESSING after ``finalize()``, else :meth:`_live_status`."""
        status = self._ended_status
        if status is not None:
            if status is SessionStatus.FAILED and self._user_cancelled:
                return SessionStatus.CANCELLED
            if status is SessionStatus.COMPLETED and self._reads_back:
                return SessionStatus.PROCESSING
            return status
        if self._user_cancelled:
            return SessionStatus.CANCELLED
        if self._finalize_called:
            return SessionStatus.PROCESSING
        return self._live_status()

    async def _final_session(self) -> Session:
        """The ``Session`` built from what arrived (the archive snapshots use it while the
        session runs; the result uses it unless :meth:`_read_back` gives the vendor's).
        ``duration`` is the end of the last final utterance (seconds)."""
        status = self._status()
        ends = [u.end for u in self._final.values() if u.end is not None]
        return Session(
            provider=self.provider_name,
            id=self.session_id,
            status=status,
            provider_status=self._provider_status(status),
            created_at=self.created_at,
            ended_at=self._ended_at,
            duration=max(ends) if ends else None,
            metadata=dict(self.options.metadata),
            provider_data=self._observed(self._session_data()),
        )

    def _observed(self, data: JSONDict) -> JSONDict:
        """``data`` with ``client_observed``: the session times that came from this machine's
        clock (so a reader can tell them from the vendor's)."""
        observed = sorted(self._client_observed)
        return {**data, "client_observed": observed} if observed else data

    def _live_status(self) -> SessionStatus:
        """Hook: the status of a running session (default ``ACTIVE``)."""
        return SessionStatus.ACTIVE

    def _provider_status(self, status: SessionStatus) -> str | None:
        """Hook: the vendor's word for ``status`` (default: the neutral value)."""
        return status.value

    def _session_data(self) -> JSONDict:
        """Hook: the session's ``provider_data`` (default: the messages of the errors)."""
        return {"errors": [e.message for e in self._errors]} if self._errors else {}

    async def _read_back(self) -> ReadBack:
        """Hook (``_reads_back = True``): the vendor's view of the finished session, called
        once when the result is built."""
        return ReadBack()

    # -- adapter side: the connection and the reconnect loop --------------------------------

    def _connect(self) -> AbstractAsyncContextManager[Any]:
        """Hook: one connection (entering it connects, leaving it closes)."""
        raise NotImplementedError(f"{type(self).__name__} has no connection to open")

    def _receive(self, conn: Any) -> AsyncGenerator[Any, None]:
        """Hook: the vendor's messages on ``conn`` until it closes (see the class docstring)."""
        raise NotImplementedError(f"{type(self).__name__} has no connection to read")

    def _on_message(self, message: Any) -> None:
        """Hook: translates one message from ``_receive`` and ``_emit``\\ s its events."""
        raise NotImplementedError(f"{type(self).__name__} has no messages to translate")

    async def _on_connected(self, conn: Any, *, reconnected: bool) -> None:  # noqa: B027
        """Hook: the connection is open (``reconnected``: not the first one): resend what
        the vendor has not acknowledged."""

    async def _on_closed(self) -> None:
        """Hook: the vendor closed the connection normally. Default: a session that has not
        ended by then fails (CANCELLED after the user's cancel)."""
        if self._finished:
            return
        if self._user_cancelled:
            self._end(SessionStatus.CANCELLED)
            return
        self._fail(
            LiveSessionError(
                f"the {self._connection_name} of live session {self.session_id} closed before "
                "the session ended",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        )

    def _classify(self, exc: BaseException) -> ConnectionClosed:
        """Hook: how an exception raised by the connection ended it (the error of a fatal
        end is raised to the consumer as it is). Default: a retryable ``ProviderError`` is a
        drop, another convoport error fatal, anything else a fatal ``LiveSessionError``."""
        leaf = _leaf(exc)
        if isinstance(leaf, ProviderError) and leaf.retryable:
            return ConnectionClosed.dropped(ConnectionDropped(leaf.message, error=leaf))
        return ConnectionClosed.fatal(self._unexpected_error(leaf))

    def _safe_text(self, text: str) -> str:
        """Hook: ``text`` with the vendor's secrets removed, for error messages (default: no
        text at all)."""
        return ""

    @property
    def _connection_started(self) -> bool:
        """Whether ``_start_connection`` was called."""
        return self._loop_task is not None

    @property
    def _connection_running(self) -> bool:
        """Whether the reconnect loop is still running."""
        return self._loop_task is not None and not self._loop_task.done()

    async def _start_connection(self) -> None:
        """Starts the reconnect loop in a task and waits until the first connection is open;
        raises the error that kept it from opening (the stream then has failed too)."""
        if self._loop_task is not None:
            raise LiveSessionError(
                f"the {self._connection_name} of live session {self.session_id} is already "
                "open; it is opened once",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        self._opened = asyncio.get_running_loop().create_future()
        self._loop_task = asyncio.create_task(
            self._connection_loop(), name=f"{self.provider_name}-live-{self.session_id}"
        )
        await asyncio.shield(self._opened)

    async def _stop_connection(self) -> None:
        """Cancels the reconnect loop (closing its connection) and waits for it to end. Safe
        to call at any time, also from the loop's own callbacks."""
        task = self._loop_task
        if task is None or task.done() or task is asyncio.current_task():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _connection_loop(self) -> None:
        try:
            await self._reconnect_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must end the stream, not hang the consumer
            logger.debug(
                "%s live %s: the reader failed", self.provider_name, self.session_id, exc_info=True
            )
            self._fail_connection(self._unexpected_error(exc))
        finally:
            if self._opened is not None and not self._opened.done():
                self._opened.set_exception(
                    LiveSessionError(
                        f"the {self._connection_name} of live session {self.session_id} was "
                        "closed before it opened",
                        provider=self.provider_name,
                        session_id=self.session_id,
                    )
                )

    async def _reconnect_loop(self) -> None:
        policy = self._reconnect
        failures = 0  # tries in a row that failed; a connection that delivered resets it
        was_open = False
        while True:
            opened = False
            delivered = 0
            try:
                async with self._connect() as conn:
                    opened = True
                    await self._on_connected(conn, reconnected=was_open)
                    if not was_open:
                        was_open = True
                        if self._opened is not None and not self._opened.done():
                            self._opened.set_result(None)
                    async with contextlib.aclosing(self._receive(conn)) as messages:
                        async for message in messages:
                            delivered += 1
                            self._on_message(message)
                            if self._finished:
                                break
                closed = ConnectionClosed.normal()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                closed = self._closure(exc)
            if self._finished:
                return
            if closed.outcome == "normal":
                await self._on_closed()
                return
            if self._user_cancelled:
                self._end(SessionStatus.CANCELLED)
                return
            if closed.outcome == "fatal" or closed.drop is None:
                self._fail_connection(closed.error or self._unexpected_error(None))
                return
            drop = closed.drop
            if opened and not self._reopens_after_drop:
                self._fail_connection(self._lost_error(drop))
                return
            failures = 1 if opened and delivered else failures + 1
            if failures >= policy.attempts:
                self._fail_connection(self._exhausted_error(drop, was_open=was_open))
                return
            retry_after = getattr(drop.error, "retry_after", None)
            if not policy.waits_for(retry_after):
                self._fail_connection(self._exhausted_error(drop, was_open=was_open))
                return
            delay = policy.delay(failures, retry_after)
            logger.warning(
                "%s live %s: the %s %s (%s); %s in %.2fs (attempt %d of %d)",
                self.provider_name,
                self.session_id,
                self._connection_name,
                "was lost" if was_open else "could not be opened",
                drop.reason,
                "reconnecting" if was_open else "trying again",
                delay,
                failures,
                policy.attempts - 1,
            )
            if was_open:
                self._emit(
                    StatusEvent(
                        phase="reconnecting", provider_data={**drop.data, "attempt": failures}
                    )
                )
            await self._sleep(delay)

    def _closure(self, exc: BaseException) -> ConnectionClosed:
        leaf = _leaf(exc)
        if isinstance(leaf, ConnectionDropped):
            return ConnectionClosed.dropped(leaf)
        if isinstance(leaf, LiveSessionError):
            return ConnectionClosed.fatal(leaf)
        return self._classify(exc)

    def _fail_connection(self, error: BaseException) -> None:
        if self._opened is not None and not self._opened.done():
            self._opened.set_exception(error)
        self._fail(error)

    def _unexpected_error(self, error: BaseException | None) -> BaseException:
        """``error`` when it is a convoport error, else a ``LiveSessionError`` naming it
        (its text only through :meth:`_safe_text`)."""
        if isinstance(error, ConvoportError):
            return error
        name = type(error).__name__ if error is not None else "unknown error"
        detail = self._safe_text(str(error))[:200] if error is not None else ""
        return LiveSessionError(
            f"the live session failed: {name}" + (f": {detail}" if detail else ""),
            provider=self.provider_name,
            session_id=self.session_id,
        )

    def _lost_error(self, drop: ConnectionDropped) -> LiveSessionError:
        return LiveSessionError(
            f"the {self._connection_name} of live session {self.session_id} was lost: "
            f"{drop.reason}",
            provider=self.provider_name,
            session_id=self.session_id,
            hint=self._lost_hint,
        )

    def _exhausted_error(self, drop: ConnectionDropped, *, was_open: bool) -> BaseException:
        tries = self._reconnect.attempts
        if not was_open:
            if isinstance(drop.error, ConvoportError):
                return drop.error  # the vendor's own typed error, after the last try
            return LiveSessionError(
                f"could not open the {self._connection_name} ({drop.reason}) after {tries} "
                f"attempt{'s' if tries != 1 else ''}",
                provider=self.provider_name,
                session_id=self.session_id,
                hint="check the network or the vendor's status page",
            )
        return LiveSessionError(
            f"lost the {self._connection_name} ({drop.reason}) and could not reconnect after "
            f"{tries - 1} attempts",
            provider=self.provider_name,
            session_id=self.session_id,
            hint="check the network; audio the vendor had not acknowledged was not delivered",
        )

    # -- adapter side: the vendor's actions -------------------------------------------------

    @abc.abstractmethod
    async def _send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def _finalize(self) -> None: ...

    @abc.abstractmethod
    async def _cancel(self) -> None: ...

    async def _keepalive(self) -> None:  # noqa: B027
        """Default: nothing to do (vendors without a lifetime)."""

    async def _close(self) -> None:  # noqa: B027
        """Releases connections. Called once on context exit (the base then stops the
        reconnect loop if it still runs)."""


def merge_provider_options(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merges ``options`` into ``body`` (dicts merged key by key, anything else replaced)."""
    merged = dict(body)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_provider_options(current, value)
        else:
            merged[key] = value
    return merged


__all__ = [
    "LIVE_EVENT_TYPES",
    "AudioAcknowledged",
    "ConnectionClosed",
    "ConnectionDropped",
    "DoneEvent",
    "ErrorEvent",
    "FinalUtterance",
    "IngestResult",
    "LiveEvent",
    "LiveOptions",
    "LiveSessionBase",
    "PartialTranscript",
    "ReadBack",
    "SpeechEvent",
    "StatusEvent",
    "SummaryEvent",
    "VendorEvent",
    "merge_provider_options",
]
