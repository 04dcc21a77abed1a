"""One migration spread over the workers of a Dask cluster.

``await migrate_distributed("gladia", "postgresql://…", media_root="s3://…", workers=2)`` (or
``dask="tcp://scheduler:8786"`` for an existing cluster) copies a vendor's sessions into an
archive several processes may write at once, with the copying spread over Dask workers. The
CLI is ``convoport migrate SOURCE postgresql://… --media URL --workers N`` (``--dask ADDRESS``).

**How the work is split.** The driver (this process) lists the source, one request per page,
and checks the destination's ledger for a whole chunk of ``batch_size`` listed sessions in one
query. What is left to do travels to the workers as Dask tasks of ``batch_size`` already-listed
:class:`~convoport.model.Session` objects (pickled; a worker does not GET them again), while the
driver keeps listing: listing overlaps copying, and at most ``2 x`` the cluster's threads
batches are in flight (the driver's memory stays bounded whatever the history's size). This
works with every source, including ones without time filters; splitting by creation-time
windows listed by the workers themselves would save the driver's listing (about 1 % of a
migration's requests) but needs a source with exact time filters and windows sized without
knowing the density of the history.

**On a worker**, each process keeps one runtime per run: the connected source and destination
clients and one event-loop thread, reused by every batch of the run and closed when the run
ends or the worker closes. A batch is ``migrate(src, dst, sessions=batch, slot=…)``; the slot
bounds the sessions the process works on at once to ``concurrency`` (however many batches
its threads run), and, with ``max_requests``, holds one lease of a cluster-wide
``distributed.Semaphore`` per session. A session makes one request to the vendor at a time
(the migration awaits each artifact and each download in turn), so ``max_requests`` bounds the
concurrent requests of all workers; the driver's listing adds at most one more.

**Losing a worker.** Dask reschedules a lost worker's batches on the others. Its claims on the
sessions it was copying lapse after the destination's ``claim_lease`` seconds, and the new
attempt takes them over. Sessions the lost worker had committed are found done in the ledger by
the new attempt (a batch knows it runs again from a per-batch ``distributed.Event``), and are
reported as copied once, with their media bytes and artifacts read back from the archive, not
as "already copied".

**The report** is aggregated in the driver: the same :class:`~convoport.migration.MigrationReport`
(states, counts, ``as_dict()``) as a single-process run, and the same
:class:`~convoport.migration.Progress` events (a batch's sessions finish when its result
arrives).

Dask (``pip install 'convoport[dask]'``) is imported only when a distributed run starts.
Connection strings and options travel to the workers; clients do not. On an existing cluster
the workers need convoport installed, and the source's credentials either in their
environment or in ``source_options``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future as ThreadFuture
from typing import Any

import anyio
import anyio.to_thread
import attrs

from convoport.archive import ArchiveAdapter, as_archive
from convoport.client import AsyncClient
from convoport.connect import adapter_class, connect
from convoport.errors import ArchiveError, ConfigError, ConvoportError, NotFound
from convoport.migration import ARTIFACTS, MigrationReport, Progress, SessionOutcome, migrate
from convoport.model import Session, SessionQuery, SessionRef

logger = logging.getLogger("convoport.cluster")

#: Sessions per shipped batch (and per ledger query of the driver): about one listing page.
DEFAULT_BATCH_SIZE = 100
#: Seconds to wait for a scheduler (or a local cluster) to answer before giving up.
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Threads (concurrent batches) of each worker of a local cluster (``workers=N``).
LOCAL_THREADS_PER_WORKER = 2
#: Seconds a worker waits for its runtime to close (clients, claims, the loop thread).
CLOSE_TIMEOUT = 30.0


@attrs.frozen(kw_only=True)
class Job:
    """What a worker needs to run batches of one distributed migration (pickled to it).

    ``token`` names the run (its runtimes, its semaphore, its batch markers). The options
    may hold credentials and the destination a password, so the repr shows neither.
    """

    token: str
    source: str = attrs.field(repr=False)
    source_options: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    sandbox: bool = False
    destination: str = attrs.field(repr=False)
    destination_options: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    #: sessions one worker process copies at once (all its batches together)
    concurrency: int = 16
    attempts: int = 3
    include: frozenset[str] | None = None
    #: the cluster-wide semaphore's name and size (None: no limit across workers)
    semaphore: str | None = None
    max_requests: int | None = None

    def marker(self, index: int) -> str:
        """The name of the ``distributed.Event`` set when batch ``index`` starts."""
        return f"convoport-{self.token}-batch-{index}"


# -- the split (driver) -----------------------------------------------------------------------


@attrs.define(kw_only=True)
class Split:
    """Turns the source's listing into batches of work, deciding the early skips the same way
    a single-process run does: a session the ledger says is done is ``skipped: already
    copied``; one not finished is ``skipped: not finished (status)``; ``limit`` counts new
    work only (the first session over it stops the listing, unreported)."""

    batch_size: int = DEFAULT_BATCH_SIZE
    limit: int | None = None
    #: sessions shipped so far (new work)
    shipped: int = 0
    #: the listing must stop (the limit is reached)
    done: bool = False
    pending: list[Session] = attrs.field(factory=list)

    def chunk(
        self, sessions: Sequence[Session], finished: set[str]
    ) -> tuple[list[SessionOutcome], list[list[Session]]]:
        """Takes one chunk of listed ``sessions`` (``finished``: the refs the ledger says are
        done); returns the early outcomes and the full batches ready to ship."""
        early: list[SessionOutcome] = []
        for session in sessions:
            ref = session.ref
            if str(ref) in finished:
                early.append(SessionOutcome(ref=ref, state="skipped", reason="already copied"))
                continue
            if not session.status.terminal:
                reason = f"not finished ({session.status.value})"
                early.append(SessionOutcome(ref=ref, state="skipped", reason=reason))
                continue
            if self.limit is not None and self.shipped >= self.limit:
                self.done = True
                break
            self.shipped += 1
            self.pending.append(session)
        ready: list[list[Session]] = []
        while len(self.pending) >= self.batch_size:
            ready.append(self.pending[: self.batch_size])
            del self.pending[: self.batch_size]
        return early, ready

    def rest(self) -> list[Session]:
        """The last, partial batch (empty when there is none)."""
        rest, self.pending = self.pending, []
        return rest


async def finished_refs(archive: ArchiveAdapter, refs: Sequence[str]) -> set[str]:
    """The refs among ``refs`` the archive's ledger says are done: one query on a SQL catalog,
    else one lookup each."""
    from convoport.store.sqlarchive import SqlArchive

    if not refs:
        return set()
    if isinstance(archive, SqlArchive):
        wanted = list(refs)
        entries = await archive._db(lambda c: c.ledger_entries(wanted))
        return {ref for ref, entry in entries.items() if entry.state == "done"}
    found = set()
    for ref in refs:
        entry = await archive._ledger_entry(SessionRef.parse(ref))
        if entry is not None and entry.state == "done":
            found.add(ref)
    return found


#: How the driver runs one batch: (batch index, sessions) -> their outcomes.
Submit = Callable[[int, list[Session]], Awaitable[list[SessionOutcome]]]


async def drive(
    src: AsyncClient,
    archive: ArchiveAdapter,
    report: MigrationReport,
    submit: Submit,
    *,
    query: SessionQuery,
    batch_size: int,
    limit: int | None,
    in_flight: int,
    progress: Progress,
) -> None:
    """Lists ``src`` (``query``), checks the ledger per chunk of ``batch_size`` and runs the
    batches through ``submit``, at most ``in_flight`` at once, while listing goes on; fills
    ``report`` with every outcome and reports each to ``progress``. The first batch to fail
    stops the listing; the others are cancelled and its error is raised."""

    def finish(outcome: SessionOutcome) -> None:
        report.outcomes.append(outcome)
        progress.session_finished(outcome)
        if outcome.bytes:
            progress.bytes_moved(outcome.bytes)

    split = Split(batch_size=batch_size, limit=limit)
    slots = asyncio.Semaphore(in_flight)
    running: set[asyncio.Task[None]] = set()
    errors: list[BaseException] = []
    index = 0

    async def run(number: int, batch: list[Session]) -> None:
        try:
            for outcome in await submit(number, batch):
                finish(outcome)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # reported by the driver loop, once
            errors.append(exc)
        finally:
            slots.release()

    async def ship(batch: list[Session]) -> None:
        nonlocal index
        await slots.acquire()
        if errors:
            slots.release()
            return
        for session in batch:
            progress.session_started(session.ref)
        task = asyncio.ensure_future(run(index, batch))
        index += 1
        running.add(task)
        task.add_done_callback(running.discard)

    listed = 0
    try:
        chunk: list[Session] = []
        async with contextlib.aclosing(src.list_sessions(query)) as listing:
            async for session in listing:
                listed += 1
                chunk.append(session)
                if len(chunk) < batch_size:
                    continue
                await _take(split, archive, chunk, finish, ship)
                chunk = []
                if split.done or errors:
                    break
        if chunk and not split.done and not errors:
            await _take(split, archive, chunk, finish, ship)
        if not errors and (rest := split.rest()):
            await ship(rest)
        progress.sessions_listed(listed)
        while running and not errors:
            await asyncio.wait(set(running), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(set(running))
    if errors:
        raise errors[0]


async def _take(
    split: Split,
    archive: ArchiveAdapter,
    chunk: list[Session],
    finish: Callable[[SessionOutcome], None],
    ship: Callable[[list[Session]], Awaitable[None]],
) -> None:
    finished = await finished_refs(archive, [str(s.ref) for s in chunk])
    early, ready = split.chunk(chunk, finished)
    for outcome in early:
        finish(outcome)
    for batch in ready:
        await ship(batch)


# -- the worker side --------------------------------------------------------------------------


async def archived_artifacts(client: AsyncClient, ref: SessionRef) -> tuple[list[str], int]:
    """What the archive holds for ``ref``, named as a migration names what it copied
    (``["transcript", "summary", "2 participants", "recording r1"]``), and its media bytes."""
    archive = as_archive(client.adapter)
    key = str(ref)
    artifacts: list[str] = []
    transcripts = await archive.list_transcripts(key, reprocessed=False)
    if transcripts:
        count = len(transcripts)
        artifacts.append("transcript" if count == 1 else f"{count} transcripts")
    with contextlib.suppress(NotFound):
        await client.get_summary(key)
        artifacts.append("summary")
    participants = await client.list_participants(key)
    if participants:
        artifacts.append(f"{len(participants)} participants")
    chat = await client.list_chat(key)
    if chat:
        artifacts.append(f"{len(chat)} chat messages")
    recordings = await client.list_recordings(key)
    artifacts += [f"recording {r.id}" for r in recordings]
    return artifacts, sum(r.size or 0 for r in recordings)


async def recount(
    client: AsyncClient, outcomes: list[SessionOutcome], rerun: bool
) -> list[SessionOutcome]:
    """A batch's outcomes as the run's report counts them: when the batch runs again (its
    first worker was lost), a session it finds "already copied" was committed by that first
    attempt of this run (the driver shipped it because the ledger did not have it), so it is
    reported as copied, with what the archive holds for it."""
    if not rerun:
        return outcomes
    counted = []
    for outcome in outcomes:
        if outcome.skip_reason == "already copied":
            artifacts, size = await archived_artifacts(client, outcome.ref)
            outcome = SessionOutcome(
                ref=outcome.ref, state="copied", bytes=size, artifacts=artifacts
            )
        counted.append(outcome)
    return counted


class Runtime:
    """One run's machinery in one worker process: the connected source and destination (one
    each, shared by every batch), and the event loop they live on, in a thread of its own."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"convoport-{job.token[:8]}", daemon=True
        )
        self.thread.start()
        self.src: AsyncClient | None = None
        self.dst: AsyncClient | None = None
        self._lease: Any = None  # distributed.Semaphore (untyped)
        self._lease_lock = threading.Lock()
        self._opening: asyncio.Lock | None = None
        self._local: asyncio.Semaphore | None = None
        self._lease_threads: anyio.CapacityLimiter | None = None
        self.closed = False

    def call(self, coro: Awaitable[Any], timeout: float | None = None) -> Any:
        """Runs ``coro`` on the runtime's loop from another thread and returns its result."""

        async def wrapped() -> Any:
            return await coro

        future: ThreadFuture[Any] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result(timeout)

    def run_batch(self, sessions: list[Session], rerun: bool) -> list[SessionOutcome]:
        """Copies ``sessions`` (blocking: called from a Dask task thread)."""
        with self._lease_lock:
            if self.job.semaphore is not None and self._lease is None:
                # built here, in a task thread, so it binds to this worker's scheduler and loop
                self._lease = _distributed().Semaphore(
                    max_leases=self.job.max_requests, name=self.job.semaphore
                )
        outcomes: list[SessionOutcome] = self.call(self._batch(sessions, rerun))
        return outcomes

    async def _open(self) -> tuple[AsyncClient, AsyncClient]:
        if self._opening is None:
            self._opening = asyncio.Lock()
            self._local = asyncio.Semaphore(self.job.concurrency)
            self._lease_threads = anyio.CapacityLimiter(self.job.concurrency)
        async with self._opening:
            if self.src is None or self.dst is None:
                job = self.job
                src = _connect_source(job.source, job.sandbox, job.source_options)
                dst = _connect_destination(job.destination, job.destination_options)
                await as_archive(dst.adapter).claim_writer()  # held for the run, not per batch
                self.src, self.dst = src, dst
            return self.src, self.dst

    async def _batch(self, sessions: list[Session], rerun: bool) -> list[SessionOutcome]:
        src, dst = await self._open()
        job = self.job
        report = await migrate(
            src,
            dst,
            sessions=sessions,
            concurrency=job.concurrency,
            attempts=job.attempts,
            include=job.include,
            slot=self._slot,
        )
        return await recount(dst, report.outcomes, rerun)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        assert self._local is not None
        async with self._local:
            lease = self._lease
            if lease is None:
                yield
                return
            await anyio.to_thread.run_sync(lease.acquire, limiter=self._lease_threads)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(lease.release, limiter=self._lease_threads)

    def close(self) -> None:
        """Closes the clients (releasing their claims) and stops the loop thread."""
        if self.closed:
            return
        self.closed = True

        async def aclose() -> None:
            for client in (self.src, self.dst):
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.aclose()

        try:
            self.call(aclose(), CLOSE_TIMEOUT)
        except Exception:  # a worker shutting down: the claims lapse with their lease
            logger.debug("closing the runtime of run %s failed", self.job.token, exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(CLOSE_TIMEOUT)


_RUNTIMES: dict[str, Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


def _runtime(job: Job) -> Runtime:
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(job.token)
        if runtime is None:
            runtime = _RUNTIMES[job.token] = Runtime(job)
        return runtime


def close_runtime(token: str) -> bool:
    """Closes this process's runtime of run ``token`` (run on every worker when a run ends);
    True when there was one."""
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.pop(token, None)
    if runtime is None:
        return False
    runtime.close()
    return True


def close_runtimes() -> None:
    """Closes every runtime of this process (a worker closing)."""
    with _RUNTIMES_LOCK:
        tokens = list(_RUNTIMES)
    for token in tokens:
        close_runtime(token)


def run_batch(job: Job, index: int, sessions: list[Session]) -> list[SessionOutcome]:
    """The Dask task: copies one batch on this worker and returns its outcomes. A batch that
    starts again (its worker was lost) finds its marker set and recounts (:func:`recount`).
    Errors reach the driver as ``ConfigError``/``ArchiveError`` with the worker's message."""
    marker = _distributed().Event(job.marker(index))
    rerun = bool(marker.is_set())
    if not rerun:
        marker.set()
    try:
        return _runtime(job).run_batch(sessions, rerun)
    except ConvoportError as exc:
        kind = ConfigError if isinstance(exc, ConfigError) else ArchiveError
        raise kind(f"on a Dask worker: {exc.message}", hint=exc.hint) from None


#: CPython before 3.12 can deadlock a whole process when ``sys._current_frames()`` runs while
#: other threads allocate (a lock-order inversion between the interpreter's thread-list lock
#: and the GIL when a garbage collection starts inside it: CPython gh-106883, gh-116969, and
#: dask/distributed#8616). Dask's workers call it every 10 ms for their statistical profiler,
#: and a migration's many threads (HTTP, the catalog, the media store) make the deadlock
#: likely: seen here as a distributed run freezing in about one run in five. On those Pythons
#: the profiler of the workers that run convoport is switched off.
PROFILER_DEADLOCKS = sys.version_info < (3, 12)
#: The Dask setting that keeps a worker's profiler off (given to the workers of a local
#: cluster; a worker of an existing cluster has it stopped by :func:`_worker_plugin`).
NO_PROFILER = {"distributed.worker.profile.enabled": False}


def stop_profiler(worker: Any) -> bool:
    """Stops a worker's statistical profiler (see :data:`PROFILER_DEADLOCKS`); True when it
    was running."""
    stopped = False
    for name in ("profile", "profile-cycle"):
        callback = worker.periodic_callbacks.pop(name, None)
        if callback is not None:
            callback.stop()
            stopped = True
    return stopped


def _worker_plugin() -> Any:
    """A ``distributed.WorkerPlugin`` that stops the worker's profiler where it can deadlock
    the process (:data:`PROFILER_DEADLOCKS`) and closes the process's runtimes when its
    worker closes."""
    base: Any = _distributed().WorkerPlugin

    class RuntimeCloser(base):  # type: ignore[misc]
        name = "convoport-runtimes"

        def setup(self, worker: Any) -> None:
            if PROFILER_DEADLOCKS and stop_profiler(worker):
                logger.info("stopped the Dask profiler of %s (CPython gh-106883)", worker.address)

        def teardown(self, worker: Any) -> None:
            close_runtimes()

    return RuntimeCloser()


# -- connecting -------------------------------------------------------------------------------


def _distributed() -> Any:
    """The ``distributed`` module (imported on first use; untyped, so ``Any`` stops here)."""
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "a distributed migration needs Dask", hint="pip install 'convoport[dask]'"
        ) from None
    return distributed


def _connect_source(source: str, sandbox: bool, options: Mapping[str, str]) -> AsyncClient:
    cls = adapter_class(source.partition(":")[0])
    given: dict[str, Any] = dict(options)
    if not issubclass(cls, ArchiveAdapter):
        given["sandbox"] = sandbox
    return connect(source, **given)


def _connect_destination(destination: str, options: Mapping[str, str]) -> AsyncClient:
    cls = adapter_class(destination.partition(":")[0])
    assert issubclass(cls, ArchiveAdapter)
    given: dict[str, Any] = {**cls.destination_options(create=True), **options}
    return connect(destination, **given)


def check_destination(destination: str) -> None:
    """Refuses, before anything starts, a destination several processes cannot write at once
    (``ConfigError``): a distributed run needs a ``multi_writer`` archive (postgresql://)."""
    cls = adapter_class(destination.partition(":")[0])
    if not issubclass(cls, ArchiveAdapter):
        raise ConfigError(
            f"a distributed migration copies into an archive; {cls.name} is not one",
            hint="give an archive destination (postgresql://user@host/db), or run without "
            "--dask/--workers",
        )
    if not cls.multi_writer:
        raise ConfigError(
            f"the {cls.name} archive allows one writer process, so a migration cannot be "
            "spread over workers into it",
            hint="use an archive several writers share (postgresql://user@host/db --media "
            "URL), or run without --dask/--workers",
        )


@contextlib.asynccontextmanager
async def _dask_client(dask: str | None, workers: int | None, timeout: float) -> AsyncIterator[Any]:
    """An asynchronous ``distributed.Client``: on the scheduler at ``dask``, or on a local
    cluster of ``workers`` processes started (and stopped) here."""
    dd = _distributed()
    Client, LocalCluster = dd.Client, dd.LocalCluster
    async with contextlib.AsyncExitStack() as stack:
        if dask is not None:
            try:
                client = await asyncio.wait_for(
                    Client(dask, asynchronous=True, timeout=timeout, set_as_default=False),
                    timeout + 5,
                )
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {dask} within {timeout:g} s "
                    f"({type(exc).__name__})",
                    hint="check the address (tcp://HOST:8786) and that 'dask scheduler' runs "
                    "there with workers, or use --workers N for a cluster on this machine",
                ) from None
        else:
            import importlib

            config: Any = importlib.import_module("dask.config")  # partly typed
            settings = NO_PROFILER if PROFILER_DEADLOCKS else {}
            with config.set(settings):  # the nannies hand their config to the workers
                local = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=LOCAL_THREADS_PER_WORKER,
                    processes=True,
                    asynchronous=True,
                    dashboard_address=":0",
                    worker_dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
                cluster = await stack.enter_async_context(local)
            client = await Client(cluster, asynchronous=True, set_as_default=False)
        stack.push_async_callback(client.close)
        yield client


# -- the entry point --------------------------------------------------------------------------


async def migrate_distributed(
    source: str,
    destination: str,
    *,
    dask: str | None = None,
    workers: int | None = None,
    concurrency: int = 16,
    max_requests: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    media_root: str | None = None,
    claim_lease: float | None = None,
    sandbox: bool = False,
    source_options: Mapping[str, str] | None = None,
    query: SessionQuery | None = None,
    include: Sequence[str] | None = None,
    attempts: int = 3,
    limit: int | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> MigrationReport:
    """Copies ``source`` into the archive ``destination`` with the work spread over a Dask
    cluster: the scheduler at ``dask`` (``"tcp://host:8786"``), or a local cluster of
    ``workers`` processes started for the run (exactly one of the two).

    ``concurrency`` sessions at once per worker process; ``max_requests`` the most sessions
    (so vendor requests) at once over the whole cluster; ``batch_size`` sessions per task.
    ``media_root`` (an fsspec URL or a folder every worker reaches) and ``claim_lease``
    (seconds) are the destination's options; ``sandbox`` and ``source_options`` (strings, as
    the adapter's config takes them) the source's. ``query``, ``include``, ``attempts`` and
    ``limit`` mean what they mean for :func:`convoport.migrate`. ``connect_timeout`` bounds
    the wait for the scheduler, in seconds.

    Returns the same report a single-process run gives. A destination several processes
    cannot write (``local:``), both or neither of ``dask``/``workers``, or a scheduler that
    does not answer: ``ConfigError`` before any session is touched.
    """
    if (dask is None) == (workers is None):
        raise ConfigError(
            "a distributed migration needs a cluster: the address of its scheduler or a "
            "number of local workers (one of the two)",
            hint="--dask tcp://HOST:8786, or --workers N",
        )
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    for name, value in (("concurrency", concurrency), ("batch_size", batch_size)):
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")
    if max_requests is not None and max_requests < 1:
        raise ConfigError(f"max_requests must be >= 1, got {max_requests}")
    if attempts < 1:
        raise ConfigError(f"attempts must be >= 1, got {attempts}")
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be >= 0, got {limit}")
    chosen = None if include is None else frozenset(include)
    if chosen is not None and not chosen <= set(ARTIFACTS):
        raise ConfigError(
            "unknown artifact(s): " + ", ".join(sorted(chosen - set(ARTIFACTS))),
            hint="choose from " + ", ".join(ARTIFACTS),
        )
    check_destination(destination)
    token = uuid.uuid4().hex
    options = {"media_root": media_root, "claim_lease": claim_lease}
    job = Job(
        token=token,
        source=source,
        source_options=dict(source_options or {}),
        sandbox=sandbox,
        destination=destination,
        destination_options={k: str(v) for k, v in options.items() if v is not None},
        concurrency=concurrency,
        attempts=attempts,
        include=chosen,
        semaphore=None if max_requests is None else f"convoport-requests-{token}",
        max_requests=max_requests,
    )
    progress = progress or Progress()
    started = time.monotonic()
    src = _connect_source(source, sandbox, job.source_options)
    try:
        dst = _connect_destination(destination, job.destination_options)
        try:
            archive = as_archive(dst.adapter)
            await archive.claim_writer()  # creates the catalog before any worker races to
            report = MigrationReport(source=src.provider, destination=dst.provider, mode="copy")
            progress.migration_started(report)
            try:
                async with _dask_client(dask, workers, connect_timeout) as client:
                    await _run_on(
                        client, job, src, archive, report, progress, query, batch_size, limit
                    )
            finally:
                report.seconds = time.monotonic() - started
                report.outcomes.sort(key=lambda o: str(o.ref))
            return report
        finally:
            await dst.aclose()
    finally:
        await src.aclose()


async def _run_on(
    client: Any,
    job: Job,
    src: AsyncClient,
    archive: ArchiveAdapter,
    report: MigrationReport,
    progress: Progress,
    query: SessionQuery | None,
    batch_size: int,
    limit: int | None,
) -> None:
    dd = _distributed()
    await client.register_plugin(_worker_plugin(), name="convoport-runtimes")
    semaphore = None
    if job.semaphore is not None:
        semaphore = await dd.Semaphore(
            max_leases=job.max_requests,
            name=job.semaphore,
            scheduler_rpc=client.scheduler,
            loop=client.loop,
        )
    threads = sum((await client.nthreads()).values())

    async def submit(index: int, batch: list[Session]) -> list[SessionOutcome]:
        future = client.submit(
            run_batch, job, index, batch, key=f"convoport-batch-{job.token}-{index}", pure=False
        )
        try:
            outcomes: list[SessionOutcome] = await future
        finally:
            future.release()
        await dd.Event(job.marker(index), client=client).clear()
        return outcomes

    try:
        await drive(
            src,
            archive,
            report,
            submit,
            query=query or SessionQuery(),
            batch_size=batch_size,
            limit=limit,
            in_flight=max(2, 2 * threads),
            progress=progress,
        )
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.run(close_runtime, job.token), CLOSE_TIMEOUT)
        if semaphore is not None:
            with contextlib.suppress(Exception):
                await semaphore.close()


def migrate_distributed_sync(source: str, destination: str, **options: Any) -> MigrationReport:
    """The blocking twin of :func:`migrate_distributed` (same keyword options)."""
    return asyncio.run(migrate_distributed(source, destination, **options))


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Job",
    "Runtime",
    "Split",
    "archived_artifacts",
    "check_destination",
    "close_runtime",
    "close_runtimes",
    "drive",
    "finished_refs",
    "migrate_distributed",
    "migrate_distributed_sync",
    "recount",
    "run_batch",
]
