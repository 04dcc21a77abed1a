"""Fixtures of the distributed-migration tests: an instrumented socket emulator, a local Dask
cluster of two worker processes (shared by the module's tests), and archive snapshots."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import convoport
from convoport.archive import as_archive
from convoport.serde import to_json
from tests.support.emulate import free_port, serving

SERVE = Path(__file__).with_name("_serve.py")
#: Seconds one test of this folder may take before the whole run is stopped with every
#: thread's stack printed (a distributed run that froze must fail CI, never hang it).
WATCHDOG = 300


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    import faulthandler

    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


#: The emulator's credential.
KEY = "sandbox-key"


@contextmanager
def inflight_emulator(sessions: int, latency_ms: float) -> Iterator[str]:
    """``tests/cluster/_serve.py`` (the Gladia emulator counting concurrent requests) on a free
    port; yields its base URL."""
    port = free_port()
    argv = [str(SERVE), str(port), str(sessions), str(latency_ms)]
    with serving(argv, port, "tests/cluster/_serve.py") as base:
        yield base


def inflight(base: str, *, reset: bool = False) -> dict[str, int]:
    """The emulator's counts (``max``, ``now``, ``served``); ``reset`` starts them again."""
    request = urllib.request.Request(
        f"{base}/__test__/inflight", method="DELETE" if reset else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        counts: dict[str, int] = json.loads(answer.read())
        return counts


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A ``distributed.LocalCluster`` of two worker processes (one thread each) with nannies,
    which restart a worker that dies."""
    import distributed

    dd: Any = distributed  # untyped
    with dd.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        worker_dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


async def snapshot(url: str, media: str) -> dict[str, Any]:
    """An archive's content as comparable data: each session's neutral JSON, its transcripts
    and its recordings' (size, sha256) read back; plus the ledger's states. Not compared:
    when or how often a session was archived."""
    found: dict[str, Any] = {}
    async with convoport.connect(url, media_root=media) as client:
        archive = as_archive(client.adapter)
        async for session in client.list_sessions():
            key = str(session.ref)
            transcripts = await archive.list_transcripts(key)
            recordings = []
            for recording in await client.list_recordings(key):
                digest = hashlib.sha256()
                size = 0
                async with client.open_recording(key, recording_id=recording.id) as s:
                    async for chunk in s.aiter_bytes():
                        digest.update(chunk)
                        size += len(chunk)
                recordings.append((recording.id, size, digest.hexdigest()))
            found[key] = {
                "session": json.loads(to_json(session)),
                "transcripts": [json.loads(to_json(t)) for t in transcripts],
                "recordings": recordings,
            }
        ledger = await archive.ex_ledger()  # type: ignore[attr-defined]
    return {
        "sessions": found,
        "ledger": sorted((str(e.source), e.state, e.bytes) for e in ledger),
    }
