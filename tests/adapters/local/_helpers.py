"""Builders shared by the local archive tests: neutral objects, bundles, byte streams."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from convoport.archive import SessionBundle, StoredMedia
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionRef,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    Word,
)
from convoport.store.sqlarchive import SqlArchive

BASE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def memory_root() -> str:
    """A fresh memory:// media root (one per test)."""
    return f"memory://convoport-test-{uuid.uuid4().hex}/media"


def make_session(
    ident: str = "abc",
    *,
    provider: str = "gladia",
    day: int = 0,
    status: SessionStatus = SessionStatus.COMPLETED,
    title: str | None = None,
    metadata: dict[str, object] | None = None,
) -> Session:
    return Session(
        provider=provider,
        id=ident,
        status=status,
        provider_status="done",
        created_at=BASE + timedelta(days=day, minutes=day),
        started_at=BASE + timedelta(days=day, seconds=5),
        ended_at=BASE + timedelta(days=day, seconds=65),
        duration=60.0,
        title=title,
        language="en",
        metadata=metadata if metadata is not None else {"team": "sales"},
        provider_data={"id": ident, "status": "done", "nested": {"x": [1, 2, 3]}},
    )


def make_transcript(session_id: str = "abc", *, engine: str | None = "gladia") -> Transcript:
    return Transcript(
        session_id=session_id,
        language="en",
        engine=engine,
        created_at=BASE,
        utterances=(
            Utterance(
                text=" Hello there",
                start=0.0,
                end=1.25,
                speaker="Speaker_0",
                channel=0,
                confidence=0.9,
                words=(Word(text=" Hello", start=0.0, end=0.5, confidence=0.95),),
                provider_data={"raw": True},
            ),
            Utterance(text="Hi! ünïcødé 👋", start=1.5, end=2.0, speaker="Speaker_1"),
        ),
        provider_data={"utterances": 2},
    )


def make_recording(session_id: str = "abc", rec_id: str = "audio") -> Recording:
    return Recording(
        id=rec_id,
        session_id=session_id,
        media_type="audio/wav",
        filename=f"{rec_id}.wav",
        duration=60.0,
        channels=1,
        created_at=BASE,
        provider_data={"url": "https://example.invalid/x"},
    )


def make_bundle(
    session: Session,
    media: tuple[StoredMedia, ...] = (),
    *,
    transcripts: tuple[Transcript, ...] | None = None,
) -> SessionBundle:
    sid = session.id
    return SessionBundle(
        source=session.ref,
        session=session,
        transcripts=(make_transcript(sid),) if transcripts is None else transcripts,
        summary=Summary(session_id=sid, text="They said hello.", format="markdown"),
        participants=(
            Participant(id="p1", session_id=sid, display_name="Ada", joined_at=BASE),
            Participant(id="p2", session_id=sid, display_name="Bob", role="host"),
        ),
        chat=(
            ChatMessage(id="m1", session_id=sid, text="hi", sent_at=BASE, sender_name="Ada"),
            ChatMessage(id="m2", session_id=sid, text="https://x", kind="file"),
        ),
        media=media,
        provider_data=dict(session.provider_data),
    )


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic non-repeating-ish bytes."""
    block = bytes((i * 31 + seed) % 256 for i in range(4093))
    return (block * (size // len(block) + 1))[:size]


async def achunks(data: bytes, size: int = 1 << 16) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def archive_session(
    adapter: SqlArchive,
    session: Session,
    recordings: dict[str, bytes] | None = None,
    *,
    transcripts: tuple[Transcript, ...] | None = None,
) -> SessionBundle:
    """Stores the recordings and commits the session, as a migration would."""
    media = []
    for rec_id, data in (recordings or {}).items():
        media.append(
            await adapter._store_media(
                session.ref, make_recording(session.id, rec_id), achunks(data)
            )
        )
    bundle = make_bundle(session, tuple(media), transcripts=transcripts)
    await adapter._commit_session(bundle)
    return bundle


@contextmanager
def catalog_db(folder: Path) -> Iterator[sqlite3.Connection]:
    """A direct connection to an archive's catalog (for white-box checks)."""
    conn = sqlite3.connect(folder / "catalog.sqlite", isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def table_counts(folder: Path) -> dict[str, int]:
    tables = (
        "sessions",
        "transcripts",
        "summaries",
        "participants",
        "chat_messages",
        "recordings",
        "ledger",
    )
    with catalog_db(folder) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def ref(text: str) -> SessionRef:
    return SessionRef.parse(text)
