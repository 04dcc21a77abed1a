"""Migration: copy a provider's history into an archive, or push an archive into an ingest
backend for re-processing.

``await convoport.migrate(source, destination)`` (blocking: ``convoport.migrate_sync``) picks
the direction from the destination's
capabilities:

* **copy** (the destination declares ``archive.sink``, e.g. ``local:./archive``): every
  finished session the source lists (filters and ``since`` applied), with every artifact the
  source's capabilities allow (``include`` narrows it). Recordings stream from the source into
  the media store in constant memory with sha256 and size recorded. Each session is committed in
  one transaction together with its ledger entry, so a rerun skips finished sessions and a run
  killed at any instant resumes with nothing lost and nothing written twice.
* **re-process** (the source is an archive and the destination declares ``batch.ingest`` or
  ``live.ingest``): each archived session's first recording is sent to the destination, and the
  transcript it produces is stored in the archive beside the original, with the destination's
  name as its ``engine``. Sessions that already have a transcript by that engine are skipped.

Sessions run with bounded concurrency. A transient vendor error (``retryable``) retries the
whole session with backoff; a session that keeps failing is recorded as failed with its reason
and the rest continue. Unfinished sessions (not ``COMPLETED``/``FAILED``/``CANCELLED``) are not
copied: they are reported as skipped and picked up by a later run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, aclosing
from datetime import datetime
from typing import Any

import anyio
import attrs

from convoport.archive import (
    ArchiveAdapter,
    ClaimLost,
    LedgerEntry,
    SessionBundle,
    StoredMedia,
    as_archive,
)
from convoport.capabilities import Capability
from convoport.client import AsyncClient
from convoport.connect import adapter_class, connect
from convoport.errors import (
    ConfigError,
    ConvoportError,
    NotFound,
    ProviderError,
    UnsupportedOperation,
)
from convoport.live import IngestResult
from convoport.media import MediaInput, MediaSource
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    Transcript,
)
from convoport.sync import SyncClient
from convoport.wavfeed import stream_wav

logger = logging.getLogger("convoport.migrate")

#: Artifacts ``include`` can name, and the capability each needs on the source.
ARTIFACTS: dict[str, Capability] = {
    "transcripts": Capability.TRANSCRIPTS,
    "summaries": Capability.SUMMARIES,
    "participants": Capability.PARTICIPANTS,
    "chat": Capability.CHAT,
    "recordings": Capability.RECORDINGS,
}


#: Seconds between two claims of a session another writer holds.
_CLAIM_POLL = 0.25
#: Seconds to wait for a claim another writer is deciding at this instant (a locked row).
_DECIDING = 2.0

#: The states a session can end a run in.
STATES = ("copied", "repaired", "reprocessed", "skipped", "failed", "planned")


@attrs.define(kw_only=True)
class SessionOutcome:
    """What happened to one session: ``state`` is one of :data:`STATES`. ``bytes`` is the
    media moved (planned, for a dry run), or None when a dry run cannot know the size."""

    ref: SessionRef
    state: str
    reason: str | None = None
    bytes: int | None = 0
    artifacts: list[str] = attrs.field(factory=list)

    @property
    def skip_reason(self) -> str | None:
        """The kind of a skip (``"already copied"``, ``"not finished"`` …), without the
        detail in parentheses; None when the session was not skipped."""
        if self.state != "skipped":
            return None
        return (self.reason or "skipped").split(" (")[0]


@attrs.define(kw_only=True)
class MigrationReport:
    """The totals of a run. ``seconds`` is wall time; ``bytes`` media bytes moved (planned,
    for a dry run, where ``bytes_unknown`` counts sessions whose size the source does not
    give). ``interrupted`` is True when the run was stopped (Ctrl-C) before it ended: the
    report then holds the sessions that had finished."""

    source: str
    destination: str
    mode: str
    dry_run: bool = False
    repair: bool = False
    outcomes: list[SessionOutcome] = attrs.field(factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    #: media files no session named, removed by a repair
    orphans_removed: int = 0

    def _count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def copied(self) -> int:
        return self._count("copied")

    @property
    def repaired(self) -> int:
        return self._count("repaired")

    @property
    def reprocessed(self) -> int:
        return self._count("reprocessed")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        """How many sessions were skipped, by kind of reason (sorted by kind)."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            if o.skip_reason is not None:
                counts[o.skip_reason] = counts.get(o.skip_reason, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def planned(self) -> int:
        return self._count("planned")

    @property
    def bytes(self) -> int:
        return sum(o.bytes or 0 for o in self.outcomes)

    @property
    def bytes_unknown(self) -> int:
        """Sessions whose (planned) size is unknown."""
        return sum(1 for o in self.outcomes if o.bytes is None)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.interrupted

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "repair": self.repair,
            "interrupted": self.interrupted,
            "orphans_removed": self.orphans_removed,
            **{state: self._count(state) for state in STATES},
            "skipped_by_reason": self.skipped_by_reason,
            "bytes": self.bytes,
            "bytes_unknown": self.bytes_unknown,
            "seconds": round(self.seconds, 3),
            "sessions": [
                {
                    "ref": str(o.ref),
                    "state": o.state,
                    "reason": o.reason,
                    "bytes": o.bytes,
                    "artifacts": o.artifacts,
                }
                for o in self.outcomes
            ],
        }


class Progress:
    """Progress callbacks (the CLI draws bars from them). All are optional no-ops."""

    def migration_started(self, report: MigrationReport) -> None:
        """The run began; ``report`` is the report it fills in as sessions finish (what a
        caller prints when the run is interrupted)."""

    def session_started(self, ref: SessionRef) -> None:
        """A session is being processed."""

    def session_finished(self, outcome: SessionOutcome) -> None:
        """A session ended (in one of :data:`STATES`)."""

    def bytes_moved(self, count: int) -> None:
        """``count`` more media bytes were moved."""

    def sessions_listed(self, count: int) -> None:
        """The source's listing ended with ``count`` sessions (the bar's total)."""


@attrs.frozen(kw_only=True)
class MigrationOptions:
    """``concurrency`` sessions at once; ``attempts`` session attempts (the whole session is
    tried again on a retryable error; each HTTP request has its own retries below that) with
    ``backoff_base`` seconds doubling between them; ``include`` the artifacts to copy
    (``None``: all the source has); ``limit`` the most sessions of new work (copied,
    re-processed, planned or failed: sessions already done do not count); ``repair``: re-copy
    only the sessions the destination's ``verify`` finds missing or corrupt media for."""

    query: SessionQuery = attrs.field(factory=SessionQuery)
    include: frozenset[str] | None = None
    concurrency: int = 4
    attempts: int = 3
    backoff_base: float = 0.5
    dry_run: bool = False
    limit: int | None = None
    repair: bool = False
    #: copy exactly these (already listed) sessions instead of listing the source
    sessions: tuple[Session, ...] | None = None
    #: entered around each session's work: a limit shared with other processes
    slot: Callable[[], AbstractAsyncContextManager[Any]] | None = None


async def migrate(
    source: AsyncClient | str,
    destination: AsyncClient | str,
    *,
    since: datetime | None = None,
    query: SessionQuery | None = None,
    include: Iterable[str] | None = None,
    concurrency: int = 4,
    attempts: int = 3,
    dry_run: bool = False,
    limit: int | None = None,
    sandbox: bool = False,
    progress: Progress | None = None,
    backoff_base: float = 0.5,
    repair: bool = False,
    sessions: Iterable[Session] | None = None,
    slot: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
) -> MigrationReport:
    """Copies ``source`` into ``destination`` (or re-processes an archive; see the module).

    ``source``/``destination`` are clients or connection strings (``"gladia"``,
    ``"local:./archive"``); strings are connected (with ``sandbox``) and closed here.
    ``since`` keeps sessions created at or after it (it tightens ``query.created_after``).
    ``attempts`` is per session, ``backoff_base`` the seconds before the second one (doubling
    after). ``limit`` counts new work only, so batches of ``limit`` move forward run after
    run. ``repair=True`` re-fetches from the source exactly the sessions whose media the
    destination's ``verify`` reports missing or corrupt, and leaves everything else alone.

    For runners that spread one migration over processes (:mod:`convoport.cluster`):
    ``sessions`` copies exactly those sessions (listed by the source elsewhere, with the query
    applied there) instead of listing the source; ``slot()`` is entered around each
    session's work, so a limit shared across processes (a cluster-wide semaphore on the
    vendor's concurrent requests) holds.
    """
    if concurrency < 1:
        raise ConfigError(f"concurrency must be >= 1, got {concurrency}")
    if attempts < 1:
        raise ConfigError(f"attempts must be >= 1, got {attempts}")
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be >= 0, got {limit}")
    if backoff_base < 0:
        raise ConfigError(f"backoff_base must be >= 0 seconds, got {backoff_base}")
    base = query or SessionQuery()
    if since is not None and (base.created_after is None or since > base.created_after):
        base = attrs.evolve(base, created_after=since)
    chosen = None if include is None else frozenset(include)
    if chosen is not None and not chosen <= set(ARTIFACTS):
        raise ConfigError(
            "unknown artifact(s): " + ", ".join(sorted(chosen - set(ARTIFACTS))),
            hint="choose from " + ", ".join(ARTIFACTS),
        )
    options = MigrationOptions(
        query=base,
        include=chosen,
        concurrency=concurrency,
        attempts=attempts,
        backoff_base=backoff_base,
        dry_run=dry_run,
        limit=limit,
        repair=repair,
        sessions=None if sessions is None else tuple(sessions),
        slot=slot,
    )
    owned: list[AsyncClient] = []
    try:
        src = source if isinstance(source, AsyncClient) else _open(source, sandbox, owned)
        dst = (
            destination
            if isinstance(destination, AsyncClient)
            else _open(destination, sandbox, owned, create=not dry_run)
        )
        runner = _Runner(src, dst, options, progress or Progress())
        sink = runner.sink
        claimed_here = sink is not None and not dry_run and not sink.writer_claimed
        if claimed_here:
            assert sink is not None
            await sink.claim_writer()  # one writer per archive (the backend says what that means)
        try:
            return await runner.run()
        except BaseExceptionGroup as group:
            # The task group wraps what escaped a session (the listing failing, mostly):
            # raise the convoport error itself, as every other call does.
            errors = group.exceptions
            if len(errors) == 1 and isinstance(errors[0], Exception):
                raise errors[0] from None
            raise
        finally:
            if claimed_here:
                assert sink is not None
                await sink.release_writer()
    finally:
        for client in owned:
            await client.aclose()


def _open(
    target: str, sandbox: bool, owned: list[AsyncClient], *, create: bool = False
) -> AsyncClient:
    cls = adapter_class(target.partition(":")[0])
    # A destination archive is created on first use (not by a dry run); a source must exist.
    options: dict[str, Any] = (
        cls.destination_options(create=create)
        if issubclass(cls, ArchiveAdapter)
        else {"sandbox": sandbox}
    )
    client = connect(target, **options)
    owned.append(client)
    return client


class _Runner:
    def __init__(
        self, src: AsyncClient, dst: AsyncClient, options: MigrationOptions, progress: Progress
    ) -> None:
        self.src = src
        self.dst = dst
        self.options = options
        self.progress = progress
        src_ports = src.capabilities.ports
        dst_ports = dst.capabilities.ports
        #: the destination archive (copy) or the source archive (re-process)
        self.sink: ArchiveAdapter | None = None
        self.archive: ArchiveAdapter | None = None
        if isinstance(dst.adapter, ArchiveAdapter):
            self.mode = "copy"
            self.sink = dst.adapter
            if Capability.CATALOG_LIST not in src_ports:
                raise ConfigError(
                    f"{src.provider} cannot list its sessions, so there is nothing to migrate "
                    "from it",
                    hint="its sessions exist only in live streams; use 'convoport live' with "
                    "an archive instead",
                )
        elif isinstance(src.adapter, ArchiveAdapter) and (
            Capability.BATCH_INGEST in dst_ports or Capability.LIVE_INGEST in dst_ports
        ):
            self.mode = "reprocess"
            self.archive = src.adapter
        else:
            raise ConfigError(
                f"cannot migrate from {src.provider} to {dst.provider}",
                hint="the destination must be an archive (local:PATH), or the source an "
                "archive and the destination a live/batch ingest backend",
            )
        if options.repair and self.mode != "copy":
            raise ConfigError(
                "repair re-copies sessions into an archive; this run re-processes one",
                hint="repair with the archive as the destination: migrate SOURCE ARCHIVE --repair",
            )
        self.report = MigrationReport(
            source=src.provider,
            destination=dst.provider,
            mode="repair" if options.repair else self.mode,
            dry_run=options.dry_run,
            repair=options.repair,
        )

    async def run(self) -> MigrationReport:
        started = time.monotonic()
        self.progress.migration_started(self.report)
        limiter = anyio.Semaphore(self.options.concurrency)
        listed = 0
        scheduled = 0
        limit = self.options.limit
        try:
            async with anyio.create_task_group() as tg:
                async with aclosing(self._sessions()) as sessions:
                    async for session in sessions:
                        listed += 1
                        ref = self._source_ref(session)
                        early = await self._precheck(session, ref)
                        if early is not None:  # done already, or not ready: no new work
                            self._finish(early)
                            continue
                        if limit is not None and scheduled >= limit:
                            break
                        scheduled += 1
                        await limiter.acquire()
                        tg.start_soon(self._guarded, session, ref, limiter)
                self.progress.sessions_listed(listed)
        finally:
            self.report.seconds = time.monotonic() - started
            self.report.outcomes.sort(key=lambda o: str(o.ref))
        return self.report

    async def _sessions(self) -> AsyncGenerator[Session, None]:
        """What this run works on: the source's listing, or for a repair the sessions the
        destination's verify finds wrong (fetched again from the source)."""
        if self.options.sessions is not None:
            for session in self.options.sessions:
                yield session
            return
        if not self.options.repair:
            async with aclosing(self.src.list_sessions(self.options.query)) as listing:
                async for session in listing:
                    yield session
            return
        assert self.sink is not None
        found = await self.sink.verify()
        for orphan in found.orphans:  # media no session names: left by an interrupted run
            if orphan.path is None:
                continue
            try:
                await self.sink._remove_orphan(orphan.path)
            except UnsupportedOperation:
                logger.warning("%s cannot remove orphan media; %s stays", self.dst.provider, orphan)
                break
            self.report.orphans_removed += 1
        broken = sorted({i.ref for i in [*found.missing, *found.corrupt] if i.ref})
        for text in broken:
            ref = SessionRef.parse(text)
            if ref.provider != self.src.provider:
                self._finish(
                    SessionOutcome(
                        ref=ref,
                        state="skipped",
                        reason=f"from another source ({ref.provider}, not {self.src.provider})",
                    )
                )
                continue
            try:
                yield await self.src.get_session(ref.id)
            except NotFound:
                self._finish(
                    SessionOutcome(
                        ref=ref,
                        state="failed",
                        reason=f"{ref} is gone from {self.src.provider}: it cannot be repaired",
                    )
                )

    def _finish(self, outcome: SessionOutcome) -> None:
        self.report.outcomes.append(outcome)
        self.progress.session_finished(outcome)

    async def _precheck(self, session: Session, ref: SessionRef) -> SessionOutcome | None:
        """A skip decided before any work (and before the limit counts the session)."""
        if self.mode == "reprocess":
            assert self.archive is not None
            engine = self.dst.provider
            existing = await self.archive.list_transcripts(ref, reprocessed=True)
            if any(t.engine == engine for t in existing):
                return SessionOutcome(
                    ref=ref, state="skipped", reason=f"already has a {engine} transcript"
                )
            return None
        if not self.options.repair:
            assert self.sink is not None
            entry = await self._ledger_entry(self.sink, ref)
            if entry is not None and entry.state == "done":
                return SessionOutcome(ref=ref, state="skipped", reason="already copied")
        # An archive's sessions are copied whatever their state: an archived snapshot of a
        # session that was still running (a live session's) is all there is of it.
        if not session.status.terminal and not isinstance(self.src.adapter, ArchiveAdapter):
            return SessionOutcome(
                ref=ref, state="skipped", reason=f"not finished ({session.status.value})"
            )
        return None

    async def _guarded(self, session: Session, ref: SessionRef, limiter: anyio.Semaphore) -> None:
        try:
            self.progress.session_started(ref)
            if self.options.slot is None:
                outcome = await self._claimed_and_copied(session, ref)
            else:
                async with self.options.slot():
                    outcome = await self._claimed_and_copied(session, ref)
            self._finish(outcome)
        finally:
            limiter.release()

    async def _claimed_and_copied(self, session: Session, ref: SessionRef) -> SessionOutcome:
        """Copies one session once the destination's claim on it is this run's (an archive
        several writers share). A session another writer holds is waited for, polling every
        :data:`_CLAIM_POLL` seconds, until that claim would lapse: it ends done (skipped as
        already copied), lapses (this run takes it over) or was renewed (skipped: that writer
        is still at it, and a later run picks the session up if it fails)."""
        sink = self.sink
        if sink is not None and sink.multi_writer and not self.options.dry_run:
            claim = await sink._claim(ref, again=self.options.repair)
            deadline: float | None = None
            while claim.state == "held":
                # wait, polling, until the holder's claim would lapse: a holder that finishes
                # makes it done, one that died lets it lapse, one still at it renews it
                now = time.monotonic()
                if deadline is None:
                    deadline = now + (_DECIDING if claim.wait is None else claim.wait + 0.05)
                if now >= deadline:
                    break
                await anyio.sleep(min(_CLAIM_POLL, deadline - now))
                claim = await sink._claim(ref, again=self.options.repair)
            if claim.state == "done":
                return SessionOutcome(ref=ref, state="skipped", reason="already copied")
            if claim.state != "claimed":
                holder = f" ({claim.holder})" if claim.holder else ""
                return SessionOutcome(
                    ref=ref, state="skipped", reason=f"being copied by another writer{holder}"
                )
        return await self._with_attempts(session, ref)

    def _source_ref(self, session: Session) -> SessionRef:
        # A vendor's sessions are its own; an archive's keep the reference of their origin,
        # so an archive copied into another keeps its ledger keys.
        return session.ref

    async def _with_attempts(self, session: Session, ref: SessionRef) -> SessionOutcome:
        delay = self.options.backoff_base
        attempts = self.options.attempts
        for attempt in range(1, attempts + 1):
            try:
                if self.mode == "copy":
                    return await self._copy(session, ref)
                return await self._reprocess(session, ref)
            except ProviderError as exc:
                if not self._may_repeat(exc) or attempt == attempts:
                    return await self._failed(ref, exc)
                logger.warning(
                    "session %s: session attempt %d of %d failed (%s); trying the whole "
                    "session again in %.1fs",
                    ref,
                    attempt,
                    attempts,
                    exc,
                    delay,
                )
                await anyio.sleep(delay)
                delay *= 2
            except ClaimLost as exc:
                return SessionOutcome(
                    ref=ref, state="skipped", reason=f"taken over by another writer ({exc})"
                )
            except ConvoportError as exc:
                return await self._failed(ref, exc)
            except Exception as exc:  # a bug or an unreadable input: this session only
                logger.debug("%s failed", ref, exc_info=True)
                return await self._failed(ref, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def _may_repeat(self, exc: ProviderError) -> bool:
        if not exc.retryable:
            return False
        # Re-processing creates something at the vendor (an analysis, a live job): repeat it
        # only when the request provably never left the machine, or nothing would be doubled.
        return self.mode == "copy" or bool(exc.details.get("not_sent"))

    async def _failed(self, ref: SessionRef, exc: Exception) -> SessionOutcome:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, ConvoportError):
            reason = f"{type(exc).__name__}: {reason}"
        if not self.options.dry_run and self.sink is not None:
            try:
                await self.sink._record_failure(ref, reason)
            except ConvoportError as error:
                logger.warning("could not record the failure of %s: %s", ref, error)
        return SessionOutcome(ref=ref, state="failed", reason=reason)

    def _wanted(self, artifact: str) -> bool:
        include = self.options.include
        if include is not None and artifact not in include:
            return False
        return ARTIFACTS[artifact] in self.src.capabilities.ports

    # -- copy ----------------------------------------------------------------------------

    async def _copy(self, session: Session, ref: SessionRef) -> SessionOutcome:
        sink = self.sink
        assert sink is not None
        src = self.src.adapter
        if not src.listed_sessions_complete and Capability.CATALOG_GET in src.capabilities.ports:
            session = await self.src.get_session(session)
        artifacts: list[str] = []
        #: artifact -> why the source has none (NotFound): archived beside the session
        missing: dict[str, str] = {}
        transcripts: tuple[Transcript, ...] = ()
        if self._wanted("transcripts"):
            if isinstance(src, ArchiveAdapter):  # the original and the re-processed ones
                transcripts = tuple(await src.list_transcripts(session.ref))
            else:
                transcript = await _optional(
                    self.src.get_transcript(session), missing, "transcript"
                )
                transcripts = () if transcript is None else (transcript,)
            if transcripts:
                artifacts.append(
                    "transcript" if len(transcripts) == 1 else f"{len(transcripts)} transcripts"
                )
        summary = None
        if self._wanted("summaries"):
            summary = await _optional(self.src.get_summary(session), missing, "summary")
            if summary is not None:
                artifacts.append("summary")
        participants: list[Participant] = []
        if self._wanted("participants"):
            participants = (
                await _optional(self.src.list_participants(session), missing, "participants") or []
            )
            if participants:
                artifacts.append(f"{len(participants)} participants")
        chat: list[ChatMessage] = []
        if self._wanted("chat"):
            chat = await _optional(self.src.list_chat(session), missing, "chat") or []
            if chat:
                artifacts.append(f"{len(chat)} chat messages")
        recordings: list[Recording] = []
        if self._wanted("recordings"):
            recordings = (
                await _optional(self.src.list_recordings(session), missing, "recordings") or []
            )
            if not recordings:
                missing.setdefault("recordings", f"{session.ref} has no recording at the source")
        if self.options.dry_run:
            sizes = [r.size for r in recordings]
            size = None if None in sizes else sum(s or 0 for s in sizes)
            artifacts += [f"recording {r.id}" for r in recordings]
            return SessionOutcome(ref=ref, state="planned", bytes=size, artifacts=artifacts)
        media: list[StoredMedia] = []
        moved = 0
        for recording in recordings:
            async with self.src.open_recording(session, recording_id=recording.id) as stream:
                stored = await sink._store_media(
                    ref, stream.recording, self._counting(stream.aiter_bytes())
                )
            media.append(stored)
            moved += stored.size
            artifacts.append(f"recording {recording.id}")
        # Vendor extras (the adapter's ``_session_extras``) are archived raw beside the
        # session, with what the source did not have.
        raw = dict(await src._session_extras(session))
        if missing:
            raw["missing"] = {**missing, **(raw.get("missing") or {})}
        bundle = SessionBundle(
            source=ref,
            session=session,
            transcripts=transcripts,
            summary=summary,
            participants=tuple(participants),
            chat=tuple(chat),
            media=tuple(media),
            provider_data=raw,
            # an unfinished session (from an archive) stays an incomplete snapshot: the ledger
            # does not mark it done, as in the archive it came from
            complete=session.status.terminal,
        )
        await sink._commit_session(bundle)
        state = "repaired" if self.options.repair else "copied"
        return SessionOutcome(ref=ref, state=state, bytes=moved, artifacts=artifacts)

    async def _ledger_entry(self, sink: ArchiveAdapter, ref: SessionRef) -> LedgerEntry | None:
        try:
            return await sink._ledger_entry(ref)
        except ConfigError:
            if self.options.dry_run:  # a dry run into an archive that does not exist yet
                return None
            raise

    async def _counting(self, chunks: Any) -> Any:
        async for chunk in chunks:
            self.progress.bytes_moved(len(chunk))
            yield chunk

    # -- re-process ----------------------------------------------------------------------

    async def _reprocess(self, session: Session, ref: SessionRef) -> SessionOutcome:
        archive = self.archive
        assert archive is not None
        engine = self.dst.provider
        recordings = await self.src.list_recordings(str(ref))
        if not recordings:
            return SessionOutcome(ref=ref, state="skipped", reason="no recording to re-process")
        recording = recordings[0]
        if self.options.dry_run:
            return SessionOutcome(
                ref=ref,
                state="planned",
                bytes=recording.size,
                artifacts=[f"recording {recording.id}"],
            )
        if Capability.BATCH_INGEST in self.dst.capabilities.ports:
            transcript, moved = await self._analyze(
                ref, recording.id, recording.filename, recording.media_type
            )
        else:
            transcript, moved = await self._live(ref, recording.id)
        stored = attrs.evolve(transcript, session_id=str(ref), engine=engine)
        await archive._add_transcript(ref, stored)
        return SessionOutcome(
            ref=ref, state="reprocessed", bytes=moved, artifacts=[f"{engine} transcript"]
        )

    async def _analyze(
        self, ref: SessionRef, recording_id: str, filename: str | None, media_type: str | None
    ) -> tuple[Transcript, int]:
        from convoport.media import MediaSource

        moved = 0
        async with self.src.open_recording(str(ref), recording_id=recording_id) as stream:

            async def chunks() -> Any:
                nonlocal moved
                async for chunk in stream.aiter_bytes():
                    moved += len(chunk)
                    self.progress.bytes_moved(len(chunk))
                    yield chunk

            source = MediaSource(
                data=chunks(),
                filename=filename or f"{recording_id}.wav",
                media_type=media_type,
                size=stream.recording.size,
            )
            result = await self.dst.analyze(source)
        return result.transcript, moved

    async def _live(self, ref: SessionRef, recording_id: str) -> tuple[Transcript, int]:
        async with self.src.open_recording(str(ref), recording_id=recording_id) as stream:
            result = await stream_wav(
                self.dst,
                stream.aiter_bytes(),
                piece_seconds=1.0,
                on_bytes=self.progress.bytes_moved,
            )
        return result.transcript, result.bytes_sent


async def archive_ingest(
    archive: AsyncClient,
    result: IngestResult,
    *,
    media: MediaInput | MediaSource | None = None,
    filename: str | None = None,
    media_type: str | None = None,
) -> SessionRef:
    """Stores what a live session or a batch analysis produced in an archive: the archive
    port's :meth:`~convoport.archive.ArchiveAdapter.ingest` on a client. This is how
    Illocution's live results, which exist nowhere else once its stream ends, are kept."""
    return await as_archive(archive.adapter).ingest(
        result, media=media, filename=filename, media_type=media_type
    )


def migrate_sync(
    source: AsyncClient | SyncClient | str,
    destination: AsyncClient | SyncClient | str,
    **options: Any,
) -> MigrationReport:
    """The blocking twin of :func:`convoport.migrate` (same keyword options). Sync clients
    are used on their own event loop; connection strings are opened and closed here."""
    portal = next((c._portal for c in (source, destination) if isinstance(c, SyncClient)), None)
    src = source.async_client if isinstance(source, SyncClient) else source
    dst = destination.async_client if isinstance(destination, SyncClient) else destination

    async def run() -> MigrationReport:
        return await migrate(src, dst, **options)

    if portal is not None:
        if (
            isinstance(source, SyncClient)
            and isinstance(destination, SyncClient)
            and (source._portal is not destination._portal)
        ):
            raise ConfigError(
                "migrate_sync needs both sync clients to share one event loop",
                hint="pass connection strings, or async clients",
            )
        return portal.call(run)
    return asyncio.run(run())


async def _optional(
    awaitable: Any, missing: dict[str, str] | None = None, artifact: str = ""
) -> Any:
    """The awaited value, or None when the vendor has no such artifact (``NotFound``, whose
    message is noted in ``missing[artifact]``)."""
    try:
        return await awaitable
    except NotFound as exc:
        if missing is not None:
            missing[artifact] = exc.message
        return None


def progress_from(callback: Callable[[str, Any], None]) -> Progress:
    """A :class:`Progress` that forwards every event to ``callback(kind, value)``."""

    class _Forward(Progress):
        def session_started(self, ref: SessionRef) -> None:
            callback("started", ref)

        def session_finished(self, outcome: SessionOutcome) -> None:
            callback("finished", outcome)

        def bytes_moved(self, count: int) -> None:
            callback("bytes", count)

    return _Forward()


__all__ = [
    "ARTIFACTS",
    "STATES",
    "MigrationReport",
    "Progress",
    "SessionOutcome",
    "archive_ingest",
    "migrate",
    "migrate_sync",
    "progress_from",
]
