"""The archive port: a second archive implementation plugs into migration, persistence and
verify; core reaches archives through the port only; primitives see the session, so a
migrated Gladia job costs its share of the list pages and one download."""

from __future__ import annotations

import ast
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
import httpx
import pytest

from convoport import (
    AsyncClient,
    Capabilities,
    Capability,
    NotFound,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    SessionStatus,
    Transcript,
    connect,
    migrate,
)
from convoport.archive import as_archive
from convoport.errors import ArchiveError, ConfigError
from convoport.pagination import Cursor
from convoport.spi import (
    ArchiveAdapter,
    LedgerEntry,
    Page,
    SessionBundle,
    StoredMedia,
    VerifyIssue,
    VerifyReport,
)
from tests.fakes import FakeAdapter, FakeConfig

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.anyio


@attrs.frozen(kw_only=True)
class MemoryConfig:
    create: bool = False


class MemoryArchive(ArchiveAdapter):
    """A minimal archive kept in dicts: enough to be a migration's destination."""

    name: ClassVar[str] = "memory-archive"
    capabilities: ClassVar[Capabilities] = Capabilities(
        ports={Capability.CATALOG_LIST, Capability.CATALOG_GET, Capability.ARCHIVE_SINK},
        filters=set(),
    )
    config_class: ClassVar[type[Any]] = MemoryConfig

    def __init__(self, config: MemoryConfig) -> None:
        super().__init__(config)
        self.sessions: dict[str, SessionBundle] = {}
        self.media: dict[str, bytes] = {}
        self.ledger: dict[str, LedgerEntry] = {}
        self.extra: dict[str, list[Transcript]] = {}
        self.claims = 0
        self._claimed = False

    @property
    def writer_claimed(self) -> bool:
        return self._claimed

    async def claim_writer(self) -> None:
        if self._claimed:
            raise ArchiveError("already claimed")
        self._claimed = True
        self.claims += 1

    async def release_writer(self) -> None:
        self._claimed = False

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        refs = sorted(self.sessions)
        start = int(cursor or 0)
        chunk = refs[start : start + page_size]
        more = start + page_size < len(refs)
        return Page(
            items=[self.sessions[r].session for r in chunk],
            next=start + page_size if more else None,
        )

    async def _get_session(self, session_id: str) -> Session:
        if session_id not in self.sessions:
            raise NotFound(f"{session_id} is not archived", provider=self.name)
        return self.sessions[session_id].session

    async def list_transcripts(
        self, session: str | SessionRef, *, reprocessed: bool | None = None
    ) -> list[Transcript]:
        ref = str(session)
        if ref not in self.sessions:
            raise NotFound(f"{ref} is not archived", provider=self.name)
        original = list(self.sessions[ref].transcripts)
        added = self.extra.get(ref, [])
        if reprocessed is None:
            return original + added
        return added if reprocessed else original

    async def verify(self) -> VerifyReport:
        report = VerifyReport(sessions=len(self.sessions))
        for ref, bundle in self.sessions.items():
            for stored in bundle.media:
                data = self.media.get(stored.path)
                report.checked += 1
                if data is None:
                    report.missing.append(VerifyIssue(ref=ref, path=stored.path, detail="gone"))
                elif hashlib.sha256(data).hexdigest() != stored.sha256:
                    report.corrupt.append(VerifyIssue(ref=ref, path=stored.path, detail="hash"))
                else:
                    report.checked_bytes += len(data)
        return report

    async def _ledger_entry(self, source: SessionRef) -> LedgerEntry | None:
        return self.ledger.get(str(source))

    async def _store_media(
        self, source: SessionRef, recording: Recording, chunks: AsyncIterator[bytes]
    ) -> StoredMedia:
        data = b"".join([chunk async for chunk in chunks])
        path = f"{source}/{recording.id}"
        self.media[path] = data
        return StoredMedia(
            recording=recording,
            path=path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    async def _commit_session(self, bundle: SessionBundle) -> None:
        ref = str(bundle.source)
        self.sessions[ref] = bundle
        if bundle.complete:
            size = sum(m.size for m in bundle.media)
            self.ledger[ref] = LedgerEntry(source=bundle.source, state="done", bytes=size)

    async def _record_failure(self, source: SessionRef, reason: str) -> None:
        self.ledger[str(source)] = LedgerEntry(source=source, state="failed", reason=reason)

    async def _add_transcript(self, source: SessionRef, transcript: Transcript) -> None:
        self.extra.setdefault(str(source), []).append(transcript)


async def test_a_second_archive_implementation_is_a_migration_destination() -> None:
    source = AsyncClient(FakeAdapter(FakeConfig(api_key="k", sessions=7)))
    archive = MemoryArchive(MemoryConfig())
    destination = AsyncClient(archive)
    report = await migrate(source, destination, backoff_base=0)
    finished = [s for s in source.adapter.sessions if s.status.terminal]  # type: ignore[attr-defined]
    assert report.failed == 0
    assert report.copied == len(finished) == len(archive.sessions)
    assert archive.claims == 1
    assert not archive.writer_claimed
    fake_media = source.adapter.media  # type: ignore[attr-defined]
    for session in finished:
        bundle = archive.sessions[str(session.ref)]
        assert bundle.session == session
        assert [t.text for t in bundle.transcripts] == ["hi"]
        assert bundle.summary is not None
        assert bundle.summary.text == "short"
        assert [m.size for m in bundle.media] == [len(fake_media)]
        assert archive.media[bundle.media[0].path] == fake_media
    verified = await as_archive(archive).verify()
    assert verified.ok
    assert verified.sessions == len(finished)
    assert verified.checked == len(finished)
    again = await migrate(source, destination, backoff_base=0)
    assert again.copied == 0
    assert {o.reason for o in again.outcomes if o.state == "skipped"} >= {"already copied"}


async def test_a_live_result_is_ingested_through_the_port() -> None:
    from convoport import IngestResult, Utterance

    archive = MemoryArchive(MemoryConfig())
    session = Session(provider="fake", id="live-1", status=SessionStatus.COMPLETED)
    transcript = Transcript(session_id="live-1", utterances=(Utterance(text="hello"),))
    ref = await archive.ingest(
        IngestResult(session=session, transcript=transcript), media=b"RIFFdata"
    )
    assert ref == session.ref
    bundle = archive.sessions["fake:live-1"]
    assert bundle.transcripts == (transcript,)
    assert archive.media[bundle.media[0].path] == b"RIFFdata"
    assert archive.ledger["fake:live-1"].state == "done"


def test_an_archive_adapter_must_implement_the_port() -> None:
    class Half(ArchiveAdapter):
        name: ClassVar[str] = "half"
        capabilities: ClassVar[Capabilities] = Capabilities(ports={Capability.ARCHIVE_SINK})
        config_class: ClassVar[type[Any]] = MemoryConfig

    with pytest.raises(TypeError, match="abstract"):
        Half(MemoryConfig())  # type: ignore[abstract]
    with pytest.raises(TypeError, match=r"does not declare archive\.sink"):

        class Undeclared(MemoryArchive):
            name: ClassVar[str] = "undeclared"
            capabilities: ClassVar[Capabilities] = Capabilities(ports={Capability.CATALOG_LIST})


async def test_a_backend_that_is_not_an_archive_is_refused_as_a_destination() -> None:
    source = AsyncClient(FakeAdapter(FakeConfig(api_key="k")))
    other = AsyncClient(FakeAdapter(FakeConfig(api_key="k")))
    with pytest.raises(ConfigError, match="cannot migrate from fake to fake"):
        await migrate(source, other)
    with pytest.raises(ConfigError, match="not an archive"):
        as_archive(other.adapter)


def test_core_reaches_archives_only_through_the_port() -> None:
    """No attribute probing of adapters or sinks and no special case for the name ``local``
    in the modules that write to archives."""
    modules = [ROOT / "core/migration.py", ROOT / "core/live.py", ROOT / "core/wavfeed.py"]
    modules += sorted((ROOT / "core/cli").glob("*.py"))
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "hasattr":
                    pytest.fail(f"{path.name}:{node.lineno}: hasattr probes an object")
                if node.func.id == "getattr" and node.args:
                    target = ast.unparse(node.args[0])
                    probe = "adapter" in target or "sink" in target
                    assert not probe, f"{path.name}:{node.lineno}: getattr({target}, …) probes"
            if isinstance(node, ast.Compare):
                text = ast.unparse(node)
                named = "'local'" in text or "'local:'" in text
                assert not named, f"{path.name}:{node.lineno}: special case for local: {text}"
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "startswith"
                and "local" in ast.unparse(node)
            ):
                pytest.fail(f"{path.name}:{node.lineno}: special case for local:")


class Counting(httpx.AsyncBaseTransport):
    """Counts every request (method and path) on its way to the wrapped transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: Counter[tuple[str, str]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests[(request.method, request.url.path)] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_migrated_gladia_job_costs_its_share_of_the_list_pages_and_one_download(
    tmp_path: Path,
) -> None:
    from convoport.adapters.gladia.emulator import GladiaEmulator

    harness = GladiaEmulator()
    counting = Counting(harness.transport())
    async with connect("gladia", transport=counting, **harness.connect_options()) as source:
        report = await migrate(source, f"local:{tmp_path / 'a'}", backoff_base=0)
    copied = [o for o in report.outcomes if o.state == "copied"]
    assert copied
    assert report.failed == 0
    requests = counting.requests
    pages = requests[("GET", "/v2/live")]
    assert pages >= 1
    per_job = {path: n for (method, path), n in requests.items() if path != "/v2/live"}
    downloads = {p: n for p, n in per_job.items() if p.endswith("/file")}
    # nothing but one download per copied job that has a recording: no GET of the job itself
    assert set(per_job) == set(downloads), sorted(set(per_job) - set(downloads))
    assert all(n == 1 for n in downloads.values()), downloads
    with_media = [o for o in copied if any(a.startswith("recording") for a in o.artifacts)]
    assert len(downloads) == len(with_media)
    assert sum(requests.values()) == pages + len(with_media)


async def test_an_id_still_costs_one_get_and_a_stale_session_is_fetched_again() -> None:
    from convoport.adapters.gladia.emulator import GladiaEmulator

    harness = GladiaEmulator()
    counting = Counting(harness.transport())
    async with connect("gladia", transport=counting, **harness.connect_options()) as client:
        done = [s async for s in client.list_sessions() if s.provider_status == "done"]
        counting.requests.clear()
        await client.get_transcript(done[0])  # the listed job: no request
        assert sum(counting.requests.values()) == 0
        await client.get_transcript(done[0].id)  # an id: one GET of the job
        assert counting.requests == Counter({("GET", f"/v2/live/{done[0].id}"): 1})
        counting.requests.clear()
        stale = attrs.evolve(done[0], provider_data={**done[0].provider_data, "status": "queued"})
        await client.get_transcript(stale)  # not finished when captured: fetched now
        assert sum(counting.requests.values()) == 1
