"""The Gladia live session handle: one WebSocket (httpx-ws), resumed after drops.

Flow: ``POST /v2/live`` (the adapter) gives the job id and a WebSocket URL carrying a
temporary token; this handle opens that URL through the adapter's own ``httpx.AsyncClient``
(so an injected transport — the emulator, a cassette replay — reaches the socket too) with no
credentials, and:

* sends audio as binary frames of at most 1 MiB (larger ``send_audio`` calls are split);
* keeps every byte Gladia has not acknowledged (``audio_chunk`` acks: ``data.byte_range[1]``
  is the exclusive, cumulative end of what arrived) and trims the buffer on each ack;
* on an abnormal close (any code but 1000/1001 and 4400-4499) the base class's reconnect loop
  (:class:`~convoport.live.LiveSessionBase`) reopens the **same URL**, up to
  ``ws_reconnect_attempts`` times in a row with the shared full-jitter backoff
  (:meth:`convoport.http.RetryPolicy.delay`: a random time up to
  ``min(ws_backoff_base * 2**(n-1), ws_backoff_max)`` seconds) and emits
  ``StatusEvent(phase="reconnecting")``; this handle then resends the unacknowledged bytes
  (and ``stop_recording`` if it was not acknowledged). When the attempts run out, or on a 44xx
  close, the event stream ends with a ``LiveSessionError``;
* maps every server message to neutral events (:func:`~convoport.adapters.gladia.translate.
  live_events`); like Gladia's SDKs it emits a synthetic ``StatusEvent(phase="start_session")``
  once the socket is open (a ``start_session`` sent by the server afterwards is passed through
  as a ``VendorEvent``);
* ``finalize()`` sends ``{"type": "stop_recording"}``; Gladia must then close the socket within
  ``live_close_timeout`` seconds (default :data:`CLOSE_TIMEOUT`; else the stream ends with a
  ``LiveSessionError`` saying so: the wait is bounded); after the server's normal close it polls
  ``GET /v2/live/{id}`` until the job is ``done``/``error`` (``live_poll_timeout`` seconds,
  every ``live_poll_interval``) and ends with ``DoneEvent`` — or a fatal ``ErrorEvent`` when the
  job errored. A job still processing at the deadline gives a non-fatal ``ErrorEvent`` and a
  ``DoneEvent``; the result then holds the finals received.
* the result's ``Session`` is the fetched job (the read-back); its ``Transcript`` the job's
  transcript, else the ``post_final_transcript`` message, else the finals received. Without a
  fetched job the session is built from what arrived (PROCESSING unless cancelled or failed:
  Gladia may still be post-processing).
* ``cancel()`` closes the socket (code 1000) and ends the stream. Gladia has no cancel: it still
  post-processes what it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import attrs
import wsproto.events
from httpx_ws import (
    AsyncWebSocketSession,
    WebSocketDisconnect,
    WebSocketNetworkError,
    WebSocketUpgradeError,
    aconnect_ws,
)

from convoport.errors import ConvoportError, LiveSessionError, MalformedResponse
from convoport.http import HttpClient, RetryPolicy
from convoport.live import (
    AudioAcknowledged,
    ConnectionClosed,
    ConnectionDropped,
    DoneEvent,
    ErrorEvent,
    LiveOptions,
    LiveSessionBase,
    ReadBack,
    StatusEvent,
    VendorEvent,
)
from convoport.model import Session, SessionStatus, Summary, Transcript
from convoport.parsing import Payload, loads_json

from . import translate, wire

logger = logging.getLogger("convoport.adapters.gladia")

#: Largest server message accepted (a ``post_final_transcript`` of a long session is big).
MAX_MESSAGE_BYTES = 64 << 20

#: Seconds Gladia has, after ``stop_recording``, to close the socket (``live_close_timeout``).
CLOSE_TIMEOUT = 60.0

#: Fetches the raw job ``GET /v2/live/{id}`` (the adapter's ``_get_job``).
FetchJob = Callable[[str], Awaitable[Any]]


def frame_slices(data: bytes, limit: int = wire.MAX_FRAME_BYTES) -> list[bytes]:
    """``data`` cut into frames of at most ``limit`` bytes."""
    return [data[i : i + limit] for i in range(0, len(data), limit)]


def _leaf(exc: BaseException) -> BaseException:
    """The first non-group exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _dropped(code: int, reason: str) -> ConnectionDropped:
    """A drop after an abnormal close ``code`` (what the reconnecting event carries)."""
    return ConnectionDropped(f"code {code}", data={"close_code": code, "reason": reason})


class GladiaLiveSession(LiveSessionBase):
    """A live Gladia job being streamed. Obtain it from ``client.start_live(options)``.

    ``http`` is the adapter's HTTP layer (its ``httpx`` client carries the socket, its
    redactor learns the URL's token); ``fetch_job`` reads the job back after the socket's
    normal close; ``reconnect`` bounds the reconnects; ``poll_timeout``/``poll_interval`` are
    seconds, and so is ``close_timeout`` (how long Gladia has to close the socket after
    ``stop_recording``).
    """

    _connection_name: ClassVar[str] = "live socket"
    _reads_back: ClassVar[bool] = True

    def __init__(
        self,
        *,
        http: HttpClient,
        fetch_job: FetchJob,
        job_id: str,
        url: str,
        options: LiveOptions,
        init_body: dict[str, Any],
        reconnect: RetryPolicy,
        poll_timeout: float,
        poll_interval: float,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        close_timeout: float = CLOSE_TIMEOUT,
    ) -> None:
        super().__init__(
            provider=wire.PROVIDER,
            session_id=job_id,
            options=options,
            reconnect=reconnect,
            sleep=sleep,
        )
        self._http = http
        self._fetch_job = fetch_job
        self._url = url
        self._poll_timeout = poll_timeout
        self._poll_interval = poll_interval
        self._close_timeout = close_timeout
        self.init_body = init_body
        token_values = [v for k, v in parse_qsl(urlsplit(url).query) if k.lower() == "token"]
        http.redactor.add(*token_values)
        self._safe_url = http.redactor.url(url)
        self._buffer = bytearray()
        self._buffer_start = 0
        self._ws: AsyncWebSocketSession | None = None
        self._lock = asyncio.Lock()
        self._stop_requested = False
        self._stop_acked = False
        self._announced = False
        self._job_session: Session | None = None
        self._job_transcript: Transcript | None = None
        self._job_summary: Summary | None = None
        self._post_final: Any = None
        self._close_watch: asyncio.Task[None] | None = None
        self.connections = 0

    def __repr__(self) -> str:
        return f"GladiaLiveSession(id={self.session_id!r}, url={self._safe_url!r})"

    @property
    def reconnects(self) -> int:
        """How many times the socket was reopened after a drop."""
        return max(0, self.connections - 1)

    @property
    def unacknowledged_bytes(self) -> int:
        """Audio bytes sent (or queued) that Gladia has not acknowledged yet."""
        return len(self._buffer)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Opens the socket (with the reconnect policy); raises ``LiveSessionError`` when it
        cannot be opened."""
        await self._start_connection()

    async def _send(self, data: bytes) -> None:
        if self._stop_requested:
            raise LiveSessionError(
                "audio sent after finalize(); Gladia accepts no more audio once stopped",
                provider=wire.PROVIDER,
                session_id=self.session_id,
            )
        async with self._lock:
            self._buffer += data
            ws = self._ws
            if ws is None:
                return  # reconnecting: the buffer is resent once the socket is back
            try:
                for piece in frame_slices(data):
                    await ws.send_bytes(piece)
            except Exception as exc:  # the reader sees the close and resends the buffer
                logger.debug(
                    "gladia live %s: send failed (%s)", self.session_id, type(exc).__name__
                )

    async def _finalize(self) -> None:
        async with self._lock:
            if self._stop_requested:
                return
            self._stop_requested = True
            self._close_watch = asyncio.create_task(self._watch_close())
            ws = self._ws
            if ws is None:
                return
            try:
                await ws.send_text(json.dumps(wire.STOP_RECORDING_ACTION))
            except Exception as exc:
                logger.debug(
                    "gladia live %s: stop failed (%s)", self.session_id, type(exc).__name__
                )

    async def _watch_close(self) -> None:
        """Bounds the wait for Gladia's close after ``stop_recording`` (``close_timeout`` s)."""
        await asyncio.sleep(self._close_timeout)
        if self.ended or not self._connection_running:
            return
        self._fail(
            LiveSessionError(
                f"gladia did not close the live socket of job {self.session_id} within "
                f"{self._close_timeout:g}s after stop_recording",
                provider=wire.PROVIDER,
                session_id=self.session_id,
                hint="raise live_close_timeout to wait longer; the job may still finish: "
                f"see 'convoport sessions show gladia {self.session_id}'",
            )
        )
        await self._stop_connection()

    async def _cancel(self) -> None:
        await self._stop_connection()
        self._end(SessionStatus.CANCELLED)

    async def _close(self) -> None:
        watch = self._close_watch
        if watch is not None and not watch.done() and watch is not asyncio.current_task():
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watch
        if self._connection_running:
            await self._stop_connection()
            self._end(SessionStatus.CANCELLED)

    # -- the connection (the base class reconnects) ---------------------------------------

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncWebSocketSession]:
        connection: AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
            self._url, self._http.httpx_client, max_message_size_bytes=MAX_MESSAGE_BYTES
        )
        async with connection as ws:
            try:
                yield ws
            finally:
                self._ws = None
                self.connections += 1

    async def _on_connected(self, conn: AsyncWebSocketSession, *, reconnected: bool) -> None:
        async with self._lock:
            self._ws = conn
            for piece in frame_slices(bytes(self._buffer)):
                await conn.send_bytes(piece)
            if self._stop_requested and not self._stop_acked:
                await conn.send_text(json.dumps(wire.STOP_RECORDING_ACTION))
        if not self._announced:
            self._announced = True
            self._emit(
                StatusEvent(
                    phase=wire.MSG_START_SESSION,
                    status=SessionStatus.ACTIVE,
                    provider_data={"id": self.session_id, "synthetic": True},
                )
            )

    async def _receive(self, conn: AsyncWebSocketSession) -> AsyncGenerator[str | bytes, None]:
        while True:
            try:
                event = await conn.receive()
            except WebSocketDisconnect as exc:
                if exc.code in wire.NORMAL_CLOSE_CODES:
                    return
                raise self._close_error(exc.code, exc.reason) from None
            except WebSocketNetworkError:
                raise _dropped(1006, "network error") from None
            if isinstance(event, wsproto.events.TextMessage):
                yield event.data
            elif isinstance(event, wsproto.events.BytesMessage):
                yield bytes(event.data)

    def _close_error(self, code: int, reason: str) -> ConnectionDropped | LiveSessionError:
        """A drop to reconnect after, or (a 44xx close) the end."""
        if code in wire.NO_RETRY_CLOSE_RANGE:
            return LiveSessionError(
                f"gladia closed the live socket with code {code}"
                + (f": {reason}" if reason else ""),
                provider=wire.PROVIDER,
                session_id=self.session_id,
                hint="a 44xx close is final (the job may have ended or expired)",
            )
        return _dropped(code, reason)

    def _classify(self, exc: BaseException) -> ConnectionClosed:
        leaf = _leaf(exc)
        if isinstance(leaf, WebSocketDisconnect):
            if leaf.code in wire.NORMAL_CLOSE_CODES:
                return ConnectionClosed.normal()
            return self._closed_by(self._close_error(leaf.code, leaf.reason))
        if isinstance(leaf, WebSocketUpgradeError):
            status = leaf.response.status_code
            # A refused upgrade (the token is unknown or the job ended) cannot be fixed by
            # reconnecting; a 5xx or 429 can.
            if 400 <= status < 500 and status not in (408, 429):
                code = 4400 + min(status - 400, 99)
                return self._closed_by(
                    self._close_error(code, f"upgrade refused with HTTP {status}")
                )
            return self._closed_by(self._close_error(1011, f"upgrade failed with HTTP {status}"))
        if isinstance(leaf, ConvoportError):
            return ConnectionClosed.dropped(_dropped(1006, leaf.message))
        # Anything else the socket raised (httpx, httpcore, wsproto, anyio stream errors: a
        # write racing the server's close) means the connection is gone: a drop.
        logger.debug("gladia live %s: socket error", self.session_id, exc_info=leaf)
        return ConnectionClosed.dropped(_dropped(1006, type(leaf).__name__))

    @staticmethod
    def _closed_by(error: ConnectionDropped | LiveSessionError) -> ConnectionClosed:
        if isinstance(error, ConnectionDropped):
            return ConnectionClosed.dropped(error)
        return ConnectionClosed.fatal(error)

    def _safe_text(self, text: str) -> str:
        return self._http.redactor.text(text)

    # -- translation ------------------------------------------------------------------------

    def _on_message(self, message: str | bytes) -> None:
        """Translates one server message. Never raises for what the server sent: a frame
        that is not JSON (or too deep, or with an integer no float holds) or that cannot be
        read is a non-fatal ``ErrorEvent(code="malformed")``, so one bad message never
        ends the session (nor passes for a dropped socket)."""
        if isinstance(message, bytes):
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError:
                self._emit(ErrorEvent(message="gladia sent a binary frame", code="malformed"))
                return
        try:
            data = loads_json(message)
        except ValueError as exc:
            self._emit(
                ErrorEvent(
                    message=f"gladia sent a message that is not readable JSON ({exc})",
                    code="malformed",
                    provider_data={"text": self._http.redactor.text(message[:500])},
                )
            )
            return
        for event in translate.live_events(data, session_id=self.session_id):
            if isinstance(event, ErrorEvent):
                event = attrs.evolve(event, message=self._http.redactor.text(event.message))
            if isinstance(event, AudioAcknowledged):
                self._trim(event.byte_end)
            elif isinstance(event, StatusEvent):
                if event.phase == wire.MSG_STOP_RECORDING:
                    self._stop_acked = True
                elif event.phase == wire.MSG_START_SESSION and self._announced:
                    self._emit(VendorEvent(name=wire.MSG_START_SESSION, data=event.provider_data))
                    continue
            self._emit(event)
        if isinstance(data, dict) and data.get("type") == wire.MSG_POST_FINAL_TRANSCRIPT:
            self._post_final = data.get("data")

    def _trim(self, byte_end: int) -> None:
        if byte_end <= self._buffer_start:
            return
        count = min(byte_end - self._buffer_start, len(self._buffer))
        del self._buffer[:count]
        self._buffer_start += count

    # -- the end --------------------------------------------------------------------------

    async def _on_closed(self) -> None:
        """After the normal close: poll the job until done/error, then end the stream."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._poll_timeout
        job: Any = None
        try:
            while True:
                job = await self._fetch_job(self.session_id)
                status = job.get("status") if isinstance(job, dict) else None
                if status in wire.TERMINAL_STATUSES or loop.time() >= deadline:
                    break
                await asyncio.sleep(self._poll_interval)
        except ConvoportError as exc:
            self._emit(ErrorEvent(message=f"could not fetch the finished job: {exc}", code="poll"))
        if job is not None:
            self._read_job(job)
        status = self._job_session.provider_status if self._job_session else None
        if status == "error":
            code = job.get("error_code") if isinstance(job, dict) else None
            self._emit(
                ErrorEvent(
                    message=f"gladia job {self.session_id} ended in error"
                    + (f" (error_code {code})" if code is not None else ""),
                    code=str(code) if code is not None else "error",
                    fatal=True,
                    provider_data={"status": status, "error_code": code},
                )
            )
            return
        if self._job_session is not None and status not in wire.TERMINAL_STATUSES:
            self._emit(
                ErrorEvent(
                    message=f"gladia job {self.session_id} is still {status} after "
                    f"{self._poll_timeout:g}s; the result holds the finals received",
                    code="timeout",
                )
            )
        self._emit(DoneEvent(session_id=self.session_id, provider_data={"status": status}))

    def _read_job(self, job: Any) -> None:
        try:
            self._job_session = translate.session_from_wire(job)
            self._job_transcript = translate.transcript_from_wire(job)
            self._job_summary = translate.summary_from_wire(job)
        except MalformedResponse as exc:
            self._emit(ErrorEvent(message=exc.message, code="malformed"))

    def _provider_status(self, status: SessionStatus) -> str | None:
        return None  # Gladia's word is known only from the job

    async def _read_back(self) -> ReadBack:
        transcript = self._job_transcript
        if transcript is None and isinstance(self._post_final, dict):
            try:
                transcript = translate.result_transcript_from_wire(
                    self.session_id, Payload(wire.PROVIDER, self._post_final, "$data")
                )
            except MalformedResponse:
                transcript = None
        return ReadBack(session=self._job_session, transcript=transcript, summary=self._job_summary)


__all__ = ["FetchJob", "GladiaLiveSession", "frame_slices"]
