"""The archive's direct row readers give exactly what the converter gives (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import convoport
from convoport.archive import as_archive
from convoport.migration import migrate
from convoport.model import Session, Transcript
from convoport.serde import from_json, to_json
from convoport.store.catalog import session_from_neutral, transcript_from_neutral

pytestmark = pytest.mark.anyio


async def test_rows_read_directly_equal_the_converter(tmp_path: Path) -> None:
    archive = f"local:{tmp_path / 'a'}"
    async with convoport.connect("gladia", sandbox=True) as src:
        await migrate(src, archive, include=["transcripts"])
    async with convoport.connect(archive) as local:
        sessions = [s async for s in local.list_sessions()]
        assert len(sessions) > 10
        for session in sessions:
            text = to_json(session)
            assert session_from_neutral(json.loads(text)) == from_json(text, Session) == session
            for transcript in await as_archive(local.adapter).list_transcripts(str(session.ref)):
                text = to_json(transcript)
                assert transcript_from_neutral(json.loads(text)) == from_json(text, Transcript)
                assert transcript == from_json(text, Transcript)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"provider": "gladia", "id": "x", "status": "nope"},
        {"provider": "gladia", "id": "x", "status": "completed", "extra": 1},
        {"provider": "gladia", "id": "x", "status": "completed", "created_at": "2026-01-01T00:00"},
    ],
)
def test_unexpected_session_rows_are_refused(data: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        session_from_neutral(data)


def test_unexpected_transcript_rows_are_refused() -> None:
    with pytest.raises(TypeError):
        transcript_from_neutral({"session_id": "s", "utterances": [{"text": "a", "x": 1}]})
