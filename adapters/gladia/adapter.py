"""The Gladia live v2 adapter: REST jobs (``/v2/live``) and the real-time WebSocket.

Connect with ``convoport.connect("gladia", api_key=...)`` (or ``GLADIA_API_KEY``), or
``convoport.connect("gladia", sandbox=True)`` for the in-process emulator.

Capabilities: catalog list/get/delete, recordings (the job's WAV), transcripts, summaries (when
the job ran summarization), live ingest; list filters created after/before/on, statuses and
metadata, all applied by Gladia.

Behaviour worth knowing:

* The key (``x-gladia-key``) is sent only to the configured base URL's origin; pagination
  follows Gladia's absolute ``next`` links only on that origin (another host is refused).
* ``delete_session`` on a job that is still queued/processing raises ``Conflict`` (Gladia
  answers 403): the job must be done or errored first.
* Neutral statuses ACTIVE and CANCELLED have no Gladia word: a query for only those lists
  nothing, without a request.
* Extension: :meth:`GladiaAdapter.ex_update_post_session_metadata` (``PATCH /v2/live/{id}``),
  reachable as ``client.adapter.ex_update_post_session_metadata(...)``.
* Live ingest: see :mod:`convoport.adapters.gladia.live`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar

import attrs
import httpx

from convoport.adapter import Adapter, ConnectOptions, RecordingStream
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
from convoport.config import setting
from convoport.errors import ConfigError, NotFound
from convoport.http import ErrorInfo, ErrorParser, RetryPolicy, StreamedResponse, quote_segment
from convoport.live import LiveOptions, LiveSessionBase
from convoport.model import Recording, Session, SessionQuery, Summary, Transcript
from convoport.pagination import Cursor, Page, next_url

from . import translate, wire
from .live import GladiaLiveSession


def _optional_region(value: str | None) -> str | None:
    return translate.validate_region(value or None)


@attrs.frozen(kw_only=True)
class GladiaConfig:
    """Gladia settings (keyword arguments, else the environment variables named here)."""

    api_key: str = setting(env="GLADIA_API_KEY", secret=True, help="a Gladia API key")
    base_url: str = setting(
        default=wire.DEFAULT_BASE_URL,
        env=("GLADIA_BASE_URL", "GLADIA_API_URL"),  # the second is the official SDK's name
        help="the API's base URL",
    )
    region: str | None = setting(
        default=None,
        env="GLADIA_REGION",
        converter=_optional_region,
        help="live processing region (us-west or eu-west); sent only on POST /v2/live",
    )
    live_poll_timeout: float = setting(
        default=120.0,
        converter=float,
        help="seconds to wait, after the live socket closes, for the job to be done",
    )
    live_poll_interval: float = setting(
        default=1.0, converter=float, help="seconds between job polls after a live session"
    )
    live_close_timeout: float = setting(
        default=60.0,
        converter=float,
        help="seconds Gladia has, after finalize (stop_recording), to close the live socket",
    )
    ws_reconnect_attempts: int = setting(
        default=5, converter=int, help="reconnects after a dropped live socket before failing"
    )
    ws_backoff_base: float = setting(
        default=0.3,
        converter=float,
        help="reconnect backoff: a random time up to min(base * 2**(n-1), ws_backoff_max) s",
    )
    ws_backoff_max: float = setting(default=2.0, converter=float, help="reconnect backoff cap")


class _GladiaRecordingStream(RecordingStream):
    def __init__(self, recording: Recording, response: StreamedResponse) -> None:
        self.recording = recording
        self._response = response

    async def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_bytes(chunk_size):
            yield chunk


class GladiaAdapter(Adapter):
    """Gladia live v2. Primitives only: core does the rest (see :mod:`convoport.adapter`)."""

    name: ClassVar[str] = wire.PROVIDER
    display_name: ClassVar[str] = "Gladia live v2"
    capabilities: ClassVar[Capabilities] = Capabilities(
        ports={
            Capability.CATALOG_LIST,
            Capability.CATALOG_GET,
            Capability.CATALOG_DELETE,
            Capability.RECORDINGS,
            Capability.TRANSCRIPTS,
            Capability.SUMMARIES,
            Capability.LIVE_INGEST,
        },
        filters={
            QueryFilter.CREATED_AFTER,
            QueryFilter.CREATED_BEFORE,
            QueryFilter.CREATED_ON,
            QueryFilter.STATUS,
            QueryFilter.METADATA,
        },
        orders={ListOrder.NEWEST},  # Gladia lists newest first and has no sort parameter
    )
    config_class: ClassVar[type[Any]] = GladiaConfig
    #: list pages carry whole jobs (``ListStreamingResponse.items`` are ``StreamingResponse``)
    listed_sessions_complete: ClassVar[bool] = True
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100
    #: the harness behind ``connect("gladia", sandbox=True)`` and the kit's emulator mode
    emulator: ClassVar[str | None] = "convoport.adapters.gladia.emulator:GladiaEmulator"

    config: GladiaConfig

    def __init__(self, config: GladiaConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url=config.base_url,
            credentials={wire.KEY_HEADER: config.api_key},
            error_parser=translate.error_info_from_wire,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- errors ---------------------------------------------------------------------------

    @staticmethod
    def _job_path(session_id: str, suffix: str = "") -> str:
        return f"{wire.LIVE_PATH}/{quote_segment(session_id, provider=wire.PROVIDER)}{suffix}"

    def _naming(self, what: str) -> ErrorParser:
        """An error parser that puts ``what`` (e.g. "session abc has no audio") in a 404."""

        def parse(response: httpx.Response, body: bytes) -> ErrorInfo | None:
            info = translate.error_info_from_wire(response, body) or ErrorInfo()
            if response.status_code == 404:
                vendor = f" (gladia: {info.message})" if info.message else ""
                return attrs.evolve(info, message=f"{what}{vendor}")
            return info

        return parse

    # -- catalog --------------------------------------------------------------------------

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        if cursor is None:
            params = translate.list_params(query, offset=0, limit=page_size)
            if params is None:
                return Page(items=[], next=None)
            data = await self.http.json("GET", wire.LIVE_PATH, params=params)
        else:
            data = await self.http.json("GET", str(cursor))
        items, raw_next = translate.list_page_from_wire(data)
        nxt = next_url(raw_next, base_url=self.http.base_url, provider=self.name)
        return Page(items=items, next=nxt)

    async def _get_job(self, session_id: str) -> Any:
        return await self.http.json(
            "GET",
            self._job_path(session_id),
            error_parser=self._naming(f"session {session_id} not found"),
        )

    async def _get_session(self, session_id: str) -> Session:
        return translate.session_from_wire(await self._get_job(session_id))

    async def _job_of(self, session: Session) -> Any:
        """The raw job behind ``session``: its ``provider_data`` when that is a whole job that
        had finished (``done``/``error``: a finished job no longer changes, and list pages
        carry whole jobs), else the job fetched now."""
        data = session.provider_data
        if data.get("id") == session.id and data.get("status") in wire.TERMINAL_STATUSES:
            return data
        return await self._get_job(session.id)

    async def _delete_session(self, session_id: str) -> None:
        await self.http.request(
            "DELETE",
            self._job_path(session_id),
            error_parser=self._naming(f"session {session_id} not found"),
        )

    async def ex_update_post_session_metadata(
        self, session_id: str, metadata: dict[str, Any]
    ) -> None:
        """Attaches "post session metadata" to a job (``PATCH /v2/live/{id}``, 204).

        Gladia documents it as a debugging aid; it shows up as the job's
        ``post_session_metadata`` (in ``Session.provider_data``). The object is sent as the
        whole request body (whether Gladia wants it wrapped in ``post_session_metadata`` is
        undocumented). More than 100 kB is refused: ``InvalidRequest`` (413) with a hint.
        """
        if not isinstance(metadata, dict):
            raise ConfigError(
                f"post-session metadata must be a dict, got {type(metadata).__name__}"
            )
        await self.http.request(
            "PATCH",
            self._job_path(session_id),
            json=metadata,
            error_parser=self._naming(f"session {session_id} not found"),
        )

    # -- artifacts ------------------------------------------------------------------------

    async def _list_recordings(self, session: Session) -> list[Recording]:
        return translate.recordings_from_wire(await self._job_of(session))

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        return self._stream_recording(session.id, recording)

    @asynccontextmanager
    async def _stream_recording(
        self, session_id: str, recording: Recording
    ) -> AsyncIterator[RecordingStream]:
        async with self.http.stream(
            "GET",
            self._job_path(session_id, "/file"),
            error_parser=self._naming(f"session {session_id} has no audio file"),
        ) as response:
            yield _GladiaRecordingStream(
                _recording_from_headers(recording, response.headers), response
            )

    async def _get_transcript(self, session: Session) -> Transcript:
        data = await self._job_of(session)
        transcript = translate.transcript_from_wire(data)
        if transcript is None:
            raise self._not_yet(session.id, data, "transcript")
        return transcript

    async def _get_summary(self, session: Session) -> Summary:
        data = await self._job_of(session)
        summary = translate.summary_from_wire(data)
        if summary is None:
            raise self._not_yet(session.id, data, "summary")
        return summary

    def _not_yet(self, session_id: str, data: Any, what: str) -> NotFound:
        status = data.get("status") if isinstance(data, dict) else None
        if what == "summary" and status == "done":
            hint = "summaries exist only for jobs started with post_processing.summarization"
        else:
            hint = f"the job is {status!s}; results exist once it is done"
        return NotFound(f"session {session_id} has no {what}", provider=self.name, hint=hint)

    # -- live -----------------------------------------------------------------------------

    async def _start_live(self, options: LiveOptions) -> LiveSessionBase:
        body = translate.live_init_body(options)
        region = translate.validate_region(options.region or self.config.region)
        params = {"region": region} if region else None
        data = await self.http.json("POST", wire.LIVE_PATH, params=params, json=body, retry=False)
        job_id, url, created_at = translate.init_from_wire(data)
        cfg = self.config
        session = GladiaLiveSession(
            http=self.http,
            fetch_job=self._get_job,
            job_id=job_id,
            url=url,
            options=options,
            init_body=body,
            reconnect=RetryPolicy(
                attempts=cfg.ws_reconnect_attempts + 1,
                backoff_base=cfg.ws_backoff_base,
                backoff_max=cfg.ws_backoff_max,
            ),
            poll_timeout=cfg.live_poll_timeout,
            poll_interval=cfg.live_poll_interval,
            close_timeout=cfg.live_close_timeout,
        )
        if created_at is not None:
            session.created_at = created_at
        await session.start()
        return session


def _recording_from_headers(recording: Recording, headers: httpx.Headers) -> Recording:
    """The recording with what the download response says: media type (unless the generic
    ``application/octet-stream``), size (``content-length``), filename (``content-disposition``)."""
    changes: dict[str, Any] = {}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/octet-stream":
        changes["media_type"] = media_type
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        changes["size"] = int(length)
    filename = _disposition_filename(headers.get("content-disposition"))
    if filename:
        changes["filename"] = filename
    return attrs.evolve(recording, **changes)


def _disposition_filename(value: str | None) -> str | None:
    if not value:
        return None
    for part in value.split(";")[1:]:
        key, _, raw = part.strip().partition("=")
        if key.lower() == "filename":
            name = raw.strip().strip('"')
            return name.replace("/", "_").replace("\\", "_") or None
    return None


__all__ = ["GladiaAdapter", "GladiaConfig"]
