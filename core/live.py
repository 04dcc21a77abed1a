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

Adapters subclass :class:`LiveSessionBase` and implement the ``_send``/``_finalize``/``_cancel``/
``_keepalive``/``_close`` primitives; they push what the vendor sends through :meth:`_emit`.
The base class keeps the event queue, the single-consumer rule, the transcript assembled from
final utterances (partials replaced by id), the last summary, and the result.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Self

import attrs

from convoport.errors import LiveSessionError
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


_END = object()


class LiveSessionBase(abc.ABC):
    """The live handle. Adapters implement the ``_``-prefixed primitives.

    Invariants: events are delivered in arrival order to at most one consumer; the transcript
    keeps one utterance per id (a final replaces any partial of the same id, a later final of
    the same id replaces the earlier one); after ``DoneEvent`` or a fatal ``ErrorEvent`` no
    further event is delivered.
    """

    provider: ClassVar[str] = ""

    def __init__(self, *, provider: str, session_id: str, options: LiveOptions) -> None:
        self.provider_name = provider
        self.session_id = session_id
        self.options = options
        self.created_at = datetime.now(UTC)
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
        self._extras: dict[str, list[JSONDict]] = {}
        self._user_cancelled = False
        self._archive: Any = None
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
        await self._finalize()

    async def cancel(self) -> None:
        """Abandons the session. A fatal error the vendor reports after this (Illocution
        answers a cancel with an ``error`` event) ends the session as ``CANCELLED``."""
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
            from convoport.migration import archive_ingest

            await archive_ingest(self._archive, result)
            self._final_committed = True
        return result

    def persist_to(self, archive: Any) -> None:
        """Keeps ``archive`` (a client of an archive backend, ``local:PATH``) up to date while
        the session runs: after each final utterance and summary, the session and everything
        received so far are committed in one transaction, so a crash or a lost stream loses
        nothing that arrived. ``wait()`` commits the final result. Call it from the event
        loop, before sending audio. (For vendors with no read-back API, Illocution, this is
        the only copy.)"""
        from convoport.capabilities import Capability
        from convoport.errors import ConfigError

        if Capability.ARCHIVE_SINK not in archive.capabilities.ports:
            raise ConfigError(f"{archive.provider} is not an archive", hint="use local:PATH")
        self._archive = archive
        if self._persist_task is None:
            self._persist_task = asyncio.get_running_loop().create_task(self._persist_loop())

    async def _persist_loop(self) -> None:
        """Commits a snapshot whenever woken; after the end (or when told to stop) it commits
        one last snapshot, with the end status, and returns."""
        from convoport.migration import archive_ingest

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
                await archive_ingest(self._archive, snapshot)
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
        """The transcript assembled so far from final utterances."""
        return Transcript(
            session_id=self.session_id,
            utterances=tuple(self._sorted_finals()),
            language=self._main_language(),
            engine=self.provider_name,
        )

    # -- adapter side ---------------------------------------------------------------------

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
        self._finished = True
        self._ended_status = SessionStatus.FAILED
        self._ended.set()
        self._persist_wakeup.set()

    def _end(self, status: SessionStatus) -> None:
        """Ends the event stream (idempotent)."""
        if self._finished:
            return
        self._finished = True
        self._ended_status = status
        self._queue.put_nowait(_END)
        self._ended.set()
        self._persist_wakeup.set()

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

    async def _build_result(self) -> IngestResult:
        if self._result is None:
            session = await self._final_session()
            transcript = await self._final_transcript()
            self._result = IngestResult(
                session=session,
                transcript=transcript,
                summary=self._summary,
                bytes_sent=self.bytes_sent,
                provider_data={"events": self._extras} if self._extras else {},
            )
        return self._result

    async def _final_session(self) -> Session:
        """The session at the end. Adapters with a read-back API override this to fetch it.
        Before the end (archive snapshots) the status is ``ACTIVE``."""
        status = self._ended_status or (
            SessionStatus.PROCESSING if self._finished else SessionStatus.ACTIVE
        )
        return Session(
            provider=self.provider_name,
            id=self.session_id,
            status=status,
            provider_status=status.value,
            created_at=self.created_at,
            ended_at=datetime.now(UTC) if status.terminal else None,
            metadata=dict(self.options.metadata),
            provider_data={"errors": [e.message for e in self._errors]} if self._errors else {},
        )

    async def _final_transcript(self) -> Transcript:
        """The transcript at the end; adapters with a read-back API may override this."""
        return self.transcript

    @abc.abstractmethod
    async def _send(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def _finalize(self) -> None: ...

    @abc.abstractmethod
    async def _cancel(self) -> None: ...

    async def _keepalive(self) -> None:  # noqa: B027
        """Default: nothing to do (vendors without a lifetime)."""

    async def _close(self) -> None:  # noqa: B027
        """Releases connections. Called once on context exit."""


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
    "DoneEvent",
    "ErrorEvent",
    "FinalUtterance",
    "IngestResult",
    "LiveEvent",
    "LiveOptions",
    "LiveSessionBase",
    "PartialTranscript",
    "SpeechEvent",
    "StatusEvent",
    "SummaryEvent",
    "VendorEvent",
    "merge_provider_options",
]
