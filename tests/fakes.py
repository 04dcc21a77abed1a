"""An in-memory adapter for testing core: every port, no HTTP unless a test injects it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import httpx

from convoport import (
    Capabilities,
    Capability,
    ChatMessage,
    NotFound,
    Participant,
    QueryFilter,
    Recording,
    RecordingStream,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
)
from convoport.pagination import Cursor
from convoport.spi import Adapter, ConnectOptions, Page, setting

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class FakeConfig:
    api_key: str = setting(env="FAKE_API_KEY", secret=True, help="a fake API key")
    sessions: int = setting(default=7)


def make_session(i: int) -> Session:
    return Session(
        provider="fake",
        id=f"s{i}",
        status=[SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.ACTIVE][i % 3],
        created_at=BASE + timedelta(days=i),
        metadata={"team": "a" if i % 2 else "b"},
    )


class FakeStream(RecordingStream):
    def __init__(self, recording: Recording, data: bytes) -> None:
        self.recording = recording
        self._data = data

    async def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        for i in range(0, len(self._data), chunk_size):
            yield self._data[i : i + chunk_size]


class FakeAdapter(Adapter):
    name = "fake"
    display_name = "Fake"
    capabilities = Capabilities(
        ports={
            c
            for c in Capability
            if c not in (Capability.LIVE_INGEST, Capability.BATCH_INGEST, Capability.ARCHIVE_SINK)
        },
        filters={QueryFilter.STATUS},
    )
    config_class = FakeConfig
    default_page_size = 3

    def __init__(self, config: FakeConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.sessions = [make_session(i) for i in range(config.sessions)]
        self.calls: list[str] = []
        self.closed = False
        self.media = bytes(range(256)) * 1000
        self.payload_override: dict[str, Any] | None = None

    async def aclose(self) -> None:
        self.closed = True

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        self.calls.append(f"list:{cursor}:{page_size}")
        items = [s for s in self.sessions if query.statuses is None or s.status in query.statuses]
        start = int(cursor or 0)
        page = items[start : start + page_size]
        nxt = start + page_size if start + page_size < len(items) else None
        return Page(items=page, next=nxt)

    def _find(self, session_id: str) -> Session:
        for s in self.sessions:
            if s.id == session_id:
                return s
        raise NotFound(f"no session {session_id}", provider="fake")

    async def _get_session(self, session_id: str) -> Session:
        self.calls.append(f"get:{session_id}")
        if self.payload_override is not None:
            return Session(provider="fake", id=session_id, **self.payload_override)
        return self._find(session_id)

    async def _delete_session(self, session_id: str) -> None:
        self.sessions.remove(self._find(session_id))

    async def _list_recordings(self, session: Session) -> list[Recording]:
        session_id = session.id
        self.calls.append(f"list_recordings:{session_id}")
        self._find(session_id)
        return [Recording(id=f"{session_id}-r", session_id=session_id, size=len(self.media))]

    @asynccontextmanager
    async def _stream(self, recording: Recording) -> AsyncIterator[RecordingStream]:
        yield FakeStream(recording, self.media)

    def _open_recording(self, session: Session, recording: Recording) -> Any:
        return self._stream(recording)

    async def _get_transcript(self, session: Session) -> Transcript:
        session_id = session.id
        self.calls.append(f"get_transcript:{session_id}")
        self._find(session_id)
        return Transcript(session_id=session_id, utterances=(Utterance(text="hi", start=0.0),))

    async def _get_summary(self, session: Session) -> Summary:
        session_id = session.id
        self.calls.append(f"get_summary:{session_id}")
        return Summary(session_id=session_id, text="short")

    async def _list_participants(self, session: Session) -> list[Participant]:
        session_id = session.id
        self.calls.append(f"list_participants:{session_id}")
        return [Participant(id="p", session_id=session_id)]

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        session_id = session.id
        self.calls.append(f"list_chat:{session_id}")
        return [ChatMessage(id="m", session_id=session_id, text="hello")]


class HttpFakeAdapter(FakeAdapter):
    """A fake whose get_session really goes through HTTP (for translation-error tests)."""

    name = "httpfake"

    def __init__(self, config: FakeConfig, options: ConnectOptions | None = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url="https://fake.example", credentials={"x-api-key": config.api_key}
        )

    async def _get_session(self, session_id: str) -> Session:
        body = await self.http.json("GET", f"/sessions/{session_id}")
        return Session(provider="httpfake", id=body["id"], status=SessionStatus(body["status"]))


def failing_transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request was expected, got {request.method} {request.url}")

    return httpx.MockTransport(handler)
