"""Hostile ids can never place a file outside the media root."""

from __future__ import annotations

import os
import posixpath
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport import SessionRef
from convoport.adapters.local.adapter import LocalAdapter
from convoport.store.media import (
    MAX_COMPONENT,
    MediaStore,
    encode_component,
    media_path,
)

from ._helpers import achunks, archive_session, make_session

HOSTILE = [
    "..",
    ".",
    "../../../etc/passwd",
    "/etc/passwd",
    "/",
    "a/b\\c",
    "..\\..\\windows",
    "C:\\x",
    "nul\x00byte",
    "x" * 10_000,
    "é" * 5_000,
    "日本語のID",
    "emoji 👋 id",
    "CON",
    "con.txt",
    "Abc",
    "abc",
    "%2e%2e",
    "~part",
    "a~part",
    " ",
    "-rf",
    "\ud800",
]

ids = st.text(min_size=1) | st.sampled_from(HOSTILE) | st.text(min_size=1).map(lambda t: t * 500)


def _check_components(path: str) -> None:
    for part in path.split("/"):
        assert part not in ("", ".", "..")
        assert "\x00" not in part
        assert "\\" not in part
        assert ":" not in part
        assert len(part.encode()) <= MAX_COMPONENT


@given(session_id=ids, recording_id=ids)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_paths_stay_under_a_folder_root(tmp_path: Path, session_id: str, recording_id: str) -> None:
    root = tmp_path / "media"
    store = MediaStore(str(root))
    rel = media_path(SessionRef(provider="gladia", id=session_id), recording_id)
    _check_components(rel)
    full = os.path.realpath(store.full(rel))
    assert full.startswith(os.path.realpath(root) + os.sep)
    assert os.path.commonpath([full, os.path.realpath(root)]) == os.path.realpath(root)


@given(session_id=ids, recording_id=ids)
@settings(max_examples=300)
def test_paths_stay_under_a_memory_root(session_id: str, recording_id: str) -> None:
    store = MediaStore("memory://hostile/media")
    rel = media_path(SessionRef(provider="gladia", id=session_id), recording_id)
    _check_components(rel)
    full = store.full(rel)
    assert posixpath.normpath(full) == full
    assert full.startswith(store.root + "/")


@given(a=ids, b=ids)
@settings(max_examples=300)
def test_distinct_ids_get_distinct_components(a: str, b: str) -> None:
    if a != b:
        assert encode_component(a) != encode_component(b)
        # and they do not meet on a case-insensitive disk either
        assert encode_component(a).lower() != encode_component(b).lower()


@given(session_id=ids, recording_id=ids)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_writes_land_under_both_roots(tmp_path: Path, session_id: str, recording_id: str) -> None:
    for url in (str(tmp_path / "media"), f"memory://hostile-{uuid.uuid4().hex}/media"):
        store = MediaStore(url)
        rel = media_path(SessionRef(provider="gladia", id=session_id), recording_id)
        writer = store.writer(rel)
        writer.write(b"data")
        writer.finish()
        assert list(store.walk()) == [rel]
        assert store.hash(rel)[0] == 4
        store.remove_tree(rel.rsplit("/", 1)[0])
        assert list(store.walk()) == []
        if url.startswith("memory://"):
            store.fs.rm(store.root.rsplit("/", 1)[0], recursive=True)
    assert sorted(os.listdir(tmp_path)) == ["media"]


def test_encoding_is_readable_for_ordinary_ids() -> None:
    assert encode_component("0a1b-2c3d_e4") == "0a1b-2c3d_e4"
    assert encode_component("audio.wav") == "audio.wav"
    assert encode_component("..") == "%2e%2e"
    assert encode_component("a/b") == "a%2fb"
    assert "~" in encode_component("Abc")
    assert "~" in encode_component("x" * 10_000)
    assert "~" in encode_component("con")


@pytest.mark.anyio
@pytest.mark.parametrize("session_id", [h for h in HOSTILE if h != "\ud800"])
async def test_hostile_ids_round_trip(
    adapter: LocalAdapter, archive_path: Path, media_root: str | None, session_id: str
) -> None:
    session = make_session(session_id)
    data = {session_id: b"hostile bytes", "ok": b"fine"}
    await archive_session(adapter, session, data)
    rows = await adapter._list_recordings(session)
    assert [r.id for r in rows] == [session_id, "ok"]
    assert await adapter._get_session(str(session.ref)) == session
    for row in rows:
        async with adapter._open_recording(session, row) as stream:
            assert b"".join([c async for c in stream.aiter_bytes()]) == data[row.id]
    report = await adapter.verify()
    assert report.ok, report
    if media_root is None:
        files = [p for p in archive_path.rglob("*") if p.is_file()]  # noqa: ASYNC240
        for p in files:
            rel = p.relative_to(archive_path)
            assert rel.parts[0] == "media" or rel.name.startswith("catalog.sqlite")
    await adapter._delete_session(str(session.ref))
    _, media = await adapter._stores()
    assert list(media.walk()) == []


@pytest.mark.anyio
async def test_invalid_unicode_is_an_archive_error(adapter: LocalAdapter) -> None:
    from convoport import ArchiveError

    with pytest.raises(ArchiveError, match="valid Unicode"):
        await archive_session(adapter, make_session("\ud800"), {"a": b"x"})
    with pytest.raises(ArchiveError, match="valid Unicode"):
        await adapter._get_session("gladia:\ud800")


@pytest.mark.anyio
async def test_store_media_for_a_hostile_recording_id(adapter: LocalAdapter) -> None:
    session = make_session("abc")
    from ._helpers import make_recording

    stored = await adapter._store_media(
        session.ref, make_recording("abc", "../../../../outside"), achunks(b"x")
    )
    assert ".." not in stored.path.split("/")
    assert stored.path.startswith("gladia/")
