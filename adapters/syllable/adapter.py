"""The Syllable sessions adapter: list, get, recordings, transcripts, full summaries and
participants of Syllable's voice-agent sessions (``/api/v1/sessions/*``).

Connect with ``convoport.connect("syllable", api_key=...)`` (or ``SYLLABLE_API_KEY``; the
official SDK's ``SYLLABLESDK_API_KEY_HEADER`` works too, as does its ``api_key_header=``), or
``convoport.connect("syllable", sandbox=True)`` for the in-process emulator.

Configuration (keyword argument, else environment variable):

* ``api_key`` (``SYLLABLE_API_KEY``) or ``api_key_header`` (``SYLLABLESDK_API_KEY_HEADER``):
  the organisation's API key, sent as ``Syllable-API-Key`` to the base URL's origin only;
* ``base_url`` (``SYLLABLE_BASE_URL``, default ``https://api.syllable.cloud``);
* ``transcript_wait`` (``SYLLABLE_TRANSCRIPT_WAIT``, seconds, default 30; 0 never waits),
  ``transcript_poll_interval`` (first pause, seconds, default 1, doubling up to
  ``transcript_poll_max``, default 8) and ``transcript_settle`` (seconds, default 3600): how
  long to wait for an incomplete transcript (below).

Capabilities: catalog list/get, recordings, transcripts, summaries (the full summary),
participants (the agent and the caller). List filters: ``created_after``/``created_before``/
``created_on`` (sent as ``start_datetime``/``end_datetime``), ``metadata`` (string properties
sent as ``search_fields``/``search_field_values``, boolean ones filtered here) and ``search``
(``FIELD=VALUE`` terms joined with ``&``, e.g. ``source=+18042221111&agent_id=42``; plain text
searches ``agent_name``). Orders: newest first (the default) or oldest first
(``order_by=timestamp`` with ``order_by_direction``). The datetime bounds and string matches
are re-checked on each listed session (the server's inclusivity and matching rules are
UNCONFIRMED); ``statuses`` is applied by convoport. ``is_test=true`` includes test sessions
(the default listing leaves them out) and keeps only them.

Behaviour worth knowing:

* **Paging** is 0-based (``page``/``limit``, repeated keys for arrays so a ``+`` in a phone
  number goes as ``%2B``); the last page is an empty one, ``page + 1 >= total_pages`` when
  the totals are given, or a short one (reference §3.4). Items are de-duplicated by id; an
  item without ``session_id`` cannot be named and is left out with a warning (logger
  ``convoport.syllable``).
* **Status**: Syllable has none. A session with a ``duration`` is ``COMPLETED``, one without
  is ``ACTIVE`` (still running); a migration copies the completed ones.
* **Ids** are numbers sent as strings; a non-numeric id is refused by Syllable with 400
  (``InvalidRequest``), a missing one is ``NotFound``. Ids are percent-encoded in paths.
* **Recordings**: ``POST /api/v1/sessions/recording/{id}`` mints short-lived URLs (one
  ``Recording`` per URL, ids ``"0"``, ``"1"``…). A URL on the stream endpoint carries a token
  and is fetched with the API key (Syllable's security scheme covers it); a pre-signed URL on
  another host is fetched without it. Both stream through :mod:`convoport.signed` in constant
  memory: a token refused as expired (400/401/403/404/410) is re-requested with a new POST
  and the download resumes with ``Range``. Any ``Content-Type`` is accepted (the SDK rejects
  everything but ``application/octet-stream``).
* **Transcripts**: speakers are the participants' roles (``agent``, ``caller``); tool calls are
  in ``Transcript.provider_data["actions"]`` with their JSON strings decoded. Records arrive
  asynchronously: when ``transcript_complete`` is false for a voice session that ended less
  than ``transcript_settle`` seconds ago, the transcript is re-read with backoff until it is
  complete or ``transcript_wait`` passes, and the last answer is kept either way
  (``provider_data["transcript_complete"]`` says which). Non-voice channels never become
  complete, so they are not waited for.
* **Summaries**: the full summary (``rating`` kept); a session without one is ``NotFound``.
* **Errors**: 422 ``detail`` lists become ``InvalidRequest`` naming each ``loc``; the list's
  legacy-link 400 becomes ``InvalidRequest`` whose hint names ``redirect_to`` (kept in
  ``details["legacy_session_link"]``). No vendor answer reaches the user as anything but a
  typed convoport error.
* **A migration** archives, beside each session, the raw latency report, timeline and labels
  (``_session_extras``; what the vendor does not have is listed under ``"missing"``).

Extensions (``client.adapter.ex_...``):

* :meth:`SyllableAdapter.ex_latency` — ``GET /api/v1/sessions/latency/{id}``, the
  ``InspectLatencyResponse`` (categories and units as open strings);
* :meth:`SyllableAdapter.ex_timeline` — ``GET /api/v1/sessions/timeline/{id}``, the
  ``SessionTimelineResponse`` with tool payloads decoded;
* :meth:`SyllableAdapter.ex_session_labels` — the session's ``SessionLabel`` items
  (``GET /api/v1/session_labels/`` searched by ``session_id``, every page).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import httpx

from convoport.adapter import Adapter, ConnectOptions, RecordingStream
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
from convoport.config import setting
from convoport.errors import ConfigError, NotFound
from convoport.http import ErrorInfo, ErrorParser, quote_segment
from convoport.model import (
    Participant,
    Recording,
    Session,
    SessionQuery,
    Summary,
    Transcript,
)
from convoport.pagination import Cursor, Page
from convoport.signed import SignedDownload, SignedRecordingStream

from . import translate, wire

logger = logging.getLogger("convoport.syllable")

#: Statuses of the stream endpoint (or a storage host) that mean "this URL no longer works":
#: the token's lifetime and its refusal are UNCONFIRMED, so every plausible answer asks the
#: vendor for a fresh URL (at most a few times; a bad key then fails on the POST itself).
EXPIRED_STATUSES = frozenset({400, 401, 403, 404, 410})
#: Pages read per ``_list_sessions_page`` call while the client-side filters drop everything.
_MAX_EMPTY_PAGES = 1000


def _non_negative(name: str) -> Any:
    def check(_: Any, __: Any, value: float) -> None:
        if value < 0:
            raise ConfigError(f"syllable {name} must be >= 0 seconds, got {value!r}")

    return check


@attrs.frozen(kw_only=True)
class SyllableConfig:
    """Syllable settings (keyword arguments, else the environment variables named here).
    One of ``api_key`` and ``api_key_header`` is needed."""

    api_key: str | None = setting(
        default=None, env="SYLLABLE_API_KEY", secret=True, help="a Syllable API key"
    )
    api_key_header: str | None = setting(
        default=None,
        env="SYLLABLESDK_API_KEY_HEADER",
        secret=True,
        help="the API key as the official SDK names it (used when api_key is not set)",
    )
    base_url: str = setting(
        default=wire.DEFAULT_BASE_URL, env="SYLLABLE_BASE_URL", help="the API's base URL"
    )
    transcript_wait: float = setting(
        default=30.0,
        env="SYLLABLE_TRANSCRIPT_WAIT",
        converter=float,
        help="seconds to wait for an incomplete voice transcript (0: never wait)",
    )
    transcript_poll_interval: float = setting(
        default=1.0, converter=float, help="seconds before the first re-read (then doubling)"
    )
    transcript_poll_max: float = setting(
        default=8.0, converter=float, help="the longest pause between re-reads, seconds"
    )
    transcript_settle: float = setting(
        default=3600.0,
        converter=float,
        help="wait only for sessions that ended less than this many seconds ago",
    )

    def __attrs_post_init__(self) -> None:
        if not (self.api_key or self.api_key_header):
            raise ConfigError(
                "syllable needs an API key",
                hint="set SYLLABLE_API_KEY (or the SDK's SYLLABLESDK_API_KEY_HEADER), "
                "or pass api_key=... to convoport.connect",
            )
        for name in (
            "transcript_wait",
            "transcript_poll_interval",
            "transcript_poll_max",
            "transcript_settle",
        ):
            _non_negative(name)(self, None, getattr(self, name))

    @property
    def key(self) -> str:
        """The API key in use (``api_key``, else ``api_key_header``)."""
        return self.api_key or self.api_key_header or ""


class SyllableAdapter(Adapter):
    """Syllable sessions. Primitives only: core does the rest (see :mod:`convoport.adapter`)."""

    name: ClassVar[str] = wire.PROVIDER
    display_name: ClassVar[str] = "Syllable sessions"
    capabilities: ClassVar[Capabilities] = Capabilities(
        ports={
            Capability.CATALOG_LIST,
            Capability.CATALOG_GET,
            Capability.RECORDINGS,
            Capability.TRANSCRIPTS,
            Capability.SUMMARIES,
            Capability.PARTICIPANTS,
        },
        filters={
            QueryFilter.CREATED_AFTER,
            QueryFilter.CREATED_BEFORE,
            QueryFilter.CREATED_ON,
            QueryFilter.METADATA,
            QueryFilter.SEARCH,
        },
        # order_by=timestamp with order_by_direction desc/asc
        orders={ListOrder.NEWEST, ListOrder.OLDEST},
    )
    config_class: ClassVar[type[Any]] = SyllableConfig
    #: list items are whole ``Session`` objects (no ``fields`` projection is sent)
    listed_sessions_complete: ClassVar[bool] = True
    default_page_size: ClassVar[int] = wire.DEFAULT_LIMIT
    max_page_size: ClassVar[int] = 100
    emulator: ClassVar[str | None] = "convoport.adapters.syllable.emulator:SyllableEmulator"

    config: SyllableConfig

    def __init__(self, config: SyllableConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url=config.base_url.rstrip("/"),
            credentials={wire.KEY_HEADER: config.key},
            error_parser=translate.error_info_from_wire,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- helpers --------------------------------------------------------------------------

    def _path(self, template: str, session_id: str) -> str:
        return template.format(session_id=quote_segment(session_id, provider=self.name))

    def _naming(self, what: str) -> ErrorParser:
        """An error parser that puts ``what`` ("session 824 not found") in a 404."""

        def parse(response: httpx.Response, body: bytes) -> ErrorInfo | None:
            info = translate.error_info_from_wire(response, body) or ErrorInfo()
            if response.status_code == 404:
                vendor = f" (syllable: {info.message})" if info.message else ""
                return attrs.evolve(info, message=f"{what}{vendor}")
            return info

        return parse

    async def _get(self, template: str, session_id: str, what: str) -> Any:
        return await self.http.json(
            "GET", self._path(template, session_id), error_parser=self._naming(what)
        )

    # -- catalog --------------------------------------------------------------------------

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        plan = translate.list_params(query)
        if plan.nothing:
            return Page(items=[], next=None)
        page = 0 if cursor is None else int(cursor)
        # The client-side filters may drop a whole page: read on until something is kept or
        # the pages end (an empty Page would end the listing).
        for _ in range(_MAX_EMPTY_PAGES):
            data = await self.http.json(
                "GET",
                wire.SESSIONS_PATH,
                params=translate.page_params(plan, page=page, limit=page_size),
            )
            listed = translate.list_page_from_wire(data, page=page, limit=page_size)
            for path in listed.unnamed:
                logger.warning(
                    "syllable: page %d: %s has no session_id; it cannot be named and is left out",
                    page,
                    path.replace("$", "items", 1) if path.startswith("$.") else path,
                )
            items = [s for s in listed.sessions if translate.kept(plan, s)]
            if items or listed.next_page is None:
                return Page(items=items, next=listed.next_page)
            page = listed.next_page
        logger.warning(
            "syllable: %d pages in a row had no session passing the client-side filters; "
            "the listing stops at page %d (narrow the query with server-side filters)",
            _MAX_EMPTY_PAGES,
            page,
        )
        return Page(items=[], next=None)

    async def _get_session(self, session_id: str) -> Session:
        data = await self._get(wire.SESSION_PATH, session_id, f"session {session_id} not found")
        return translate.session_from_wire(data, session_id=session_id)

    # -- artifacts ------------------------------------------------------------------------

    async def _recording_urls(self, session_id: str) -> Any:
        # Minting URLs changes nothing at Syllable: safe to repeat.
        return await self.http.json(
            "POST",
            self._path(wire.RECORDING_URLS_PATH, session_id),
            retry=True,
            error_parser=self._naming(f"session {session_id} not found"),
        )

    async def _list_recordings(self, session: Session) -> list[Recording]:
        data = await self._recording_urls(session.id)
        return translate.recordings_from_wire(data, session=session)

    async def _fresh_url(self, session: Session, recording: Recording) -> tuple[str, None]:
        fresh = translate.recordings_from_wire(
            await self._recording_urls(session.id), session=session
        )
        for candidate in fresh:
            if candidate.id == recording.id and candidate.url:
                return candidate.url, None
        raise NotFound(
            f"session {session.id} no longer has recording {recording.id}",
            provider=self.name,
            hint=f"it has {len(fresh)} recording(s) now; list them again",
        )

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        return self._stream(session, recording)

    @asynccontextmanager
    async def _stream(
        self, session: Session, recording: Recording
    ) -> AsyncIterator[RecordingStream]:
        url = recording.url
        if not url:
            url, _ = await self._fresh_url(session, recording)
        download = SignedDownload(
            self.http,
            url,
            refresh=lambda: self._fresh_url(session, recording),
            what=f"recording {recording.id} of session {session.id}",
            expired_statuses=EXPIRED_STATUSES,
            headers={"accept": "application/octet-stream, audio/*;q=0.9, */*;q=0.1"},
            with_credentials=True,
            timeout=httpx.Timeout(self.options.timeout or 30.0),
            retry=self.options.retry,
        )
        yield SignedRecordingStream(recording, download)

    async def _read_transcript(self, session_id: str) -> Any:
        return await self._get(
            wire.TRANSCRIPT_PATH, session_id, f"session {session_id} has no transcript"
        )

    def _waits_for_transcript(self, session: Session) -> bool:
        """Whether an incomplete transcript of ``session`` may still complete: a voice session
        that has ended, less than ``transcript_settle`` seconds ago."""
        cfg = self.config
        if cfg.transcript_wait <= 0:
            return False
        channel = session.provider_data.get("channel_manager_type")
        if not isinstance(channel, str) or not channel.startswith(wire.VOICE_CHANNEL_PREFIX):
            return False
        if session.ended_at is None:
            return False
        return datetime.now(UTC) - session.ended_at <= timedelta(seconds=cfg.transcript_settle)

    async def _get_transcript(self, session: Session) -> Transcript:
        data = await self._read_transcript(session.id)
        if not translate.transcript_complete(data) and self._waits_for_transcript(session):
            cfg = self.config
            loop = asyncio.get_running_loop()
            deadline = loop.time() + cfg.transcript_wait
            pause = cfg.transcript_poll_interval
            while not translate.transcript_complete(data):
                if loop.time() + pause > deadline:
                    logger.info(
                        "syllable: the transcript of session %s is still incomplete after "
                        "%.0fs; keeping what exists",
                        session.id,
                        cfg.transcript_wait,
                    )
                    break
                await asyncio.sleep(pause)
                pause = min(max(pause * 2, 0.0), cfg.transcript_poll_max)
                data = await self._read_transcript(session.id)
        return translate.transcript_from_wire(data, session_id=session.id)

    async def _get_summary(self, session: Session) -> Summary:
        data = await self._get(
            wire.FULL_SUMMARY_PATH, session.id, f"session {session.id} has no summary"
        )
        summary = translate.summary_from_wire(data, session_id=session.id)
        if summary is None:
            raise NotFound(
                f"session {session.id} has no summary",
                provider=self.name,
                hint="Syllable writes the full summary after the session ends",
            )
        return summary

    async def _list_participants(self, session: Session) -> list[Participant]:
        data = session.provider_data
        if not data.get("timestamp"):
            data = await self._get(wire.SESSION_PATH, session.id, f"session {session.id} not found")
        return translate.participants_from_wire(data, session_id=session.id)

    # -- extensions ----------------------------------------------------------------------

    @staticmethod
    def _id(session: str | Session) -> str:
        if isinstance(session, Session):
            return session.id
        if not isinstance(session, str) or not session.strip():
            raise ConfigError(f"a session id must be a non-empty string, got {session!r}")
        return session

    async def ex_latency(self, session: str | Session) -> dict[str, Any]:
        """The session's latency report (``InspectLatencyResponse``: ``timeline`` and
        ``summary`` entries; ``category``/``unit_type`` as open strings), checked and as sent."""
        sid = self._id(session)
        data = await self._get(wire.LATENCY_PATH, sid, f"session {sid} has no latency report")
        return translate.latency_from_wire(data)

    async def ex_timeline(self, session: str | Session) -> dict[str, Any]:
        """The session's consolidated timeline (``SessionTimelineResponse``), checked, with
        each event's ``tool_request``/``tool_result``/``tool_error`` decoded from JSON."""
        sid = self._id(session)
        data = await self._get(wire.TIMELINE_PATH, sid, f"session {sid} has no timeline")
        return translate.timeline_from_wire(data)

    async def ex_session_labels(self, session: str | Session) -> list[dict[str, Any]]:
        """The session's labels (``SessionLabel`` items as sent: ``type``, ``code``,
        ``user_email``, ``comments``…), from every page of the labels list searched by
        ``session_id``."""
        return await self._labels(self._id(session))

    async def _labels(self, session_id: str) -> list[dict[str, Any]]:
        labels: list[dict[str, Any]] = []
        page: int | None = 0
        seen: set[int] = set()
        while page is not None and page not in seen:
            seen.add(page)
            data = await self.http.json(
                "GET",
                wire.SESSION_LABELS_PATH,
                params=translate.labels_params(session_id, page=page, limit=wire.DEFAULT_LIMIT),
            )
            items, page = translate.labels_page_from_wire(data, page=page, limit=wire.DEFAULT_LIMIT)
            labels.extend(items)
        return labels

    async def _session_extras(self, session: Session) -> dict[str, Any]:
        """The raw latency report, timeline and labels of ``session``, for the archive (each
        as Syllable sent it; ``"missing"`` names what Syllable did not have, and why)."""
        extras: dict[str, Any] = {}
        missing: dict[str, str] = {}
        for name, template in (("latency", wire.LATENCY_PATH), ("timeline", wire.TIMELINE_PATH)):
            try:
                data = await self._get(template, session.id, f"session {session.id} has no {name}")
            except NotFound as exc:
                missing[name] = exc.message
                continue
            # Checked as the extension checks it; archived as sent.
            (translate.latency_from_wire if name == "latency" else translate.timeline_from_wire)(
                data
            )
            extras[name] = data
        extras["labels"] = await self._labels(session.id)
        if missing:
            extras["missing"] = missing
        return extras


__all__ = ["SyllableAdapter", "SyllableConfig"]
