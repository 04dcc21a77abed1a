"""Media moves in chunks, never as one bytes object; damaged files are refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

import convoport
from convoport import ArchiveError
from convoport.adapters.local.adapter import WRITE_BLOCK, LocalAdapter
from convoport.store.media import MediaStore, MediaWriter

from ._helpers import (
    achunks,
    archive_session,
    make_bundle,
    make_recording,
    make_session,
    payload,
)

pytestmark = pytest.mark.anyio

FIVE_MB = 5 * 1024 * 1024


async def test_five_megabytes_move_in_chunks(
    adapter: LocalAdapter, client: convoport.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = payload(FIVE_MB)
    written: list[int] = []
    original_write = MediaWriter.write

    def spy_write(self: MediaWriter, chunk: bytes | bytearray) -> None:
        written.append(len(chunk))
        original_write(self, chunk)

    monkeypatch.setattr(MediaWriter, "write", spy_write)
    session = make_session("big")
    stored = await adapter._store_media(session.ref, make_recording("big"), achunks(data))
    # the 64 KiB chunks are written in blocks of WRITE_BLOCK (1 MiB), never as one object
    assert len(written) == FIVE_MB // WRITE_BLOCK == 5
    assert max(written) == WRITE_BLOCK
    assert stored.size == FIVE_MB
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    await adapter._commit_session(make_bundle(session, (stored,)))

    sizes: list[int] = []
    digest = hashlib.sha256()
    async with client.open_recording("gladia:big") as stream:
        async for chunk in stream.aiter_bytes():
            assert isinstance(chunk, bytes)
            sizes.append(len(chunk))
            digest.update(chunk)
    assert len(sizes) == 80
    assert max(sizes) <= 1 << 16
    assert digest.hexdigest() == stored.sha256

    async with client.open_recording("gladia:big") as stream:
        small = [len(c) async for c in stream.aiter_bytes(chunk_size=1000)]
    assert len(small) == -(-FIVE_MB // 1000)
    assert max(small) == 1000


async def _damage(adapter: LocalAdapter, how: str) -> str:
    bundle = await archive_session(adapter, make_session("abc"), {"audio": payload(100_000)})
    _, media = await adapter._stores()
    path = bundle.media[0].path
    full = media.full(path)
    if how == "missing":
        media.fs.rm(full)
    elif how == "flipped":
        data = bytearray(media.fs.cat_file(full))
        data[50_000] ^= 0xFF
        media.fs.pipe_file(full, bytes(data))
    else:
        media.fs.pipe_file(full, payload(99_999))
    return path


@pytest.mark.parametrize("how", ["missing", "truncated"])
async def test_unusable_file_refused_at_open(
    adapter: LocalAdapter, client: convoport.AsyncClient, how: str
) -> None:
    path = await _damage(adapter, how)
    with pytest.raises(ArchiveError, match="convoport verify") as info:
        async with client.open_recording("gladia:abc"):
            pass
    assert path in str(info.value)
    assert ("missing" if how == "missing" else "corrupt") in str(info.value)


async def test_flipped_byte_fails_the_stream(
    adapter: LocalAdapter, client: convoport.AsyncClient
) -> None:
    path = await _damage(adapter, "flipped")
    received: list[bytes] = []

    async def read_all() -> None:
        async with client.open_recording("gladia:abc") as stream:
            async for chunk in stream.aiter_bytes():
                received.append(chunk)

    with pytest.raises(ArchiveError, match="corrupt") as info:
        await read_all()
    assert sum(len(c) for c in received) == 100_000  # detected at the end of the stream
    assert path in str(info.value)
    assert "convoport verify" in str(info.value)


async def test_flipped_byte_never_completes_a_download(
    adapter: LocalAdapter, client: convoport.AsyncClient, tmp_path: Any
) -> None:
    await _damage(adapter, "flipped")
    target = tmp_path / "out.wav"
    with pytest.raises(ArchiveError):
        await client.download_recording("gladia:abc", target)
    assert not target.exists()


async def test_media_errors_become_archive_errors(tmp_path: Any) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    store = MediaStore(str(blocker / "media"))
    with pytest.raises(ArchiveError, match="could not create"):
        store.writer("gladia/aa/abc/audio")
    with pytest.raises(ArchiveError, match=r"could not open .*blocker"):
        store.open_read("gladia/aa/abc/audio")
    with pytest.raises(ArchiveError, match="is missing"):
        MediaStore(str(tmp_path / "media")).open_read("gladia/aa/abc/audio")
