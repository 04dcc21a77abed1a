"""The Cloudflare RealtimeKit adapter: meeting sessions, their participants, chat, transcripts,
summaries and recordings (the former Dyte v2 API under the Cloudflare v4 API).

Connect with ``convoport.connect("realtimekit", api_token=..., account_id=..., app_id=...)``
(or ``CLOUDFLARE_API_TOKEN``, ``CLOUDFLARE_ACCOUNT_ID`` and ``REALTIMEKIT_APP_ID``; the base
URL from ``base_url=`` or ``CLOUDFLARE_BASE_URL``, default
``https://api.cloudflare.com/client/v4``); each missing setting is a ``ConfigError`` naming
its variable. ``convoport.connect("realtimekit", sandbox=True)`` uses the in-process
emulator.

Capabilities: catalog list/get, participants, chat, transcripts, summaries, recordings; list
filters created after/before/on (``start_time``/``end_time``), status (``LIVE``/``ENDED``) and
search (meeting title, meeting id, session id), all applied by RealtimeKit; listings newest
first (``sort_by=createdAt``, ``sort_order=DESC``) or oldest first (``ASC``). Which timestamp
RealtimeKit compares with ``start_time``/``end_time`` is not documented; convoport sends the
neutral ``created_*`` bounds there (the emulator compares ``created_at``). The API's other
list parameters (``associated_id``, ``participants``) have no neutral filter.

Behaviour worth knowing:

* The token goes in ``Authorization: Bearer …`` to the configured origin only. Chat,
  transcript, summary and recording files are pre-signed links on a storage host: they are
  fetched by :class:`convoport.signed.SignedDownload`, without the token, in constant memory;
  a link that expires (its expiry, or a 403/410 from the storage host, also mid-download) is
  asked for again from RealtimeKit and the download resumes with ``Range``.
* Paging (sessions, participants, recordings): ``page_no`` from 1 and ``per_page``, until
  ``paging.end_offset >= paging.total_count``, an empty page, or a short page when ``paging``
  is missing; at most ``max_pages`` pages (default 10,000), then ``MalformedResponse``.
* Session details are read in the current shape (``data`` is the session) and the legacy one
  (``data.session``); breakout rooms are asked for (``include_breakout_rooms=true``) and kept
  in ``provider_data["breakout_rooms"]``. List items do not carry them, so a migration reads
  each finished session's details once.
* Transcripts: the CSV in either documented layout (headerless with millisecond offsets, or
  the older header with ISO timestamps) or a JSON array, told apart per file. Each utterance's
  speaker is the display name of the participant whose id is the row's peer id
  (``provider_data["participant_id"]`` keeps the id); a peer id that matches no participant
  leaves the speaker unknown (None), never guessed from the row's name column.
* Summaries are read when they exist; one that does not exist yet is ``NotFound`` whose hint
  says how to generate it. Reading never generates one.
* Recordings have no session filter: they are listed by the session's meeting
  (``meeting_id``) and matched to the session by ``session_id``. A recording not uploaded yet
  is listed with ``url`` None and opening it is ``NotFound`` naming its status (a migration
  then records that session as failed, with the reason, and the next run copies it once the
  file is uploaded); an ``ERRORED`` one is not listed (its file will never exist); a track
  recording's list of files gives one ``Recording`` per file.
* Errors: both envelopes (RealtimeKit's ``error`` and the Cloudflare gateway's ``errors``)
  give the typed error Cloudflare's code (``details["code"]``) and message. A 429 with
  ``Retry-After`` up to the retry policy's cap is waited for and retried; the five-minute block
  after Cloudflare's global limit is ``RateLimited`` at once with ``retry_after`` (300 s when
  the gateway does not say), never retried.
* A migration archives each participant's peer report raw beside the session
  (``_session_extras``: ``{"peer_reports": {peer id: report}}``, one request per participant;
  a peer RealtimeKit has no report for is named under ``"missing"``). ``peer_reports=False``
  (``REALTIMEKIT_PEER_REPORTS=0``) leaves them out.

Extensions (``client.adapter.ex_…``):

* :meth:`RealtimeKitAdapter.ex_generate_summary_of_transcripts` — ``POST …/summary``;
* :meth:`RealtimeKitAdapter.ex_get_participant_data_from_peer_id` — the peer report, raw;
* :meth:`RealtimeKitAdapter.ex_get_session_participant_details` — one participant.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, ClassVar

import attrs
import httpx

from convoport.adapter import Adapter, ConnectOptions, RecordingStream
from convoport.capabilities import Capabilities, Capability, ListOrder, QueryFilter
from convoport.config import setting
from convoport.csvreader import CsvReader
from convoport.errors import MalformedResponse, NotFound, RateLimited
from convoport.http import ErrorInfo, ErrorParser, quote_segment
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    Summary,
    Transcript,
    Utterance,
)
from convoport.pagination import Cursor, Page
from convoport.signed import SignedDownload, SignedRecordingStream

from . import translate, wire

logger = logging.getLogger("convoport.adapters.realtimekit")

#: Participants lists kept per finished session (a transcript needs them for its speakers, a
#: migration then lists them again).
_PARTICIPANT_CACHE = 64
_PENDING_HINT = (
    "RealtimeKit uploads a recording after it stops; list the recordings again once its status "
    "is UPLOADED"
)
_GONE_HINT = (
    "RealtimeKit keeps recordings for 7 days and gives no link when the app stores recordings "
    "in its own bucket (storage_config)"
)


def _identifier(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("an empty account or app id")
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"peer_reports must be true or false, got {value!r}")


def _positive(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"max_pages must be >= 1, got {number}")
    return number


@attrs.frozen(kw_only=True)
class RealtimeKitConfig:
    """RealtimeKit settings (keyword arguments, else the environment variables named here)."""

    api_token: str = setting(
        env="CLOUDFLARE_API_TOKEN",
        secret=True,
        help="a Cloudflare API token (Realtime or Realtime Admin permission)",
    )
    account_id: str = setting(
        env="CLOUDFLARE_ACCOUNT_ID", converter=_identifier, help="the Cloudflare account id"
    )
    app_id: str = setting(
        env="REALTIMEKIT_APP_ID", converter=_identifier, help="the RealtimeKit app id"
    )
    base_url: str = setting(
        default=wire.DEFAULT_BASE_URL, env="CLOUDFLARE_BASE_URL", help="the API's base URL"
    )
    peer_reports: bool = setting(
        default=True,
        env="REALTIMEKIT_PEER_REPORTS",
        converter=_flag,
        help="archive each participant's raw peer report when migrating",
    )
    max_pages: int = setting(
        default=wire.MAX_PAGES, converter=_positive, help="pages a listing follows at most"
    )


class RealtimeKitAdapter(Adapter):
    """Cloudflare RealtimeKit. Primitives only: core does the rest (:mod:`convoport.adapter`)."""

    name: ClassVar[str] = wire.PROVIDER
    display_name: ClassVar[str] = "Cloudflare RealtimeKit"
    capabilities: ClassVar[Capabilities] = Capabilities(
        ports={
            Capability.CATALOG_LIST,
            Capability.CATALOG_GET,
            Capability.RECORDINGS,
            Capability.TRANSCRIPTS,
            Capability.SUMMARIES,
            Capability.PARTICIPANTS,
            Capability.CHAT,
        },
        filters={
            QueryFilter.CREATED_AFTER,
            QueryFilter.CREATED_BEFORE,
            QueryFilter.CREATED_ON,
            QueryFilter.STATUS,
            QueryFilter.SEARCH,
        },
        orders={ListOrder.NEWEST, ListOrder.OLDEST},  # sort_by=createdAt, sort_order
    )
    config_class: ClassVar[type[Any]] = RealtimeKitConfig
    default_page_size: ClassVar[int] = 25
    max_page_size: ClassVar[int] = 100
    #: the harness behind ``connect("realtimekit", sandbox=True)`` and the kit's emulator mode
    emulator: ClassVar[str | None] = "convoport.adapters.realtimekit.emulator:RealtimeKitEmulator"

    config: RealtimeKitConfig

    def __init__(self, config: RealtimeKitConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url=config.base_url,
            credentials={wire.KEY_HEADER: f"Bearer {config.api_token}"},
            error_parser=translate.error_info_from_wire,
        )
        self._app = wire.APP_PATH.format(
            account_id=quote_segment(config.account_id, provider=self.name, what="account id"),
            app_id=quote_segment(config.app_id, provider=self.name, what="app id"),
        )
        self._participants: OrderedDict[str, list[Participant]] = OrderedDict()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- HTTP -----------------------------------------------------------------------------

    def _segment(self, value: str, what: str) -> str:
        return quote_segment(value, provider=self.name, what=what)

    def _session_path(self, session_id: str, suffix: str = "") -> str:
        return f"/sessions/{self._segment(session_id, 'session id')}{suffix}"

    def _naming(self, what: str | None, hint: str | None) -> ErrorParser:
        """The error hook, with ``what`` (e.g. "session abc has no transcript") as the
        message of a RealtimeKit 404 and ``hint`` as its hint."""

        def parse(response: httpx.Response, body: bytes) -> ErrorInfo | None:
            info = translate.error_info_from_wire(response, body) or ErrorInfo()
            routed = info.details.get("envelope") != "cloudflare"
            if response.status_code == 404 and routed and what is not None:
                vendor = f" (realtimekit: {info.message})" if info.message else ""
                return attrs.evolve(info, message=f"{what}{vendor}", hint=hint or info.hint)
            return info

        return parse

    async def _json(
        self,
        method: str,
        path: str,
        *,
        missing: str | None = None,
        hint: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """One API call under the app's prefix; a 404 says ``missing``. The global-limit block
        keeps its wait as ``retry_after`` (300 s when the gateway does not say)."""
        try:
            return await self.http.json(
                method, self._app + path, error_parser=self._naming(missing, hint), **kwargs
            )
        except RateLimited as exc:
            if exc.retry_after is None and exc.details.get("global_block"):
                exc.retry_after = float(exc.details.get("retry_after", wire.GLOBAL_BLOCK_SECONDS))
            raise

    def _check_page(self, page_no: int, what: str) -> None:
        if page_no > self.config.max_pages:
            raise MalformedResponse(
                f"the listing of {what} did not end after {self.config.max_pages} pages",
                provider=self.name,
                hint="narrow the query, or raise max_pages if the listing really is this long",
            )

    async def _pages(
        self,
        path: str,
        params: list[tuple[str, str]],
        read: Callable[[Any], tuple[list[Any], dict[str, float] | None]],
        *,
        what: str,
        missing: str | None = None,
    ) -> list[Any]:
        """Every item of a ``page_no``/``per_page`` listing (participants, recordings)."""
        items: list[Any] = []
        page_no: int | None = 1
        per_page = wire.ARTIFACT_PAGE_SIZE
        while page_no is not None:
            self._check_page(page_no, what)
            body = await self._json(
                "GET",
                path,
                params=[*params, ("page_no", str(page_no)), ("per_page", str(per_page))],
                missing=missing,
            )
            found, paging = read(body)
            items.extend(found)
            page_no = translate.next_page(page_no, len(found), per_page, paging)
        return items

    # -- catalog --------------------------------------------------------------------------

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        page_no = 1 if cursor is None else int(cursor)
        self._check_page(page_no, "sessions")
        params = translate.list_params(
            query, page_no=page_no, per_page=page_size, newest_first=query.order != ListOrder.OLDEST
        )
        if params is None:
            return Page(items=[], next=None)
        body = await self._json("GET", "/sessions", params=params)
        items, paging = translate.sessions_page_from_wire(body)
        return Page(items=items, next=translate.next_page(page_no, len(items), page_size, paging))

    async def _get_session(self, session_id: str) -> Session:
        body = await self._json(
            "GET",
            self._session_path(session_id),
            params={"include_breakout_rooms": "true"},
            missing=f"session {session_id} not found",
        )
        return translate.session_details_from_wire(body)

    # -- participants ---------------------------------------------------------------------

    async def _participants_of(self, session: Session) -> list[Participant]:
        cached = self._participants.get(session.id)
        if cached is not None:
            return cached

        def read(body: Any) -> tuple[list[Any], dict[str, float] | None]:
            people, paging = translate.participants_page_from_wire(session.id, body)
            return list(people), paging

        found: list[Participant] = await self._pages(
            self._session_path(session.id, "/participants"),
            [],
            read,
            what=f"the participants of session {session.id}",
            missing=f"session {session.id} not found",
        )
        unique = list({p.id: p for p in found}.values())
        if session.status.terminal:
            self._participants[session.id] = unique
            while len(self._participants) > _PARTICIPANT_CACHE:
                self._participants.popitem(last=False)
        return unique

    async def _list_participants(self, session: Session) -> list[Participant]:
        return list(await self._participants_of(session))

    async def _session_extras(self, session: Session) -> dict[str, Any]:
        """The peer report of each participant, raw, for the archive (see the module
        docstring); ``{}`` when ``peer_reports`` is off or the session has no participant."""
        if not self.config.peer_reports:
            return {}
        reports: dict[str, Any] = {}
        missing: dict[str, str] = {}
        for person in await self._participants_of(session):
            try:
                reports[person.id] = await self.ex_get_participant_data_from_peer_id(person.id)
            except NotFound as exc:
                missing[f"peer_report {person.id}"] = exc.message
        extras: dict[str, Any] = {"peer_reports": reports} if reports else {}
        if missing:
            extras["missing"] = missing
        return extras

    async def ex_get_session_participant_details(
        self, session_id: str, participant_id: str, *, include_peer_events: bool = False
    ) -> Participant:
        """One participant of a session
        (``GET /sessions/{session_id}/participants/{participant_id}``), with its
        ``peer_events`` in ``provider_data`` when ``include_peer_events``."""
        body = await self._json(
            "GET",
            self._session_path(
                session_id, f"/participants/{self._segment(participant_id, 'participant id')}"
            ),
            params={"include_peer_events": "true" if include_peer_events else "false"},
            missing=f"session {session_id} has no participant {participant_id}",
        )
        return translate.participant_details_from_wire(session_id, body)

    async def ex_get_participant_data_from_peer_id(
        self, peer_id: str, *, filters: str | None = None, include_peer_events: bool = False
    ) -> dict[str, Any]:
        """The peer report of one peer (``GET /sessions/peer-report/{peer_id}``), raw: device,
        browser, network and per-direction quality statistics. ``filters`` is one of
        ``device_info``, ``ip_information``, ``precall_network_information``, ``events``,
        ``quality_stats``."""
        params: dict[str, str] = {"include_peer_events": "true" if include_peer_events else "false"}
        if filters is not None:
            params["filters"] = filters
        body = await self._json(
            "GET",
            f"/sessions/peer-report/{self._segment(peer_id, 'peer id')}",
            params=params,
            missing=f"no peer report for peer {peer_id}",
        )
        return translate.peer_report_from_wire(body)

    # -- download links -------------------------------------------------------------------

    async def _link(
        self, session_id: str, kind: str, missing: str, hint: str
    ) -> tuple[str, datetime | None, dict[str, Any]]:
        suffix = {"chat": "/chat", "transcript": "/transcript", "summary": "/summary"}[kind]
        body = await self._json(
            "GET", self._session_path(session_id, suffix), missing=missing, hint=hint
        )
        return translate.link_from_wire(body, kind)

    def _download(
        self,
        url: str,
        expires_at: datetime | None,
        refresh: Callable[[], Awaitable[tuple[str, datetime | None]]],
        what: str,
    ) -> SignedDownload:
        return SignedDownload(self.http, url, expires_at=expires_at, refresh=refresh, what=what)

    def _refresher(
        self, session_id: str, kind: str, missing: str, hint: str
    ) -> Callable[[], Awaitable[tuple[str, datetime | None]]]:
        async def fresh() -> tuple[str, datetime | None]:
            url, when, _ = await self._link(session_id, kind, missing, hint)
            return url, when

        return fresh

    # -- transcripts ----------------------------------------------------------------------

    async def _get_transcript(self, session: Session) -> Transcript:
        sid = session.id
        missing = f"session {sid} has no transcript"
        hint = (
            "RealtimeKit transcribes meetings created with transcribe_on_end (or with "
            "transcription in the preset), after they end; transcripts are kept 7 days"
        )
        url, when, link = await self._link(sid, "transcript", missing, hint)
        people = await self._participants_of(session)
        by_peer = {p.id: p for p in people}
        download = self._download(
            url, when, self._refresher(sid, "transcript", missing, hint), f"the transcript of {sid}"
        )
        head, chunks = await _peek(download.aiter_bytes())
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            raw = await _read_all(_chained(head, chunks), label="transcript.json")
            utterances = translate.json_utterances_from_wire(raw, by_peer, label="transcript.json")
            return translate.transcript_from_wire(sid, utterances, layout="json", link=link)
        reader = CsvReader(_chained(head, chunks), provider=self.name, label="transcript.csv")
        first = await reader.first_row()
        legacy = bool(first) and first is not None and first[0].strip().lower() == "timestamp"
        found: list[Utterance] = []
        if legacy:
            header = await reader.read_header()
            names = translate.legacy_names(header)
            if not {"start_ms", "text"} <= set(names):
                raise reader.error(
                    None, f"has no Timestamp or Transcript column (columns: {', '.join(header)})"
                )
            async for row in reader:
                utterance = translate.utterance_from_wire(row, by_peer, names)
                if utterance is not None:
                    found.append(utterance)
        elif first is not None:
            reader.use_columns(wire.TRANSCRIPT_COLUMNS)
            async for row in reader:
                utterance = translate.utterance_from_wire(row, by_peer)
                if utterance is not None:
                    found.append(utterance)
        layout = "csv-legacy" if legacy else "csv"
        return translate.transcript_from_wire(sid, found, layout=layout, link=link)

    # -- summaries ------------------------------------------------------------------------

    def _summary_hint(self, session_id: str) -> str:
        return (
            "RealtimeKit summarizes meetings created with summarize_on_end; otherwise generate "
            f"one with client.adapter.ex_generate_summary_of_transcripts({session_id!r}) "
            "(the session needs a transcript), then read it again"
        )

    async def _get_summary(self, session: Session) -> Summary:
        sid = session.id
        missing = f"session {sid} has no summary yet"
        hint = self._summary_hint(sid)
        url, when, link = await self._link(sid, "summary", missing, hint)
        download = self._download(
            url, when, self._refresher(sid, "summary", missing, hint), f"the summary of {sid}"
        )
        raw = await _read_all(download.aiter_bytes(), label="summary")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedResponse(
                f"the summary of session {sid} is not UTF-8 text", provider=self.name
            ) from None
        if not text.strip():
            raise NotFound(f"session {sid} has an empty summary", provider=self.name, hint=hint)
        return translate.summary_from_wire(sid, text, link)

    async def ex_generate_summary_of_transcripts(self, session_id: str) -> dict[str, Any]:
        """Asks RealtimeKit to summarize a session's transcript (``POST …/summary``, no body)
        and returns its answer (``{"session_id", "status"}``); read the summary with
        ``get_summary`` once it is done. Not retried (it starts work at the vendor)."""
        body = await self._json(
            "POST",
            self._session_path(session_id, "/summary"),
            retry=False,
            missing=f"session {session_id} cannot be summarized",
            hint="a summary needs the session's transcript: see get_transcript",
        )
        return translate.generate_summary_from_wire(body)

    # -- chat -----------------------------------------------------------------------------

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        sid = session.id
        missing = f"session {sid} has no chat export"
        hint = "RealtimeKit exports the chat of ended sessions; it is kept 7 days (persist_chat)"
        url, when, _ = await self._link(sid, "chat", missing, hint)
        download = self._download(
            url, when, self._refresher(sid, "chat", missing, hint), f"the chat of {sid}"
        )
        reader = CsvReader(download.aiter_bytes(), provider=self.name, label="chat.csv")
        if await reader.first_row() is None:
            return []
        await reader.require_columns(*wire.CHAT_REQUIRED)
        messages = [translate.chat_message_from_wire(sid, row) async for row in reader]
        return translate.chat_from_wire(messages)

    # -- recordings -----------------------------------------------------------------------

    async def _meeting_of(self, session: Session) -> str:
        meeting = session.metadata.get("meeting_id") or session.provider_data.get("associated_id")
        if isinstance(meeting, str) and meeting:
            return meeting
        full = await self._get_session(session.id)
        meeting = full.metadata.get("meeting_id")
        if not isinstance(meeting, str) or not meeting:
            raise MalformedResponse(
                f"session {session.id} names no meeting (associated_id)", provider=self.name
            )
        return meeting

    async def _list_recordings(self, session: Session) -> list[Recording]:
        meeting = await self._meeting_of(session)

        def read(body: Any) -> tuple[list[Any], dict[str, float] | None]:
            items, paging = translate.recordings_page_from_wire(body)
            return list(items), paging

        items = await self._pages(
            "/recordings",
            [("meeting_id", meeting), ("sort_by", "invokedTime"), ("sort_order", "ASC")],
            read,
            what=f"the recordings of meeting {meeting}",
        )
        return translate.recordings_from_wire(session.id, items)

    async def _fresh_recording_link(self, recording: Recording) -> tuple[str, datetime | None]:
        recording_id = recording.id.split(":", 1)[0]
        body = await self._json(
            "GET",
            f"/recordings/{self._segment(recording_id, 'recording id')}",
            missing=f"recording {recording_id} is gone",
            hint=_GONE_HINT,
        )
        url, when = translate.recording_link_from_wire(body, recording.id)
        if url is None:
            raise NotFound(
                f"recording {recording.id} has no download link any more",
                provider=self.name,
                hint=_GONE_HINT,
            )
        return url, when

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        return self._open(session.id, recording)

    @asynccontextmanager
    async def _open(self, session_id: str, recording: Recording) -> AsyncIterator[RecordingStream]:
        if not recording.url:
            status = recording.provider_data.get("status")
            if status != wire.RECORDING_UPLOADED:
                raise NotFound(
                    f"recording {recording.id} of session {session_id} is not uploaded yet "
                    f"(status {status})",
                    provider=self.name,
                    hint=_PENDING_HINT,
                )
            raise NotFound(
                f"recording {recording.id} of session {session_id} has no download link",
                provider=self.name,
                hint=_GONE_HINT,
            )
        download = self._download(
            recording.url,
            recording.expires_at,
            lambda: self._fresh_recording_link(recording),
            f"recording {recording.id}",
        )
        yield SignedRecordingStream(recording, download)


# -- streaming helpers ----------------------------------------------------------------------


async def _peek(chunks: AsyncIterator[bytes]) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first non-empty chunk (b"" for an empty file) and the rest of the stream."""
    async for chunk in chunks:
        if chunk:
            return chunk, chunks
    return b"", chunks


async def _chained(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if head:
        yield head
    async for chunk in rest:
        yield chunk


async def _read_all(chunks: AsyncIterator[bytes], *, label: str) -> bytes:
    """A whole (small) document, refused past :data:`wire.MAX_DOCUMENT_BYTES`."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > wire.MAX_DOCUMENT_BYTES:
            raise MalformedResponse(
                f"{label} is larger than {wire.MAX_DOCUMENT_BYTES} bytes", provider=wire.PROVIDER
            )
        parts.append(chunk)
    return b"".join(parts)


__all__ = ["RealtimeKitAdapter", "RealtimeKitConfig"]
