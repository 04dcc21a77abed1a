"""End to end: the sandbox Gladia into the local archive — equality, kills, faults."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from convoport import AsyncClient, NotFound, RetryPolicy, connect
from convoport.adapters.gladia.emulator import GladiaEmulator
from convoport.archive import as_archive
from convoport.migration import migrate
from convoport.sandbox import Faults

ROOT = Path(__file__).resolve().parent.parent
FAST = RetryPolicy(attempts=4, backoff_base=0.01, backoff_max=0.05)


async def _media(client: AsyncClient, ref: str) -> list[tuple[str, int, str]]:
    out = []
    for recording in await client.list_recordings(ref):
        digest = hashlib.sha256()
        size = 0
        async with client.open_recording(ref, recording_id=recording.id) as stream:
            async for chunk in stream.aiter_bytes():
                digest.update(chunk)
                size += len(chunk)
        out.append((recording.id, size, digest.hexdigest()))
    return out


async def snapshot(archive: Path) -> dict[str, Any]:
    """Everything readable from an archive, for equality between runs."""
    async with connect(f"local:{archive}") as local:
        result: dict[str, Any] = {}
        async for session in local.list_sessions(page_size=7):
            ref = f"{session.provider}:{session.id}"
            assert ref not in result, f"{ref} listed twice"
            try:
                transcript = await local.get_transcript(ref)
            except NotFound:
                transcript = None
            result[ref] = (session, transcript, await _media(local, ref))
        return result


@pytest.mark.anyio
async def test_sandbox_gladia_into_archive_reads_back_equal(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    report = await migrate("gladia", f"local:{archive}", sandbox=True)
    assert report.failed == 0
    assert report.copied > 0
    async with connect("gladia", sandbox=True) as source, connect(f"local:{archive}") as local:
        sources = [s async for s in source.list_sessions()]
        finished = [s for s in sources if s.status.terminal]
        assert report.copied == len(finished)
        assert report.skipped == len(sources) - len(finished)
        for session in finished:
            ref = f"gladia:{session.id}"
            assert await local.get_session(ref) == await source.get_session(session.id)
            try:
                expected = await source.get_transcript(session.id)
            except NotFound:
                with pytest.raises(NotFound):
                    await local.get_transcript(ref)
            else:
                assert await local.get_transcript(ref) == expected
            assert await _media(local, ref) == [
                (r, size, sha) for r, size, sha in await _media(source, session.id)
            ]
        verify = await as_archive(local.adapter).verify()
        assert verify.ok, verify


def _child(archive: Path, *kill: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests._migration_child", str(archive), *kill],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def reference_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("reference") / "archive"
    result = _child(archive)
    assert result.returncode == 0, result.stderr
    return archive


@pytest.mark.parametrize(
    "kill",
    [
        ("sessions", "1"),
        ("sessions", "5"),
        ("bytes", "100000"),
        ("bytes", "700000"),
        ("commit", "3"),
    ],
    ids=[
        "after-1-session",
        "after-5-sessions",
        "mid-first-recording",
        "mid-later-recording",
        "media-stored-before-commit",
    ],
)
def test_killed_migration_resumes_to_the_same_archive(
    tmp_path: Path, reference_archive: Path, kill: tuple[str, str]
) -> None:
    archive = tmp_path / "archive"
    killed = _child(archive, *kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _child(archive)
    assert resumed.returncode == 0, resumed.stderr
    assert asyncio.run(snapshot(archive)) == asyncio.run(snapshot(reference_archive))
    verify = subprocess.run(
        [sys.executable, "-m", "convoport", "verify", str(archive)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.anyio
async def test_migration_completes_through_injected_faults(tmp_path: Path) -> None:
    emulator = GladiaEmulator(
        faults=Faults(
            error_rate=0.2, drop_rate=0.05, rate_limit_rate=0.05, retry_after=0.01, paths=("/v2/",)
        )
    )
    source = connect(
        "gladia", transport=emulator.transport(), retry=FAST, **emulator.connect_options()
    )
    archive = tmp_path / "archive"
    async with source:
        report = await migrate(source, f"local:{archive}", backoff_base=0.01, attempts=5)
        listed = [s async for s in source.list_sessions()]
    assert emulator.faults.injected.get("error", 0) > 0
    assert emulator.faults.injected.get("drop", 0) > 0
    assert report.failed == 0, [o.reason for o in report.outcomes if o.state == "failed"]
    assert report.copied == len([s for s in listed if s.status.terminal])
    async with connect(f"local:{archive}") as local:
        verify = await as_archive(local.adapter).verify()
        assert verify.ok, verify
