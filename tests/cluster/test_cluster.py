"""``convoport.cluster``: the split and the aggregation in-process, then real runs on a local
Dask cluster of worker processes against a socket emulator, into PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import convoport
from convoport.archive import as_archive
from convoport.cluster import Split, drive, migrate_distributed, recount
from convoport.errors import ConfigError
from convoport.migration import MigrationReport, Progress, SessionOutcome, migrate
from convoport.model import Session, SessionQuery
from tests.support.cli import as_json, invoke
from tests.support.emulate import emulate, free_port
from tests.support.postgres import PostgresServer, fresh_database

from .conftest import KEY, inflight, inflight_emulator, snapshot

pytestmark = pytest.mark.anyio


def _plain(report: dict[str, Any]) -> dict[str, Any]:
    """A report's ``--json`` without what differs between two runs of the same work."""
    return {k: v for k, v in report.items() if k not in ("seconds", "destination")}


async def _sandbox_sessions() -> list[Session]:
    async with convoport.connect("gladia", sandbox=True) as src:
        return [s async for s in src.list_sessions()]


# -- the split and the aggregation (no Dask) --------------------------------------------------


async def test_split_skips_like_a_single_process_run_and_cuts_full_batches() -> None:
    sessions = await _sandbox_sessions()
    unfinished = [s for s in sessions if not s.status.terminal]
    ready = [s for s in sessions if s.status.terminal]
    assert unfinished
    assert len(ready) > 6
    done = {str(ready[0].ref)}
    split = Split(batch_size=2, limit=4)
    early, batches = split.chunk(sessions, done)
    # the first four sessions of new work, in listing order, in full batches of two
    work = [s for s in sessions if s.status.terminal and str(s.ref) not in done][:4]
    assert batches == [work[:2], work[2:4]]
    assert split.done
    assert split.rest() == []
    # the skips before the limit's stop are reported, the sessions after it are not
    stop = sessions.index(work[3])
    later = sessions.index(next(s for s in sessions[stop + 1 :] if s.status.terminal))
    expected = [
        (str(s.ref), "already copied" if str(s.ref) in done else "not finished")
        for s in sessions[:later]
        if str(s.ref) in done or not s.status.terminal
    ]
    assert [(str(o.ref), o.skip_reason) for o in early] == expected
    assert all(o.state == "skipped" for o in early)


async def test_split_keeps_a_partial_batch_for_the_end() -> None:
    sessions = [s for s in await _sandbox_sessions() if s.status.terminal][:5]
    split = Split(batch_size=3)
    assert split.chunk(sessions[:2], set()) == ([], [])
    assert split.chunk(sessions[2:], set()) == ([], [sessions[:3]])
    assert split.rest() == sessions[3:]
    assert split.shipped == 5
    assert not split.done


class _Seen(Progress):
    def __init__(self) -> None:
        self.listed: int | None = None
        self.finished: list[SessionOutcome] = []
        self.moved = 0

    def session_finished(self, outcome: SessionOutcome) -> None:
        self.finished.append(outcome)

    def bytes_moved(self, count: int) -> None:
        self.moved += count

    def sessions_listed(self, count: int) -> None:
        self.listed = count


async def test_drive_overlaps_listing_with_batches_and_reports_like_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import convoport.cluster as cluster

    checks: list[int] = []
    real = cluster.finished_refs

    async def counted(archive: Any, refs: Any) -> set[str]:
        checks.append(len(refs))
        return await real(archive, refs)

    monkeypatch.setattr(cluster, "finished_refs", counted)
    async with (
        convoport.connect("gladia", sandbox=True) as src,
        convoport.connect(f"local:{tmp_path / 'one'}", create=True) as one,
        convoport.connect(f"local:{tmp_path / 'split'}", create=True) as dst,
    ):
        expected = await migrate(src, one, concurrency=4)
        shipped: list[list[str]] = []
        listed_before: list[int | None] = []
        seen = _Seen()

        async def submit(index: int, batch: list[Session]) -> list[SessionOutcome]:
            listed_before.append(seen.listed)
            shipped.append([str(s.ref) for s in batch])
            return (await migrate(src, dst, sessions=batch, concurrency=2)).outcomes

        report = MigrationReport(source=src.provider, destination=dst.provider, mode="copy")
        await as_archive(dst.adapter).claim_writer()
        await drive(
            src,
            as_archive(dst.adapter),
            report,
            submit,
            query=SessionQuery(),
            batch_size=5,
            limit=None,
            in_flight=2,
            progress=seen,
        )
    report.outcomes.sort(key=lambda o: str(o.ref))
    assert _plain(report.as_dict()) == _plain(expected.as_dict())
    total = len(expected.outcomes)
    assert seen.listed == total
    assert checks == [5] * (total // 5) + ([total % 5] if total % 5 else [])  # one per chunk
    flat = [ref for batch in shipped for ref in batch]
    assert sorted(flat) == sorted({*flat})  # each session shipped once
    assert len(flat) == expected.copied
    assert all(len(batch) <= 5 for batch in shipped)
    assert listed_before[0] is None  # the first batch ran before the listing ended
    assert len(seen.finished) == total
    assert seen.moved == expected.bytes


async def test_drive_raises_a_failed_batch_and_stops_listing(tmp_path: Path) -> None:
    async with (
        convoport.connect("gladia", sandbox=True) as src,
        convoport.connect(f"local:{tmp_path / 'a'}", create=True) as dst,
    ):
        calls: list[int] = []

        async def submit(index: int, batch: list[Session]) -> list[SessionOutcome]:
            calls.append(index)
            raise ConfigError("the worker cannot reach the archive")

        report = MigrationReport(source="gladia", destination="local", mode="copy")
        with pytest.raises(ConfigError, match="cannot reach the archive"):
            await drive(
                src,
                as_archive(dst.adapter),
                report,
                submit,
                query=SessionQuery(),
                batch_size=2,
                limit=None,
                in_flight=1,
                progress=Progress(),
            )
    assert len(calls) <= 2


async def test_a_rerun_batch_counts_what_its_lost_worker_committed_as_copied(
    tmp_path: Path,
) -> None:
    async with (
        convoport.connect("gladia", sandbox=True) as src,
        convoport.connect(f"local:{tmp_path / 'a'}", create=True) as dst,
    ):
        sessions = [s async for s in src.list_sessions() if s.status.terminal][:6]
        first = await migrate(src, dst, sessions=sessions)
        again = await migrate(src, dst, sessions=sessions)
        assert {o.skip_reason for o in again.outcomes} == {"already copied"}
        assert await recount(dst, again.outcomes, False) == again.outcomes
        counted = await recount(dst, again.outcomes, True)
    assert [(o.ref, o.state, o.bytes, o.artifacts) for o in counted] == [
        (o.ref, o.state, o.bytes, o.artifacts) for o in first.outcomes
    ]
    assert any(o.bytes for o in counted)


# -- refusals ---------------------------------------------------------------------------------


async def test_a_local_destination_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="one writer process") as caught:
        await migrate_distributed("gladia", f"local:{tmp_path / 'a'}", workers=2)
    assert "postgresql://" in str(caught.value)
    assert not (tmp_path / "a").exists()


def test_the_cli_refuses_a_local_destination_in_one_line(tmp_path: Path) -> None:
    result = invoke("migrate", "gladia", f"local:{tmp_path / 'a'}", "--workers", "2")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("convoport: error:")
    assert "one writer process" in lines[0]


async def test_an_unreachable_scheduler_is_a_config_error(
    postgres_url: str, tmp_path: Path
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler") as caught:
        await migrate_distributed(
            "gladia",
            postgres_url,
            dask=address,
            media_root=str(tmp_path / "media"),
            source_options={"api_key": KEY, "base_url": "http://127.0.0.1:9"},
            connect_timeout=1,
        )
    assert address in str(caught.value)
    assert "--workers N" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "2", "--dask", "tcp://127.0.0.1:1"], "both name a cluster"),
        (["--max-requests", "3"], "--max-requests limits"),
        (["--workers", "2", "--dry-run"], "--dry-run runs in one process"),
    ],
)
def test_option_combinations_that_mean_nothing(
    options: list[str], message: str, tmp_path: Path
) -> None:
    target = "postgresql://u:secret@127.0.0.1:1/db"
    result = invoke("migrate", "gladia", target, *options)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "secret" not in result.output


def test_lease_is_for_a_multi_writer_archive(tmp_path: Path) -> None:
    result = invoke("migrate", "gladia", f"local:{tmp_path / 'a'}", "--lease", "3", "--sandbox")
    assert result.exit_code == 2, result.output
    assert "--lease is for an archive several writers share" in result.stderr


# -- on a real cluster ------------------------------------------------------------------------


@pytest.fixture
def second_database(postgres_server: PostgresServer) -> Iterator[str]:
    with fresh_database(postgres_server) as url:
        yield url


def test_cli_with_two_workers_reports_like_a_single_process_run(
    postgres_url: str, second_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with emulate("gladia", "--sessions", "60", "--seed", "5", "--latency", "5") as base:
        monkeypatch.setenv("GLADIA_API_KEY", KEY)
        monkeypatch.setenv("GLADIA_BASE_URL", base)
        spread = as_json(
            invoke(
                "migrate", "gladia", postgres_url, "--media", str(tmp_path / "m1"),
                "--workers", "2", "--concurrency", "4", "--lease", "5", "--json",
            )
        )  # fmt: skip
        single = as_json(
            invoke("migrate", "gladia", second_database, "--media", str(tmp_path / "m2"), "--json")
        )
        assert spread["copied"] > 0
        assert _plain(spread) == _plain(single)
        again = as_json(
            invoke(
                "migrate", "gladia", postgres_url, "--workers", "2", "--json"
            )  # the archive remembers its media root
        )
    assert again["copied"] == 0
    assert again["skipped_by_reason"]["already copied"] == spread["copied"]


class _Batches(Progress):
    """The driver's batches as shipped (``session_started`` comes in one run per batch, in
    index order) and the sessions reported back."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.started: list[str] = []
        self.finished: set[str] = set()

    def session_started(self, ref: Any) -> None:
        self.started.append(str(ref))

    def session_finished(self, outcome: SessionOutcome) -> None:
        self.finished.add(str(outcome.ref))

    def batch(self, index: int) -> list[str]:
        return self.started[index * self.size : (index + 1) * self.size]


def _committed(engine: sa.Engine) -> set[str]:
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT source FROM ledger")).scalars())
    except sa.exc.SQLAlchemyError:  # the catalog is not created yet
        return set()


def test_a_killed_worker_is_retaken_and_the_archive_equals_a_single_process_run(
    cluster: Any, postgres_url: str, second_database: str, tmp_path: Path
) -> None:
    """SIGKILL the worker of a batch some of whose sessions it has committed and not yet
    reported: its claims lapse (2 s), the batch runs again elsewhere, and the report counts
    those sessions as copied once."""
    import distributed

    dd: Any = distributed  # untyped
    batches = _Batches(size=10)
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with inflight_emulator(sessions=150, latency_ms=15) as base, dd.Client(cluster) as client:
        source: dict[str, Any] = {"api_key": KEY, "base_url": base}
        pids: dict[str, int] = client.run(os.getpid)
        killed: list[int] = []
        stop = threading.Event()

        def kill_mid_batch() -> None:
            while not stop.is_set():
                committed = _committed(engine)
                for worker, keys in client.processing().items():
                    for key in keys:
                        batch = set(batches.batch(int(str(key).rsplit("-", 1)[1])))
                        if batch & committed - batches.finished and batch - committed:
                            os.kill(pids[worker], signal.SIGKILL)
                            killed.append(pids[worker])
                            return
                stop.wait(0.02)

        killer = threading.Thread(target=kill_mid_batch, daemon=True)
        killer.start()
        try:
            spread = asyncio.run(
                migrate_distributed(
                    "gladia",
                    postgres_url,
                    dask=cluster.scheduler_address,
                    media_root=str(tmp_path / "m1"),
                    claim_lease=2,
                    source_options=source,
                    concurrency=4,
                    batch_size=batches.size,
                    progress=batches,
                )
            )
        finally:
            stop.set()
            killer.join()
            engine.dispose()
        assert killed, "no batch was caught half-committed"
        assert killed[0] not in client.run(os.getpid).values()  # the nanny started another

        async def single() -> MigrationReport:
            async with (
                convoport.connect("gladia", **source) as src,
                convoport.connect(
                    second_database, media_root=str(tmp_path / "m2"), create=True
                ) as dst,
            ):
                return await migrate(src, dst, concurrency=8)

        one = asyncio.run(single())
    assert spread.copied > 20
    assert _plain(spread.as_dict()) == _plain(one.as_dict())  # copied once, not "already copied"
    assert asyncio.run(snapshot(postgres_url, str(tmp_path / "m1"))) == asyncio.run(
        snapshot(second_database, str(tmp_path / "m2"))
    )


def _run_on(cluster: Any, postgres_url: str, base: str, media: Path, **options: Any) -> Any:
    """One distributed migration on ``cluster`` from the Gladia emulator at ``base``."""
    return asyncio.run(
        migrate_distributed(
            "gladia",
            postgres_url,
            dask=cluster.scheduler_address,
            media_root=str(media),
            source_options={"api_key": KEY, "base_url": base},
            **options,
        )
    )


def test_max_requests_holds_across_workers(cluster: Any, postgres_url: str, tmp_path: Path) -> None:
    with inflight_emulator(sessions=60, latency_ms=60) as base:
        inflight(base, reset=True)
        report = _run_on(
            cluster,
            postgres_url,
            base,
            tmp_path / "m",
            concurrency=4,  # 2 workers x 4: up to 8 sessions at once without the limit
            max_requests=3,
            batch_size=5,
        )
        counts = inflight(base)
    assert report.failed == 0
    assert report.copied > 10
    assert counts["served"] > 10  # session requests (downloads), the listing's not counted
    assert 2 <= counts["max"] <= 3


def test_the_workers_profiler_is_stopped_where_it_can_deadlock(
    cluster: Any, postgres_url: str, tmp_path: Path
) -> None:
    """Dask's profiler calls ``sys._current_frames()`` every 10 ms, which on CPython < 3.12
    can freeze a whole worker process (gh-106883): a run stops it on the workers it uses."""
    import distributed

    from convoport.cluster import PROFILER_DEADLOCKS

    def running(dask_worker: Any) -> bool:
        return "profile" in dask_worker.periodic_callbacks

    with inflight_emulator(sessions=12, latency_ms=0) as base:
        report = _run_on(cluster, postgres_url, base, tmp_path / "m", concurrency=2)
    assert report.failed == 0
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        states = set(client.run(running).values())
    assert states == ({False} if PROFILER_DEADLOCKS else {True})


def test_python_m_convoport_with_local_workers_runs_once_and_quietly(
    postgres_url: str, tmp_path: Path
) -> None:
    """``python -m convoport … --workers 1``: the spawned worker processes import the main
    module again (it must not run the command line in them), and Dask's own logging stays off
    the terminal."""
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "convoport",
            "--json",
            "migrate",
            "gladia",
            postgres_url,
            "--media",
            str(tmp_path / "media"),
            "--sandbox",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "DASK_LOGGING__DISTRIBUTED"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["copied"] > 0
    assert report["failed"] == 0
    assert "Nanny" not in done.stderr
    assert "Scheduler" not in done.stderr
