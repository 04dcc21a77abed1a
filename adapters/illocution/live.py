"""The Illocution live handle: numbered chunk uploads, one SSE consumer, control actions.

Behaviour (see the adapter docstring for the user-facing summary):

* **One consumer.** The event stream (``GET events``) is opened once, before the first chunk,
  by a background task, and never opened again: not on a retry, not after a drop. A 409 means
  someone else holds it (:class:`LiveSessionError`). Only an answer that proves no stream was
  opened (a 5xx/429 *response*, or a connection never made) is tried again.
* **Chunks.** ``send_audio`` data is buffered and cut into ``chunk_size`` chunks, uploaded one
  at a time (a lock) as multipart (``chunk_seq`` + ``chunk``). The local sequence follows every
  answer's ``next_chunk_seq``. A failed upload is tried again with the *same* sequence number
  (bounded attempts, jittered backoff, ``Retry-After`` honoured); a 409 on such a retry, when
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
* **Expiry.** 404/410 on a chunk or control request means the server no longer knows the
  session: :class:`LiveSessionError` saying it expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
from httpx_sse import SSEError

from convoport._wav import wav_header
from convoport.adapters.illocution import sse, translate, wire
from convoport.errors import (
    Conflict,
    ConvoportError,
    LiveSessionError,
    MalformedResponse,
    ProviderError,
    RateLimited,
)
from convoport.http import HttpClient, RetryPolicy
from convoport.live import (
    DoneEvent,
    ErrorEvent,
    LiveEvent,
    LiveOptions,
    LiveSessionBase,
    StatusEvent,
)
from convoport.model import Session, SessionStatus, Transcript

logger = logging.getLogger("convoport.adapters.illocution")

#: Timeouts: chunk uploads get a generous write timeout; the event stream has no read timeout.
CHUNK_TIMEOUT = httpx.Timeout(60.0)
EVENTS_TIMEOUT = httpx.Timeout(30.0, read=None)
#: Seconds to wait, after an acknowledged cancel, for the stream's error event before ending.
CANCEL_GRACE = 5.0

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


class IllocutionLiveSession(LiveSessionBase):
    """A live capture session (see the module docstring). Obtain it from
    ``client.start_live(options)``."""

    provider = "illocution"

    def __init__(
        self,
        *,
        http: HttpClient,
        start: translate.LiveStart,
        options: LiveOptions,
        ttl: int,
        tuning: LiveTuning,
    ) -> None:
        super().__init__(provider="illocution", session_id=start.session_id, options=options)
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
        self._stream_opened = False
        self._attached = asyncio.Event()
        self._attach_error: Exception | None = None
        self._events_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._deadline = 0.0
        self._keepalive_due = 0.0
        self._touch(start.expires_at)

    def __repr__(self) -> str:
        return f"IllocutionLiveSession(session_id={self.session_id!r})"

    # -- startup ----------------------------------------------------------------------------

    async def attach(self) -> None:
        """Opens the event stream (once) and waits until the server accepted it."""
        if self._events_task is not None:
            raise LiveSessionError(
                "the event stream is already attached; Illocution allows one consumer",
                provider=self.provider_name,
                session_id=self.session_id,
            )
        self._events_task = asyncio.create_task(self._read_events())
        waiter = asyncio.create_task(self._attached.wait())
        try:
            await asyncio.wait({self._events_task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not self._attached.is_set():
            error = self._attach_error or LiveSessionError(
                "the event stream closed before it was attached",
                provider=self.provider_name,
                session_id=self.session_id,
            )
            raise error
        self._keepalive_task = asyncio.create_task(self._keepalive_loop())

    # -- events -----------------------------------------------------------------------------

    async def _read_events(self) -> None:
        attempts = max(1, self._tuning.retry.attempts)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._http.stream(
                    "GET",
                    self.events_url,
                    headers={"accept": "text/event-stream"},
                    retry=False,
                    timeout=EVENTS_TIMEOUT,
                ) as streamed:
                    self._stream_opened = True
                    self._attached.set()
                    await self._consume(streamed.response)
                return
            except asyncio.CancelledError:
                raise
            except ProviderError as exc:
                if self._stream_opened:
                    self._stream_lost(exc)
                    return
                if self._answered_without_stream(exc) and attempt < attempts:
                    await self._tuning.sleep(self._backoff(attempt, exc))
                    continue
                self._attach_error = self._attach_failure(exc)
                return
            except httpx.HTTPError as exc:
                error = self._http.transport_error(exc, httpx.Request("GET", self.events_url))
                if self._stream_opened:
                    self._stream_lost(error)
                else:
                    self._attach_error = error
                return
            except SSEError as exc:
                error = MalformedResponse(
                    f"the event stream is not server-sent events: {exc}",
                    provider=self.provider_name,
                    url=self.events_url,
                )
                if self._stream_opened:
                    self._fail(error)
                else:
                    self._attach_error = error
                return
            except Exception as exc:  # never leave a consumer waiting on a dead reader
                if self._stream_opened:
                    self._fail(exc)
                else:
                    self._attach_error = exc
                return

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

    async def _consume(self, response: httpx.Response) -> None:
        async for event in sse.neutral_events(response, session_id=self.session_id):
            if self._on_event(event):
                return
        self._stream_ended()

    def _on_event(self, event: LiveEvent) -> bool:
        """Handles one event; True when it ends the stream."""
        if isinstance(event, StatusEvent):
            self.phase = event.phase
        if isinstance(event, DoneEvent):
            cid = event.provider_data.get("conversation_id")
            if isinstance(cid, str) and cid:
                self.conversation_id = cid
            self._done = event
            if self._finalized:
                self._deliver_done()
            return True
        self._emit(event)
        return isinstance(event, ErrorEvent) and event.fatal

    def _deliver_done(self) -> None:
        if self._done is not None and not self._done_delivered:
            self._done_delivered = True
            self._emit(self._done)

    def _stream_ended(self) -> None:
        """The server closed the stream without ``done`` or ``error``."""
        if self._done is not None or self._finished:
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

    def _stream_lost(self, exc: ProviderError) -> None:
        if self._done is not None or self._finished:
            return
        if self._cancel_requested:
            self._end(SessionStatus.CANCELLED)
            return
        self._fail(
            LiveSessionError(
                f"the event stream of live session {self.session_id} was lost: {exc.message}",
                provider=self.provider_name,
                session_id=self.session_id,
                hint="Illocution cannot resume an event stream; results after the loss are "
                "lost (convoport never opens a second consumer)",
            )
        )

    # -- audio ------------------------------------------------------------------------------

    def _check_open(self, what: str) -> None:
        if self._finished or self._finalize_requested or self._cancel_requested:
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
            ack = translate.chunk_ack(self._http.parse_json(response))
            self.next_chunk_seq = ack.next_chunk_seq if ack.next_chunk_seq is not None else seq + 1
            self._chunk_done(ack.expires_at)
            return

    def _chunk_done(self, expires_at: datetime | None) -> None:
        self.chunks_uploaded += 1
        self._touch(expires_at)

    def _may_retry(self, exc: ProviderError, attempt: int) -> bool:
        if not exc.retryable or attempt >= self._tuning.retry.attempts:
            return False
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is None or retry_after <= self._tuning.retry.retry_after_cap

    def _backoff(self, attempt: int, exc: ProviderError) -> float:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        policy = self._tuning.retry
        ceiling = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling) if ceiling > 0 else 0.0

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
        return not (self._finished or self._finalize_requested or self._cancel_requested)

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
        self._touch(translate.control_expiry(data))

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

    async def _cancel(self) -> None:
        if self._finished or self._cancel_requested:
            return
        self._cancel_requested = True
        try:
            await self._control("cancel", conflict_ok_on_retry=True)
        except LiveSessionError:
            # The session is already gone on the server: nothing left to cancel.
            self._end(SessionStatus.CANCELLED)
            return
        if not self._finished:
            self._watchdog = asyncio.create_task(self._cancel_watchdog())

    async def _cancel_watchdog(self) -> None:
        await self._tuning.sleep(CANCEL_GRACE)
        self._end(SessionStatus.CANCELLED)

    async def _close(self) -> None:
        for task in (self._keepalive_task, self._watchdog, self._events_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if not self._finished:
            self._fail(
                LiveSessionError(
                    f"live session {self.session_id} was closed before it ended",
                    provider=self.provider_name,
                    session_id=self.session_id,
                )
            )

    # -- result -----------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        """Whether this handle cancelled the session."""
        return self._cancel_requested

    def _status(self) -> SessionStatus:
        if self._done_delivered:
            return SessionStatus.COMPLETED
        if self._cancel_requested:
            return SessionStatus.CANCELLED
        if self._finished:
            return SessionStatus.FAILED
        if self._finalize_requested:
            return SessionStatus.PROCESSING
        if self.phase is not None and self.phase in wire.PHASE_STATUS:
            return wire.PHASE_STATUS[self.phase]
        return SessionStatus.PENDING

    async def _final_session(self) -> Session:
        status = self._status()
        provider_status = self.phase
        if status is SessionStatus.CANCELLED:
            provider_status = "cancelled"
        elif status is SessionStatus.FAILED:
            provider_status = "expired" if self._expired else "error"
        ends = [u.end for u in self._sorted_finals() if u.end is not None]
        data: dict[str, Any] = {
            "session_id": self.session_id,
            "conversation_id": self.conversation_id,
            "start": self._start.raw,
        }
        if self._done is not None:
            data["done"] = dict(self._done.provider_data)
        if self._errors:
            data["errors"] = [
                {"code": e.code, "message": e.message, **({"fatal": True} if e.fatal else {})}
                for e in self._errors
            ]
        if self._extras:
            data["events"] = {k: list(v) for k, v in self._extras.items()}
        return Session(
            provider=self.provider_name,
            id=self.session_id,
            status=status,
            provider_status=provider_status,
            duration=max(ends) if ends else None,
            metadata=dict(self.options.metadata),
            provider_data=data,
        )

    async def _final_transcript(self) -> Transcript:
        """The final transcripts, each utterance's ``provider_data`` joined with the
        ``emotion`` and ``cognitive`` events of the same ``utterance_id`` (normalised), so it
        mirrors a batch ``TimelineEntry``."""
        joined: dict[str, dict[str, Any]] = {}
        for name in ("emotion", "cognitive"):
            for data in self._extras.get(name, []):
                uid = data.get("utterance_id")
                if isinstance(uid, str):
                    joined.setdefault(uid, {})[name] = data
        utterances = []
        for u in self._sorted_finals():
            extra = joined.get(u.id or "")
            if extra:
                u = attrs.evolve(u, provider_data={**u.provider_data, **extra})
            utterances.append(u)
        return Transcript(
            session_id=self.session_id,
            utterances=tuple(utterances),
            language=self._main_language(),
            engine=self.provider_name,
        )


__all__ = [
    "IllocutionLiveSession",
    "LiveTuning",
    "wav_header",
    "wav_header_for",
]
