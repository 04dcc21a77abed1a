"""The Murmur Notes adapter: catalog list/get, transcripts, participants, chat, and
recordings behind pre-signed links on Murmur's media host.

Every id is put in a URL path with :func:`convoport.spi.quote_segment` (one percent-encoded
segment, or ``InvalidRequest`` before any I/O for ``.``/``..``). Recordings are downloaded
with :class:`convoport.signed.SignedDownload`: without the API token, and a link that expires
(its ``url_expires_at``, or a 403/410 from the media host mid-download) is replaced by a fresh
one from ``GET /v1/calls/{id}/recordings``, the download resuming with ``Range``.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

import attrs
import httpx

from convoport import (
    Capabilities,
    Capability,
    ChatMessage,
    Participant,
    QueryFilter,
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Transcript,
)
from convoport.errors import NotFound
from convoport.signed import SignedDownload, SignedRecordingStream
from convoport.spi import Adapter, ErrorInfo, Page, RecordingStream, quote_segment, setting
from convoport_murmur.translate import (
    NEUTRAL_TO_STATE,
    PROVIDER,
    message_from_payload,
    participant_from_payload,
    recording_from_payload,
    session_from_call,
    transcript_from_payload,
)


@attrs.frozen(kw_only=True)
class MurmurConfig:
    api_token: str = setting(env="MURMUR_API_TOKEN", secret=True, help="a Murmur API token")
    base_url: str = setting(default="https://api.murmur.example", env="MURMUR_BASE_URL")


def parse_error(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """Murmur's envelope: ``{"error": {"type", "message"}}``."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    return ErrorInfo(message=error.get("message"), code=error.get("type"))


def _call_path(call_id: str, leaf: str = "") -> str:
    return f"/v1/calls/{quote_segment(call_id, provider=PROVIDER, what='call id')}{leaf}"


class MurmurAdapter(Adapter):
    name = "murmur"
    display_name = "Murmur Notes (example)"
    capabilities = Capabilities(
        ports={
            Capability.CATALOG_LIST,
            Capability.CATALOG_GET,
            Capability.TRANSCRIPTS,
            Capability.PARTICIPANTS,
            Capability.RECORDINGS,
            Capability.CHAT,
        },
        filters={QueryFilter.STATUS},
    )
    config_class = MurmurConfig
    default_page_size = 20
    emulator = "convoport_murmur.emulator:MurmurEmulator"

    def __init__(self, config: MurmurConfig, options: Any = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url=config.base_url,
            credentials={"authorization": f"Bearer {config.api_token}"},
            error_parser=parse_error,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _session_for(self, session_id: str) -> Session:
        # Every artifact primitive needs only the call id: no GET /v1/calls/{id} first.
        return Session(provider=PROVIDER, id=session_id, status=SessionStatus.PENDING)

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Any, page_size: int
    ) -> Page[Session]:
        params: list[tuple[str, str | int]] = [("limit", page_size)]
        if cursor:
            params.append(("cursor", cursor))
        if query.statuses is not None:
            states = sorted(NEUTRAL_TO_STATE[s] for s in query.statuses if s in NEUTRAL_TO_STATE)
            if not states:  # Murmur has no call in the asked states
                return Page(items=[])
            params.extend(("state", state) for state in states)
        body = await self.http.json("GET", "/v1/calls", params=params)
        items = [session_from_call(item) for item in body["data"]]
        return Page(items=items, next=body.get("next_cursor"))

    async def _get_session(self, session_id: str) -> Session:
        body = await self.http.json("GET", _call_path(session_id))
        return session_from_call(body)

    async def _get_transcript(self, session: Session) -> Transcript:
        body = await self.http.json("GET", _call_path(session.id, "/transcript"))
        return transcript_from_payload(body)

    async def _list_participants(self, session: Session) -> list[Participant]:
        body = await self.http.json("GET", _call_path(session.id, "/participants"))
        return [participant_from_payload(session.id, item) for item in body["data"]]

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        body = await self.http.json("GET", _call_path(session.id, "/messages"))
        return [message_from_payload(session.id, item) for item in body["data"]]

    async def _list_recordings(self, session: Session) -> list[Recording]:
        return await self._recordings(session.id)

    async def _recordings(self, call_id: str) -> list[Recording]:
        body = await self.http.json("GET", _call_path(call_id, "/recordings"))
        return [recording_from_payload(call_id, item) for item in body["data"]]

    async def _fresh_link(self, recording: Recording) -> tuple[str, datetime | None]:
        """A new pre-signed link for ``recording`` (Murmur signs a fresh one per listing)."""
        for fresh in await self._recordings(recording.session_id):
            if fresh.id == recording.id and fresh.url:
                return fresh.url, fresh.expires_at
        raise NotFound(f"recording {recording.id} is gone", provider=PROVIDER)

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        return self._open(recording)

    @asynccontextmanager
    async def _open(self, recording: Recording) -> AsyncIterator[RecordingStream]:
        if not recording.url:
            raise NotFound(f"recording {recording.id} has no download link", provider=PROVIDER)
        download = SignedDownload(
            self.http,
            recording.url,
            expires_at=recording.expires_at,
            refresh=lambda: self._fresh_link(recording),
            what=f"recording {recording.id}",
            retry=self.options.retry,
        )
        yield SignedRecordingStream(recording, download)
