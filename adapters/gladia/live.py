"""The Gladia live session handle: one WebSocket (httpx-ws), resumed after drops.

Flow: ``POST /v2/live`` (the adapter) gives the job id and a WebSocket URL carrying a
temporary token; this handle opens that URL through the adapter's own ``httpx.AsyncClient``
(so an injected transport — the emulator, a cassette replay — reaches the socket too) with no
credentials, and:

* sends audio as binary frames of at most 1 MiB (larger ``send_audio`` calls are split);
* keeps every byte Gladia has not acknowledged (``audio_chunk`` acks: ``data.byte_range[1]``
  is the exclusive, cumulative end of what arrived) and trims the buffer on each ack;
* on an abnormal close (any code but 1000/1001 and 4400-4499) reconnects to the **same URL**,
  up to ``ws_reconnect_attempts`` times with backoff ``min(base * 2**(n-1), max)`` seconds,
  resends the unacknowledged bytes (and ``stop_recording`` if it was not acknowledged), and
  emits ``StatusEvent(phase="reconnecting")``; when the attempts run out, or on a 44xx close,
  the event stream ends with a ``LiveSessionError``;
* maps every server message to neutral events (:func:`~convoport.adapters.gladia.translate.
  live_events`); like Gladia's SDKs it emits a synthetic ``StatusEvent(phase="start_session")``
  once the socket is open (a ``start_session`` sent by the server afterwards is passed through
  as a ``VendorEvent``);
* ``finalize()`` sends ``{"type": "stop_recording"}``; after the server's normal close it polls
  ``GET /v2/live/{id}`` until the job is ``done``/``error`` (``live_poll_timeout`` seconds,
  every ``live_poll_interval``) and ends with ``DoneEvent`` — or a fatal ``ErrorEvent`` when the
  job errored. A job still processing at the deadline gives a non-fatal ``ErrorEvent`` and a
  ``DoneEvent``; the result then holds the finals received.
* the result's ``Session`` is the fetched job; its ``Transcript`` the job's transcript, else
  the ``post_final_transcript`` message, else the finals received.
* ``cancel()`` closes the socket (code 1000) and ends the stream. Gladia has no cancel: it still
  post-processes what it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import wsproto.events
from httpx_ws import (
    AsyncWebSocketSession,
    WebSocketDisconnect,
    WebSocketNetworkError,
    WebSocketUpgradeError,
    aconnect_ws,
)

from convoport.errors import ConvoportError, LiveSessionError, MalformedResponse
from convoport.live import (
    AudioAcknowledged,
    DoneEvent,
    ErrorEvent,
    LiveOptions,
    LiveSessionBase,
    StatusEvent,
    VendorEvent,
)
from convoport.model import Session, SessionStatus, Transcript
from convoport.parsing import Payload

from . import translate, wire

if TYPE_CHECKING:
    from .adapter import GladiaAdapter

logger = logging.getLogger("convoport.adapters.gladia")

#: Largest server message accepted (a ``post_final_transcript`` of a long session is big).
MAX_MESSAGE_BYTES = 64 << 20


def frame_slices(data: bytes, limit: int = wire.MAX_FRAME_BYTES) -> list[bytes]:
    """``data`` cut into frames of at most ``limit`` bytes."""
    return [data[i : i + limit] for i in range(0, len(data), limit)]


def _leaf(exc: BaseException) -> BaseException:
    """The first non-group exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class GladiaLiveSession(LiveSessionBase):
    """A live Gladia job being streamed. Obtain it from ``client.start_live(options)``."""

    provider = wire.PROVIDER

    def __init__(
        self,
        *,
        adapter: GladiaAdapter,
        job_id: str,
        url: str,
        options: LiveOptions,
        init_body: dict[str, Any],
    ) -> None:
        super().__init__(provider=wire.PROVIDER, session_id=job_id, options=options)
        self._adapter = adapter
        self._config = adapter.config
        self._url = url
        self.init_body = init_body
        token_values = [v for k, v in parse_qsl(urlsplit(url).query) if k.lower() == "token"]
        adapter.redactor.add(*token_values)
        self._safe_url = adapter.redactor.url(url)
        self._buffer = bytearray()
        self._buffer_start = 0
        self._ws: AsyncWebSocketSession | None = None
        self._lock = asyncio.Lock()
        self._stop_requested = False
        self._stop_acked = False
        self._cancelled = False
        self._announced = False
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._job: Any = None
        self._job_session: Session | None = None
        self._job_transcript: Transcript | None = None
        self._post_final: Any = None
        self.connections = 0
        self._received = 0  # server messages on the current connection

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
        self._reader = asyncio.create_task(self._run(), name=f"gladia-live-{self.session_id}")
        await self._ready

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
            ws = self._ws
            if ws is None:
                return
            try:
                await ws.send_text(json.dumps(wire.STOP_RECORDING_ACTION))
            except Exception as exc:
                logger.debug(
                    "gladia live %s: stop failed (%s)", self.session_id, type(exc).__name__
                )

    async def _cancel(self) -> None:
        self._cancelled = True
        await self._stop_reader()
        self._end(SessionStatus.CANCELLED)

    async def _close(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._cancelled = True
            await self._stop_reader()
            self._end(SessionStatus.CANCELLED)

    async def _stop_reader(self) -> None:
        reader = self._reader
        if reader is None or reader.done() or reader is asyncio.current_task():
            return
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader

    # -- the reader: connect, receive, reconnect ------------------------------------------

    async def _run(self) -> None:
        try:
            await self._connect_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must end the stream, not hang the consumer
            logger.debug("gladia live %s: reader failed", self.session_id, exc_info=True)
            self._fail_with(
                LiveSessionError(
                    f"the live session failed: {type(exc).__name__}: "
                    f"{self._adapter.redactor.text(str(exc))[:200]}",
                    provider=wire.PROVIDER,
                    session_id=self.session_id,
                )
            )

    async def _connect_loop(self) -> None:
        failures = 0
        while True:
            code, reason, connected = await self._connect_once()
            if self._cancelled:
                return
            if code in wire.NORMAL_CLOSE_CODES:
                await self._finish()
                return
            if code in wire.NO_RETRY_CLOSE_RANGE:
                self._fail_with(
                    LiveSessionError(
                        f"gladia closed the live socket with code {code}"
                        + (f": {reason}" if reason else ""),
                        provider=wire.PROVIDER,
                        session_id=self.session_id,
                        hint="a 44xx close is final (the job may have ended or expired)",
                    )
                )
                return
            # A connection that delivered messages resets the count; one that opened and died
            # at once (or never opened) is one more failed attempt.
            failures = 1 if connected and self._received else failures + 1
            if failures > self._config.ws_reconnect_attempts:
                self._fail_with(
                    LiveSessionError(
                        f"lost the live socket (code {code}) and could not reconnect after "
                        f"{self._config.ws_reconnect_attempts} attempts",
                        provider=wire.PROVIDER,
                        session_id=self.session_id,
                        hint="check the network; the audio not acknowledged was not delivered",
                    )
                )
                return
            delay = min(
                self._config.ws_backoff_base * 2 ** (failures - 1), self._config.ws_backoff_max
            )
            logger.warning(
                "gladia live %s: socket closed with code %s; reconnecting to %s in %.2fs "
                "(attempt %d of %d, %d bytes to resend)",
                self.session_id,
                code,
                self._safe_url,
                delay,
                failures,
                self._config.ws_reconnect_attempts,
                len(self._buffer),
            )
            if self._ready.done():
                self._emit(
                    StatusEvent(
                        phase="reconnecting",
                        status=None,
                        provider_data={"close_code": code, "reason": reason, "attempt": failures},
                    )
                )
            await asyncio.sleep(delay)

    async def _connect_once(self) -> tuple[int, str, bool]:
        """One connection: (close code, reason, whether the socket opened)."""
        connected = False
        try:
            connection: AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
                self._url,
                self._adapter.http.httpx_client,
                max_message_size_bytes=MAX_MESSAGE_BYTES,
            )
            async with connection as ws:
                async with self._lock:
                    self._ws = ws
                    connected = True
                    self._received = 0
                    await self._resend(ws)
                if not self._announced:
                    self._announced = True
                    if not self._ready.done():
                        self._ready.set_result(None)
                    self._emit(
                        StatusEvent(
                            phase=wire.MSG_START_SESSION,
                            status=SessionStatus.ACTIVE,
                            provider_data={"id": self.session_id, "synthetic": True},
                        )
                    )
                return await self._receive_loop(ws)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return (*self._classify(exc), connected)
        finally:
            self._ws = None
            if connected:
                self.connections += 1

    async def _resend(self, ws: AsyncWebSocketSession) -> None:
        pending = bytes(self._buffer)
        for piece in frame_slices(pending):
            await ws.send_bytes(piece)
        if self._stop_requested and not self._stop_acked:
            await ws.send_text(json.dumps(wire.STOP_RECORDING_ACTION))

    def _classify(self, exc: BaseException) -> tuple[int, str]:
        leaf = _leaf(exc)
        if isinstance(leaf, WebSocketDisconnect):
            return leaf.code, leaf.reason
        if isinstance(leaf, WebSocketUpgradeError):
            status = leaf.response.status_code
            # A refused upgrade (the token is unknown or the job ended) cannot be fixed by
            # reconnecting; a 5xx or 429 can.
            if 400 <= status < 500 and status not in (408, 429):
                return 4400 + min(status - 400, 99), f"upgrade refused with HTTP {status}"
            return 1011, f"upgrade failed with HTTP {status}"
        if isinstance(leaf, ConvoportError):
            return 1006, leaf.message
        # Anything else the socket raised (httpx, httpcore, wsproto, anyio stream errors: a
        # write racing the server's close) means the connection is gone: a drop.
        logger.debug("gladia live %s: socket error", self.session_id, exc_info=leaf)
        return 1006, type(leaf).__name__

    async def _receive_loop(self, ws: AsyncWebSocketSession) -> tuple[int, str, bool]:
        while True:
            try:
                event = await ws.receive()
            except WebSocketDisconnect as exc:
                return exc.code, exc.reason, True
            except WebSocketNetworkError:
                return 1006, "network error", True
            if isinstance(event, wsproto.events.TextMessage):
                self._on_text(event.data)
            elif isinstance(event, wsproto.events.BytesMessage):
                try:
                    self._on_text(bytes(event.data).decode("utf-8"))
                except UnicodeDecodeError:
                    self._emit(ErrorEvent(message="gladia sent a binary frame", code="malformed"))

    def _on_text(self, text: str) -> None:
        self._received += 1
        try:
            message = json.loads(text)
        except ValueError:
            self._emit(
                ErrorEvent(
                    message="gladia sent a message that is not JSON",
                    code="malformed",
                    provider_data={"text": self._adapter.redactor.text(text[:500])},
                )
            )
            return
        for event in translate.live_events(message, session_id=self.session_id):
            if isinstance(event, AudioAcknowledged):
                self._trim(event.byte_end)
            elif isinstance(event, StatusEvent):
                if event.phase == wire.MSG_STOP_RECORDING:
                    self._stop_acked = True
                elif event.phase == wire.MSG_START_SESSION and self._announced:
                    self._emit(VendorEvent(name=wire.MSG_START_SESSION, data=event.provider_data))
                    continue
            self._emit(event)
        if isinstance(message, dict) and message.get("type") == wire.MSG_POST_FINAL_TRANSCRIPT:
            self._post_final = message.get("data")

    def _trim(self, byte_end: int) -> None:
        if byte_end <= self._buffer_start:
            return
        count = min(byte_end - self._buffer_start, len(self._buffer))
        del self._buffer[:count]
        self._buffer_start += count

    def _fail_with(self, error: LiveSessionError) -> None:
        if not self._ready.done():
            self._ready.set_exception(error)
        self._fail(error)

    # -- the end --------------------------------------------------------------------------

    async def _finish(self) -> None:
        """After the normal close: poll the job until done/error, then end the stream."""
        if not self._ready.done():
            self._ready.set_result(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.live_poll_timeout
        job: Any = None
        try:
            while True:
                job = await self._adapter._get_job(self.session_id)
                status = job.get("status") if isinstance(job, dict) else None
                if status in wire.TERMINAL_STATUSES or loop.time() >= deadline:
                    break
                await asyncio.sleep(self._config.live_poll_interval)
        except ConvoportError as exc:
            self._emit(ErrorEvent(message=f"could not fetch the finished job: {exc}", code="poll"))
        self._job = job
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
                    f"{self._config.live_poll_timeout:g}s; the result holds the finals received",
                    code="timeout",
                )
            )
        self._emit(DoneEvent(session_id=self.session_id, provider_data={"status": status}))

    def _read_job(self, job: Any) -> None:
        try:
            self._job_session = translate.session_from_wire(job)
            self._job_transcript = translate.transcript_from_wire(job)
            if self._summary is None:
                self._summary = translate.summary_from_wire(job)
        except MalformedResponse as exc:
            self._emit(ErrorEvent(message=exc.message, code="malformed"))

    async def _final_session(self) -> Session:
        if self._job_session is not None:
            return self._job_session
        status: SessionStatus
        if self._ended_status in (SessionStatus.CANCELLED, SessionStatus.FAILED):
            status = self._ended_status
        else:
            status = SessionStatus.PROCESSING
        return Session(
            provider=wire.PROVIDER,
            id=self.session_id,
            status=status,
            provider_status=None,
            created_at=self.created_at,
            metadata=dict(self.options.metadata),
            provider_data={"errors": [e.message for e in self._errors]} if self._errors else {},
        )

    async def _final_transcript(self) -> Transcript:
        if self._job_transcript is not None:
            return self._job_transcript
        if isinstance(self._post_final, dict):
            try:
                transcript = translate.transcript_from_result(
                    self.session_id, Payload(wire.PROVIDER, self._post_final, "$data")
                )
            except MalformedResponse:
                transcript = None
            if transcript is not None:
                return transcript
        return self.transcript


__all__ = ["GladiaLiveSession", "frame_slices"]
