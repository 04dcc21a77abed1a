"""Archive media on S3, end to end through the ``local`` archive, against moto's S3 server on
loopback (a subprocess; see ``tests/support/s3.py``): migrate, multipart uploads, verify and
repair of corrupt objects and of uploads a killed process never completed, and the errors a
missing bucket or an unreachable server give."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from convoport import AsyncClient, connect
from convoport.archive import ArchiveAdapter, as_archive
from convoport.errors import ArchiveError, ConfigError
from convoport.migration import migrate
from convoport.model import Recording, SessionRef
from convoport.store.media import (
    DEFAULT_PART_SIZE,
    PART_SIZE_ENV,
    PART_SUFFIX,
    MediaStore,
    media_path,
)
from tests.support import s3
from tests.support.emulate import free_port

from .conftest import S3Bucket

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent.parent
MIB = 1 << 20


def _objects(bucket: S3Bucket) -> dict[str, tuple[int, str]]:
    """Every object under the media prefix: relative key -> (size, ETag without quotes)."""
    client = bucket.client()
    found: dict[str, tuple[int, str]] = {}
    prefix = bucket.prefix + "/"
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket.bucket, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix) :]] = (item["Size"], item["ETag"].strip('"'))
    return found


def _pending_uploads(bucket: S3Bucket) -> list[str]:
    uploads = bucket.client().list_multipart_uploads(Bucket=bucket.bucket).get("Uploads", [])
    return sorted(u["Key"] for u in uploads)


def _archive(tmp_path: Path, bucket: S3Bucket) -> AsyncClient:
    return connect(f"local:{tmp_path / 'archive'}", media_root=bucket.url, create=True)


def _adapter(client: AsyncClient) -> ArchiveAdapter:
    return as_archive(client.adapter)


def _pattern(size: int) -> bytes:
    """``size`` deterministic bytes that do not repeat with any part size."""
    block = hashlib.sha256(b"convoport").digest() * 4099  # 131,168 bytes
    return (block * (size // len(block) + 1))[:size]


async def _chunks(data: bytes, size: int = 1 << 16) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _read_back(client: AsyncClient, ref: str, recording_id: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    async with client.open_recording(ref, recording_id=recording_id) as stream:
        async for chunk in stream.aiter_bytes():
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


async def _recordings(client: AsyncClient) -> list[tuple[str, Recording]]:
    found = []
    async for session in client.list_sessions():
        ref = str(session.ref)
        for recording in await client.list_recordings(ref):
            found.append((ref, recording))
    return found


def _secret_free(error: BaseException) -> None:
    for text in (str(error), repr(error), str(getattr(error, "hint", ""))):
        assert s3.SECRET_KEY not in text


# -- the test support's skip/fail rule ----------------------------------------------------


def test_without_moto_the_tests_skip_unless_services_are_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "moto" else real(name)
    )
    monkeypatch.delenv(s3.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="moto"):
        s3.require_s3()
    monkeypatch.setenv(s3.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{s3.REQUIRE_ENV} is set.*moto"):
        s3.require_s3()


# -- the store itself --------------------------------------------------------------------


def test_local_and_memory_roots_are_not_object_stores(tmp_path: Path) -> None:
    assert not MediaStore(str(tmp_path / "media")).object_store
    assert not MediaStore(f"file://{tmp_path}/media").object_store
    assert not MediaStore("memory://convoport-s3-test/media").object_store


def test_an_s3_root_is_an_object_store_with_8_mib_parts(s3_bucket: S3Bucket) -> None:
    store = MediaStore(s3_bucket.url)
    assert store.object_store
    assert store.multipart
    assert store.part_size == DEFAULT_PART_SIZE == 8 * MIB
    assert MediaStore(s3_bucket.url, part_size=16 * MIB).part_size == 16 * MIB


def test_the_part_size_comes_from_the_environment(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PART_SIZE_ENV, "12")
    assert MediaStore(s3_bucket.url).part_size == 12 * MIB
    monkeypatch.setenv(PART_SIZE_ENV, "4")
    with pytest.raises(ConfigError, match="at least 5 MiB"):
        MediaStore(s3_bucket.url)
    monkeypatch.setenv(PART_SIZE_ENV, "eight")
    with pytest.raises(ConfigError, match=PART_SIZE_ENV):
        MediaStore(s3_bucket.url)


@pytest.mark.parametrize(
    "variable", ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "FSSPEC_S3_ENDPOINT_URL"]
)
def test_each_documented_endpoint_variable_is_honoured(s3_bucket: S3Bucket, variable: str) -> None:
    # FSSPEC_* is read when fsspec is imported: a fresh interpreter for each variable
    env = {k: v for k, v in os.environ.items() if not k.endswith("ENDPOINT_URL_S3")}
    env[variable] = s3_bucket.endpoint
    code = (
        "import sys\n"
        "from convoport.store.media import MediaStore\n"
        "store = MediaStore(sys.argv[1])\n"
        "writer = store.writer('probe/file')\n"
        "writer.write(b'reached')\n"
        "writer.finish()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, s3_bucket.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _objects(s3_bucket) == {"probe/file": (7, hashlib.md5(b"reached").hexdigest())}


# -- through the archive -----------------------------------------------------------------


async def test_the_gladia_sandbox_migrates_onto_s3(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    async with _archive(tmp_path, s3_bucket) as archive:
        report = await migrate("gladia", archive, sandbox=True)
        assert report.failed == 0
        assert report.copied > 0
        verify = await _adapter(archive).verify()
        assert verify.ok, verify
        recordings = await _recordings(archive)
        assert recordings
        objects = _objects(s3_bucket)
        # one object per recording, at the path the archive derives, holding its bytes
        expected = {}
        async with connect("gladia", sandbox=True) as source:
            for ref, recording in recordings:
                session = SessionRef.parse(ref)
                path = media_path(session, recording.id)
                size, sha256 = await _read_back(archive, ref, recording.id)
                assert (size, sha256) == await _read_back(source, session.id, recording.id)
                expected[path] = size
        assert {key: size for key, (size, _) in objects.items()} == expected
        assert verify.checked == len(recordings)
        assert verify.checked_bytes == sum(expected.values()) == report.bytes
    assert not [key for key in objects if key.endswith(PART_SUFFIX) or key.endswith("/")]
    assert _pending_uploads(s3_bucket) == []


async def test_a_large_recording_is_one_multipart_object(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    data = _pattern(20 * MIB + 12345)  # parts of 8 + 8 + 4 MiB and a bit
    source = SessionRef(provider="gladia", id="large")
    recording = Recording(id="audio", session_id="large")
    async with _archive(tmp_path, s3_bucket) as archive:
        stored = await _adapter(archive)._store_media(source, recording, _chunks(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    size, etag = _objects(s3_bucket)[stored.path]
    assert size == len(data)
    assert etag.endswith("-3")  # S3's ETag of a completed three-part upload
    assert MediaStore(s3_bucket.url).hash(stored.path) == (len(data), stored.sha256)
    assert _pending_uploads(s3_bucket) == []


async def test_a_failed_upload_leaves_nothing(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    async def failing() -> AsyncIterator[bytes]:
        async for chunk in _chunks(_pattern(18 * MIB)):
            yield chunk
        raise RuntimeError("the source broke off")

    source = SessionRef(provider="gladia", id="broken")
    recording = Recording(id="audio", session_id="broken")
    async with _archive(tmp_path, s3_bucket) as archive:
        with pytest.raises(RuntimeError, match="broke off"):
            await _adapter(archive)._store_media(source, recording, failing())
    assert _objects(s3_bucket) == {}
    assert _pending_uploads(s3_bucket) == []  # the multipart upload was aborted


async def test_a_corrupt_object_is_found_refused_and_repaired(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    async with _archive(tmp_path, s3_bucket) as archive:
        assert (await migrate("gladia", archive, sandbox=True)).failed == 0
        ref, recording = max(await _recordings(archive), key=lambda r: r[1].size or 0)
        path = media_path(SessionRef.parse(ref), recording.id)
        good = await _read_back(archive, ref, recording.id)
        fs = s3_bucket.fs()
        key = f"{s3_bucket.bucket}/{s3_bucket.prefix}/{path}"
        data = bytearray(fs.cat_file(key))
        data[len(data) // 2] ^= 0xFF  # same size, one byte off
        fs.pipe_file(key, bytes(data))

        verify = await _adapter(archive).verify()
        assert [(i.ref, i.path) for i in verify.corrupt] == [(ref, path)]
        assert verify.missing == verify.orphans == []
        with pytest.raises(ArchiveError, match="corrupt"):
            await _read_back(archive, ref, recording.id)

        repair = await migrate("gladia", archive, sandbox=True, repair=True)
        assert repair.repaired == 1
        assert repair.failed == 0
        assert (await _adapter(archive).verify()).ok
        assert await _read_back(archive, ref, recording.id) == good


#: The child of the kill test: stores one 64 MiB recording into the archive and SIGKILLs
#: itself once the multipart upload has parts on the server (mid-way through the recording).
_KILLED_UPLOAD = r"""
import asyncio, os, signal, sys, time
import boto3
import convoport
from convoport.model import Recording, SessionRef

archive, media, endpoint, bucket = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint)

def uploading():
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        if parts.get("Parts"):
            return True
    return False

async def chunks():
    block = bytes(range(256)) * 4096
    for i in range(64):
        if i == 20:
            deadline = time.monotonic() + 60
            while not uploading() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            os.kill(os.getpid(), signal.SIGKILL)
        yield block

async def main():
    async with convoport.connect("local:" + archive, media_root=media, create=True) as client:
        source = SessionRef(provider="gladia", id="killed")
        recording = Recording(id="audio", session_id="killed")
        await client.adapter._store_media(source, recording, chunks())

asyncio.run(main())
"""


async def test_an_upload_killed_mid_way_is_an_orphan_that_repair_removes(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    archive_path = tmp_path / "archive"
    run = functools.partial(
        subprocess.run,
        [
            sys.executable,
            "-c",
            _KILLED_UPLOAD,
            str(archive_path),
            s3_bucket.url,
            s3_bucket.endpoint,
            s3_bucket.bucket,
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    killed = await anyio.to_thread.run_sync(run)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    path = media_path(SessionRef(provider="gladia", id="killed"), "audio")
    assert _pending_uploads(s3_bucket) == [f"{s3_bucket.prefix}/{path}"]
    assert _objects(s3_bucket) == {}  # nothing is visible under the final name

    async with _archive(tmp_path, s3_bucket) as archive:
        verify = await _adapter(archive).verify()
        assert [i.path for i in verify.orphans] == [path + PART_SUFFIX]
        assert verify.missing == verify.corrupt == []
        repair = await migrate("gladia", archive, sandbox=True, repair=True)
        assert repair.orphans_removed == 1
        assert repair.failed == 0
        assert (await _adapter(archive).verify()).ok
    assert _pending_uploads(s3_bucket) == []


# -- errors ------------------------------------------------------------------------------


async def test_a_missing_bucket_is_an_archive_error_with_a_hint(
    tmp_path: Path, s3_bucket: S3Bucket
) -> None:
    url = "s3://convoport-no-such-bucket/media"
    source = SessionRef(provider="gladia", id="x")
    recording = Recording(id="audio", session_id="x")
    async with connect(f"local:{tmp_path / 'archive'}", media_root=url, create=True) as archive:
        with pytest.raises(ArchiveError) as stored:
            await _adapter(archive)._store_media(source, recording, _chunks(b"some audio"))
        with pytest.raises(ArchiveError) as verified:
            await _adapter(archive).verify()
    for error in (stored.value, verified.value):
        assert url in str(error)
        assert "'convoport-no-such-bucket' does not exist" in str(error)
        assert error.hint is not None
        assert "create the bucket" in error.hint
        _secret_free(error)


async def test_a_refused_connection_is_an_archive_error_with_a_hint(
    tmp_path: Path, s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries; s3fs still retries
    source = SessionRef(provider="gladia", id="x")
    recording = Recording(id="audio", session_id="x")
    async with _archive(tmp_path, s3_bucket) as archive:
        with pytest.raises(ArchiveError) as stored:
            await _adapter(archive)._store_media(source, recording, _chunks(b"some audio"))
    error: Any = stored.value
    assert s3_bucket.url in str(error)
    assert "cannot be reached" in str(error)
    assert closed in str(error)
    assert "AWS_ENDPOINT_URL_S3" in error.hint
    _secret_free(error)
