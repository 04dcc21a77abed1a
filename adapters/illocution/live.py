"""The Illocution live handle: numbered chunk uploads, one SSE consumer, control actions.

Behaviour (see the adapter docstring for the user-facing summary):

* **One consumer.** The event stream (``GET events``) is the handle's connection, run by the
  base class's reconnect loop (:class:`~convoport.live.LiveSessionBase`), which this handle
  tells that a stream that was open is never opened again (``_reopens_after_drop = False``):
  it is opened once, before the first chunk, and a drop ends the session. A 409 means someone
  else holds it (:class:`LiveSessionError`). Only an answer that proves no stream was opened
  (a 5xx/429 *response*, or a connection never made) is tried again, with the shared backoff.
* **Chunks.** ``send_audio`` data is buffered and cut into ``chunk_size`` chunks, uploaded one
  at a time (a lock) as multipart (``chunk_seq`` + ``chunk``). The local sequence follows every
  answer's ``next_chunk_seq``. A failed upload is tried again with the *same* sequence number
  (bounded attempts, the shared backoff :meth:`convoport.http.RetryPolicy.delay`,
  ``Retry-After`` honoured); a 409 on such a retry, when
  an earlier attempt may have reached the server, means the chunk was stored and its answer
  lost: the handle moves past it. A 409 on a first attempt is an ordering error
  (:class:`Conflict` naming the expected and the sent sequence numbers).
* **Raw PCM** (``encoding`` ``pcm``/``alaw``/``ulaw``) that does not start with a RIFF header
  gets one streaming WAV header in front of the first chunk (the session's filename says
  ``.wav``; Illocution transcodes by container). Audio that is already a WAV file is sent
  unchanged.
* **Keepalive.** While the caller is silent, ``keepalive`` is sent ``keepalive_margin`` seconds
  before ``expires_at`` (or halfway there when the lifetime left is shorter than the margin);
  every successful chunk or keepalive moves the deadline (to the ``expires_at`` the answer
  echoes, else to now + TTL). An ``expires_at`` that is already past on arrival, or further
  than the TTL, means the clocks disagree: the TTL is used instead.
* **Terminal events.** ``done`` is delivered once ``finalize`` has been acknowledged (the
  vendor sends it only after finalize; a ``done`` seen earlier is held until then, which also
  makes recorded streams replay deterministically). ``error`` ends the session at once; after
  ``cancel`` it ends it as CANCELLED.
* **Bounded wait for the result.** After ``finalize`` is acknowledged, ``done`` (or ``error``)
  must arrive within ``result_timeout`` seconds (``ILLOCUTION_RESULT_TIMEOUT``, default
  :data:`RESULT_TIMEOUT`); a stream that only sends heartbeats past that ends with a
  ``LiveSessionError`` saying it waited for ``done``.
* **Expiry.** 404/410 on a chunk or control request means the server no longer knows the
  session: :class:`LiveSessionError` saying it expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar

import attrs
import httpx
from httpx_sse import SSEError

from convoport.errors import (
    Conflict,
    ConvoportError,
    LiveSessionError,
    MalformedResponse,
    ProviderError,
    RateLimited,
)
from convoport.http import HttpClient, RetryPolicy, StreamedResponse
from convoport.live import (
    ConnectionClosed,
    ConnectionDropped,
    DoneEvent,
    ErrorEvent,
    LiveEvent,
    LiveOptions,
    LiveSessionBase,
    StatusEvent,
)
from convoport.media import wav_header
from convoport.model import JSONDict, SessionStatus
from convoport.sse import live_events

from . import translate, wire

logger = logging.getLogger("convoport.adapters.illocution")

#: Timeouts: chunk uploads get a generous write timeout; the event stream has no read timeout.
CHUNK_TIMEOUT = httpx.Timeout(60.0)
EVENTS_TIMEOUT = httpx.Timeout(30.0, read=None)
#: Seconds to wait, after an acknowledged cancel, for the stream's error event before ending.
CANCEL_GRACE = 5.0
#: Seconds to wait, after an acknowledged finalize, for ``done`` (``result_timeout``).
RESULT_TIMEOUT = 300.0

_WAV_FORMATS = {"pcm": (1, None), "pcm_s16le": (1, 16), "alaw": (6, 8), "ulaw": (7, 8)}


def wav_header_for(options: LiveOptions, *, data_size: int | None = None) -> bytes | None:
    """The header to put in front of raw audio of this encoding, or None (containers)."""
    known = _WAV_FORMATS.get(options.encoding.lower())
    if known is None:
        return None
    fmt, bits = known
    return wav_header(
        sample_rate=options.sample_rate,
        channels=options.channels,
        bits=bits or options.bit_depth,
        fmt=fmt,
        data_size=data_size,
    )


@attrs.frozen(kw_only=True)
class LiveTuning:
    """The handle's knobs (from the adapter): chunk size in bytes, keepalive margin and poll
    interval in seconds, retry policy, and the clock/sleep used for keepalive and backoff."""

    chunk_size: int
    keepalive_margin: float
    keepalive_poll: float
    retry: RetryPolicy
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: seconds ``done`` may take after an acknowledged finalize (real time, never ``sleep``)
    result_timeout: float = RESULT_TIMEOUT


class IllocutionLiveSession(LiveSessionBase):
    """A live capture session (see the module docstring). Obtain it from
    ``client.start_live(options)``."""

    _connection_name: ClassVar[str] = "event stream"
    _reopens_after_drop: ClassVar[bool] = False
    _lost_hint: ClassVar[str | None] = (
        "Illocution cannot resume an event stream; results after the loss are lost "
        "(convoport never opens a second consumer)"
    )
    # Illocution gives no times: the session's are this machine's clock, marked client_observed
    _joined_vendor_events: ClassVar[tuple[str, ...]] = ("emotion", "cognitive")

    def __init__(
        self,
        *,
        http: HttpClient,
        start: translate.LiveStart,
        options: LiveOptions,
        ttl: int,
        tuning: LiveTuning,
    ) -> None:
        super().__init__(
            provider="illocution",
            session_id=start.session_id,
            options=options,
            reconnect=tuning.retry,
            sleep=tuning.sleep,
        )
        self._http = http
        self._start = start
        self._ttl = ttl
        self._tuning = tuning
        self.chunk_url = str(http.url(start.chunk_endpoint))
        self.events_url = str(http.url(start.events_endpoint))
        self.control_url = str(http.url(start.control_endpoint))
        self.next_chunk_seq = start.next_chunk_seq
        self.chunks_uploaded = 0
        self.keepalives_sent = 0
        self.expires_at = start.expires_at
        self.phase = start.status
        self.conversation_id = start.conversation_id
        self._wav_header = wav_header_for(options)
        self._header_checked = False
        self._buffer = bytearray()
        self._lock = asyncio.Lock()
        self._finalize_requested = False
        self._finalized = False
        self._cancel_requested = False
        self._done: DoneEvent | None = None
        self._done_delivered = False
        self._expired = False
        self._connection_open = False
        self._keepalive_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._result_watch: asyncio.Task[None] | None = None
        self._deadline = 0.0
        self._keepalive_due = 0.0
        self._touch(start.expires_at)

    def __repr__(self) -> str:
        return f"IllocutionLiveSession(session_id={self.session_id!r})"

    # -- startup ----------------------------------------------------------------------------

    async def attach(self) -> None:
        """Opens the event stream (once) and waits until the server accepted it."""
        if self._connection_started:
            raise LiveSessionError(
                "the event stream is already attached; Illocution allows one consumer",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        await self._start_connection()
        self._keepalive_task = asyncio.create_task(self._keepalive_loop())

    # -- events: the connection the base class runs -----------------------------------------

    def _connect(self) -> AbstractAsyncContextManager[StreamedResponse]:
        return self._http.stream(
            "GET",
            self.events_url,
            headers={"accept": "text/event-stream"},
            retry=False,
            timeout=EVENTS_TIMEOUT,
        )

    async def _receive(self, conn: StreamedResponse) -> AsyncGenerator[LiveEvent, None]:
        """The stream's neutral events, up to ``done`` or a fatal ``error``."""
        async for event in live_events(
            conn.response, translate.sse_translator(self.session_id), provider=wire.PROVIDER
        ):
            yield event
            if isinstance(event, DoneEvent) or (isinstance(event, ErrorEvent) and event.fatal):
                return

    def _classify(self, exc: BaseException) -> ConnectionClosed:
        opened = self._connection_open
        if isinstance(exc, ProviderError):
            if opened:
                return ConnectionClosed.dropped(ConnectionDropped(exc.message, error=exc))
            if self._answered_without_stream(exc):
                return ConnectionClosed.dropped(ConnectionDropped(exc.message, error=exc))
            return ConnectionClosed.fatal(self._attach_failure(exc))
        if isinstance(exc, httpx.HTTPError):
            error = self._http.transport_error(exc, httpx.Request("GET", self.events_url))
            if opened:
                return ConnectionClosed.dropped(ConnectionDropped(error.message, error=error))
            return ConnectionClosed.fatal(error)
        if isinstance(exc, SSEError):
            return ConnectionClosed.fatal(
                MalformedResponse(
                    f"the event stream is not server-sent events: {exc}",
                    provider=self.provider_name,
                    url=self.events_url,
                )
            )
        return ConnectionClosed.fatal(exc)

    async def _on_connected(self, conn: StreamedResponse, *, reconnected: bool) -> None:
        self._connection_open = True

    @staticmethod
    def _answered_without_stream(exc: ProviderError) -> bool:
        """A 5xx/429 answer (no stream was opened) or a connection never made."""
        if exc.details.get("not_sent"):
            return True
        status = exc.status_code
        return status is not None and (status >= 500 or status == 429) and exc.retryable

    def _attach_failure(self, exc: ProviderError) -> ConvoportError:
        if exc.status_code == 409:
            return LiveSessionError(
                f"another consumer is attached to the event stream of live session "
                f"{self.session_id}: Illocution allows one SSE consumer per session "
                f"({exc.message})",
                provider=self.provider_name,
                session_id=self.session_id,
                hint="close the other reader; convoport never opens a second one",
            )
        if exc.status_code in (404, 410):
            return self._expired_error(exc)
        return exc

    def _on_message(self, event: LiveEvent) -> None:
        """Handles one event (``done`` is held until finalize was acknowledged)."""
        if isinstance(event, StatusEvent):
            self.phase = event.phase
        if isinstance(event, DoneEvent):
            cid = event.provider_data.get("conversation_id")
            if isinstance(cid, str) and cid:
                self.conversation_id = cid
            self._done = event
            if self._finalized:
                self._deliver_done()
            return
        self._emit(event)

    def _deliver_done(self) -> None:
        if self._done is not None and not self._done_delivered:
            self._done_delivered = True
            self._emit(self._done)

    async def _on_closed(self) -> None:
        """The server closed the stream (after ``done``, or without ``done`` or ``error``)."""
        if self._done is not None or self.ended:
            return
        if self._cancel_requested:
            self._end(SessionStatus.CANCELLED)
            return
        self._fail(
            LiveSessionError(
                f"the event stream of live session {self.session_id} ended before 'done'",
                provider=self.provider_name,
                session_id=self.session_id,
                hint="Illocution has no read-back API: results not streamed are lost",
            )
        )

    # -- audio ------------------------------------------------------------------------------

    def _check_open(self, what: str) -> None:
        if self.ended or self._finalize_requested or self._cancel_requested:
            raise LiveSessionError(
                f"cannot {what}: the live session has been "
                + ("finalized" if self._finalize_requested else "cancelled or has ended"),
                provider=self.provider_name,
                session_id=self.session_id,
            )

    async def _send(self, data: bytes) -> None:
        async with self._lock:
            self._check_open("send audio")
            if not self._header_checked:
                self._header_checked = True
                if self._wav_header is not None and not data.startswith(b"RIFF"):
                    self._buffer += self._wav_header
            self._buffer += data
            size = self._tuning.chunk_size
            while len(self._buffer) >= size:
                await self._upload_next(size)

    async def _upload_next(self, size: int) -> None:
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        try:
            await self._upload(chunk)
        except BaseException as exc:
            self._buffer[:0] = chunk
            if isinstance(exc, ConvoportError):
                self._fail(exc)
            raise

    async def _upload(self, chunk: bytes) -> None:
        seq = self.next_chunk_seq
        maybe_stored = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    "POST",
                    self.chunk_url,
                    data={"chunk_seq": str(seq)},
                    files={"chunk": (f"chunk-{seq}", chunk, "application/octet-stream")},
                    retry=False,
                    timeout=CHUNK_TIMEOUT,
                )
            except ProviderError as exc:
                if exc.status_code == 409:
                    expected = exc.details.get("expected_chunk_seq")
                    if maybe_stored and (expected is None or expected == seq + 1):
                        logger.info(
                            "illocution: chunk %d of %s was stored before its answer was lost; "
                            "moving on",
                            seq,
                            self.session_id,
                        )
                        self.next_chunk_seq = seq + 1
                        self._chunk_done(None)
                        return
                    raise self._sequence_error(exc, seq) from None
                if exc.status_code in (404, 410):
                    raise self._expired_error(exc) from None
                if not self._may_retry(exc, attempt):
                    raise
                if not exc.details.get("not_sent") and not isinstance(exc, RateLimited):
                    maybe_stored = True
                await self._tuning.sleep(self._backoff(attempt, exc))
                continue
            ack = translate.chunk_ack_from_wire(self._http.parse_json(response))
            self.next_chunk_seq = ack.next_chunk_seq if ack.next_chunk_seq is not None else seq + 1
            self._chunk_done(ack.expires_at)
            return

    def _chunk_done(self, expires_at: datetime | None) -> None:
        self.chunks_uploaded += 1
        self._touch(expires_at)

    def _may_retry(self, exc: ProviderError, attempt: int) -> bool:
        if not exc.retryable or attempt >= self._tuning.retry.attempts:
            return False
        return self._tuning.retry.waits_for(getattr(exc, "retry_after", None))

    def _backoff(self, attempt: int, exc: ProviderError) -> float:
        """The shared backoff before retry ``attempt`` (``Retry-After`` honoured)."""
        return self._tuning.retry.delay(attempt, getattr(exc, "retry_after", None))

    def _sequence_error(self, exc: ProviderError, seq: int) -> Conflict:
        expected = exc.details.get("expected_chunk_seq")
        message = f"chunk_seq {seq} was refused as out of order"
        message += (
            f": the server expects chunk_seq {expected}"
            if expected is not None
            else f" ({exc.message})"
        )
        return Conflict(
            message,
            provider=self.provider_name,
            status_code=409,
            request_id=exc.request_id,
            body_excerpt=exc.body_excerpt,
            method=exc.method,
            url=exc.url,
            retryable=False,
            details={**exc.details, "sent_chunk_seq": seq},
            hint="chunks must be uploaded strictly in order; this is a bug, please report it",
        )

    def _expired_error(self, exc: ProviderError) -> LiveSessionError:
        self._expired = True
        when = f" (expires_at was {self.expires_at.isoformat()})" if self.expires_at else ""
        return LiveSessionError(
            f"live session {self.session_id} has expired: the server no longer knows it"
            f"{when}; HTTP {exc.status_code}: {exc.message}",
            provider=self.provider_name,
            session_id=self.session_id,
            hint="send audio or keepalive() before expires_at, or start with a longer ttl",
        )

    # -- lifetime ---------------------------------------------------------------------------

    def _touch(self, expires_at: datetime | None) -> None:
        """Moves the keepalive deadline after a successful chunk or keepalive."""
        if expires_at is not None:
            self.expires_at = expires_at
        remaining = float(self._ttl)
        if expires_at is not None:
            left = (expires_at - self._tuning.wall_clock()).total_seconds()
            if 0 < left <= self._ttl + 60:
                remaining = left
        now = self._tuning.clock()
        margin = self._tuning.keepalive_margin
        self._deadline = now + remaining
        self._keepalive_due = now + (remaining - margin if remaining > margin else remaining / 2)

    def _silent(self) -> bool:
        """Whether automatic keepalives still apply (audio may still come)."""
        return not (self.ended or self._finalize_requested or self._cancel_requested)

    async def _keepalive_loop(self) -> None:
        while self._silent():
            wait = self._keepalive_due - self._tuning.clock()
            if wait > 0:
                await self._tuning.sleep(min(wait, self._tuning.keepalive_poll))
                continue
            async with self._lock:
                if not self._silent():
                    return
                if self._keepalive_due > self._tuning.clock():
                    continue
                try:
                    await self._keepalive_now()
                except LiveSessionError as exc:
                    self._fail(exc)
                    return
                except ConvoportError as exc:
                    logger.warning("illocution: automatic keepalive failed: %s", exc)
                    left = max(0.0, self._deadline - self._tuning.clock())
                    self._keepalive_due = self._tuning.clock() + min(5.0, left / 2)

    async def _keepalive(self) -> None:
        self._check_open("keep the session alive")
        async with self._lock:
            await self._keepalive_now()

    async def _keepalive_now(self) -> None:
        data = await self._control("keepalive")
        self.keepalives_sent += 1
        self._touch(translate.expiry_from_wire(data))

    async def _control(self, action: str, *, conflict_ok_on_retry: bool = False) -> Any:
        attempt = 0
        maybe_done = False
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    "POST", self.control_url, json={"action": action}, retry=False
                )
            except ProviderError as exc:
                if exc.status_code in (404, 410):
                    raise self._expired_error(exc) from None
                if exc.status_code == 409 and maybe_done and conflict_ok_on_retry:
                    return None
                if not self._may_retry(exc, attempt):
                    raise
                if not exc.details.get("not_sent") and not isinstance(exc, RateLimited):
                    maybe_done = True
                await self._tuning.sleep(self._backoff(attempt, exc))
                continue
            return self._http.parse_json(response)

    async def _finalize(self) -> None:
        if self._finalized:
            return
        self._check_open("finalize")
        async with self._lock:
            self._check_open("finalize")
            if self._buffer:
                await self._upload_next(len(self._buffer))
            self._finalize_requested = True
            try:
                await self._control("finalize", conflict_ok_on_retry=True)
            except ConvoportError as exc:
                self._fail(exc)
                raise
            self._finalized = True
        self._deliver_done()
        if not self.ended:
            self._result_watch = asyncio.create_task(self._watch_result())

    async def _watch_result(self) -> None:
        """Bounds the wait for ``done`` after finalize (``result_timeout`` seconds)."""
        timeout = self._tuning.result_timeout
        await asyncio.sleep(timeout)
        if self.ended:
            return
        self._fail(
            LiveSessionError(
                f"live session {self.session_id} sent no 'done' event within {timeout:g}s "
                "after finalize (the stream stayed open without a result)",
                provider=self.provider_name,
                session_id=self.session_id,
                hint="raise ILLOCUTION_RESULT_TIMEOUT (result_timeout) to wait longer; "
                "Illocution has no read-back API: results not streamed are lost",
            )
        )
        await self._stop_connection()

    async def _cancel(self) -> None:
        if self.ended or self._cancel_requested:
            return
        self._cancel_requested = True
        try:
            await self._control("cancel", conflict_ok_on_retry=True)
        except LiveSessionError:
            # The session is already gone on the server: nothing left to cancel.
            self._end(SessionStatus.CANCELLED)
            return
        if not self.ended:
            self._watchdog = asyncio.create_task(self._cancel_watchdog())

    async def _cancel_watchdog(self) -> None:
        await self._tuning.sleep(CANCEL_GRACE)
        self._end(SessionStatus.CANCELLED)

    async def _close(self) -> None:
        for task in (self._keepalive_task, self._watchdog, self._result_watch):
            if task is not None and not task.done() and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._stop_connection()
        if not self.ended:
            self._fail(
                LiveSessionError(
                    f"live session {self.session_id} was closed before it ended",
                    provider=self.provider_name,
                    session_id=self.session_id,
                )
            )

    # -- result: the base class builds it; these are Illocution's words ---------------------

    @property
    def cancelled(self) -> bool:
        """Whether this handle cancelled the session."""
        return self._cancel_requested

    def _live_status(self) -> SessionStatus:
        if self.phase is not None and self.phase in wire.PHASE_STATUS:
            return wire.PHASE_STATUS[self.phase]
        return SessionStatus.PENDING

    def _provider_status(self, status: SessionStatus) -> str | None:
        if status is SessionStatus.CANCELLED:
            return "cancelled"
        if status is SessionStatus.FAILED:
            return "expired" if self._expired else "error"
        return self.phase

    def _session_data(self) -> JSONDict:
        """``session_id``, ``conversation_id``, the start answer, the done payload, the errors
        and every vendor event (Illocution has no read-back: this is all there is)."""
        data: dict[str, Any] = {
            "session_id": self.session_id,
            "conversation_id": self.conversation_id,
            "start": self._start.raw,
        }
        if self._done is not None:
            data["done"] = dict(self._done.provider_data)
        errors = self._errors_received
        if errors:
            data["errors"] = [
                {"code": e.code, "message": e.message, **({"fatal": True} if e.fatal else {})}
                for e in errors
            ]
        events = self._vendor_events
        if events:
            data["events"] = {k: list(v) for k, v in events.items()}
        return data


__all__ = [
    "RESULT_TIMEOUT",
    "IllocutionLiveSession",
    "LiveTuning",
    "wav_header_for",
]
