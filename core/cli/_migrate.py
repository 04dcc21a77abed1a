"""``convoport migrate`` (progress bars, the closing table) and ``convoport verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from convoport.cli._app import EXIT_ERROR, EXIT_INTERRUPTED, State, cli, json_option
from convoport.errors import ConfigError

if TYPE_CHECKING:
    from convoport.migration import MigrationReport

from convoport.cli._common import (
    archive_target,
    build_query,
    fmt_bytes,
    open_archive,
    query_options,
    run,
    sandbox_option,
    target_argument,
)


@cli.command("migrate")
@target_argument("source")
@target_argument("destination")
@query_options
@click.option(
    "--include",
    multiple=True,
    type=click.Choice(["transcripts", "summaries", "participants", "chat", "recordings"]),
    help="Artifacts to copy (repeat; default: all the source has).",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--session-attempts",
    "--attempts",
    "attempts",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Session attempts: how often a whole session is tried on transient errors (each "
    "HTTP request also has its own retries, logged as 'request attempt N of M').",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help="At most this many sessions of new work (sessions already copied do not count, so "
    "repeated runs move through the history in batches).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be copied; write nothing.")
@click.option(
    "--repair",
    is_flag=True,
    help="Re-fetch from SOURCE exactly the sessions whose media 'convoport verify' finds "
    "missing or corrupt in DESTINATION, remove the orphan media files it finds (left by an "
    "interrupted run); leave everything else alone.",
)
@click.option(
    "--media",
    metavar="URL",
    help="Where DESTINATION keeps recordings: a folder or an fsspec URL such as "
    "s3://bucket/prefix (an archive remembers the first one it is given).",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Seconds a writer's claim on a session lasts unless renewed, for an archive several "
    "writers share (postgresql://); a dead writer's sessions are taken over after it "
    "[default: 60, env CONVOPORT_CLAIM_LEASE].",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Spread the copying over the Dask cluster whose scheduler is at ADDRESS "
    "(tcp://HOST:8786); DESTINATION must be an archive several writers share "
    "(postgresql://). See docs/scale-out.md.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    metavar="N",
    help="Spread the copying over N worker processes on this machine (a local Dask "
    "cluster); each copies --concurrency sessions at once.",
)
@click.option(
    "--max-requests",
    type=click.IntRange(1),
    metavar="N",
    help="With --dask/--workers: at most N sessions (so vendor requests) at once over all "
    "workers together.",
)
@sandbox_option
@json_option
@click.pass_obj
def migrate_command(
    state: State,
    source: str,
    destination: str,
    status: tuple[str, ...],
    since: str | None,
    until: str | None,
    day: str | None,
    meta: tuple[str, ...],
    search: str | None,
    order: str | None,
    include: tuple[str, ...],
    concurrency: int,
    attempts: int,
    limit: int | None,
    dry_run: bool,
    repair: bool,
    media: str | None,
    lease: float | None,
    dask_address: str | None,
    workers: int | None,
    max_requests: int | None,
    sandbox: bool,
) -> None:
    """Copy SOURCE's sessions into DESTINATION (an archive: local:PATH, or
    postgresql://USER@HOST/DB with --media URL), or re-process an archive's recordings with
    an ingest backend (migrate local:PATH illocution).

    With --dask ADDRESS or --workers N the copying is spread over Dask workers (into an
    archive several writers share); the closing table and --json are the same.

    Interrupted (Ctrl-C), it prints the report of what finished and exits 130; a rerun goes
    on from there."""
    from convoport.cli._progress import MigrationBars

    query = build_query(status, since, until, day, meta, search, order)
    distributed = dask_address is not None or workers is not None
    _check_options(destination, distributed, dask_address, workers, max_requests, lease)
    if distributed and (dry_run or repair):
        raise ConfigError(
            f"--{'dry-run' if dry_run else 'repair'} runs in one process",
            hint="drop --dask/--workers for it",
        )
    bars = MigrationBars(state)
    try:
        with bars:
            if distributed:
                from convoport.cluster import migrate_distributed

                report = run(
                    migrate_distributed(
                        source,
                        destination,
                        dask=dask_address,
                        workers=workers,
                        concurrency=concurrency,
                        max_requests=max_requests,
                        progress=bars,
                        media_root=media,
                        claim_lease=lease,
                        sandbox=sandbox,
                        query=query,
                        include=include or None,
                        attempts=attempts,
                        limit=limit,
                    )
                )
            else:
                report = run(
                    _migrate_here(
                        source,
                        destination,
                        media=media,
                        lease=lease,
                        query=query,
                        include=include or None,
                        concurrency=concurrency,
                        attempts=attempts,
                        dry_run=dry_run,
                        limit=limit,
                        sandbox=sandbox,
                        progress=bars,
                        repair=repair,
                    )
                )
    except KeyboardInterrupt:
        partial = bars.report
        if partial is None:
            raise
        partial.interrupted = True
        _emit_report(state, partial)
        state.err.print(
            "convoport: interrupted: the report shows what finished; run the same command "
            "again to go on",
            markup=False,
        )
        raise SystemExit(EXIT_INTERRUPTED) from None
    _emit_report(state, report)
    if not report.ok:
        raise SystemExit(EXIT_ERROR)


def _check_options(
    destination: str,
    distributed: bool,
    dask_address: str | None,
    workers: int | None,
    max_requests: int | None,
    lease: float | None,
) -> None:
    """Refuses option combinations that cannot mean anything (``ConfigError``)."""
    if dask_address is not None and workers is not None:
        raise ConfigError(
            "--dask and --workers both name a cluster",
            hint="--dask ADDRESS uses a running one; --workers N starts one here",
        )
    if max_requests is not None and not distributed:
        raise ConfigError(
            "--max-requests limits the requests of the workers of a distributed run",
            hint="add --workers N or --dask ADDRESS, or use --concurrency in one process",
        )
    if lease is not None:
        from convoport.archive import ArchiveAdapter
        from convoport.connect import adapter_class

        cls = adapter_class(destination.partition(":")[0])
        if not (issubclass(cls, ArchiveAdapter) and cls.multi_writer):
            raise ConfigError(
                f"--lease is for an archive several writers share; {cls.name} is not one",
                hint="drop --lease, or migrate into postgresql://USER@HOST/DB",
            )


async def _migrate_here(
    source: str,
    destination: str,
    *,
    media: str | None,
    lease: float | None,
    dry_run: bool,
    sandbox: bool,
    **options: Any,
) -> MigrationReport:
    """One process's migration; ``--media``/``--lease`` become the destination's options."""
    from convoport.migration import migrate

    if media is None and lease is None:
        return await migrate(source, destination, dry_run=dry_run, sandbox=sandbox, **options)
    from convoport.archive import ArchiveAdapter
    from convoport.connect import adapter_class, connect

    cls = adapter_class(destination.partition(":")[0])
    if not issubclass(cls, ArchiveAdapter):
        raise ConfigError(
            f"--media is where an archive destination keeps recordings; {cls.name} is not an "
            "archive",
            hint="drop --media",
        )
    given: dict[str, Any] = cls.destination_options(create=not dry_run)
    if media is not None:
        given["media_root"] = media
    if lease is not None:
        given["claim_lease"] = lease
    async with connect(destination, **given) as dst:
        return await migrate(source, dst, dry_run=dry_run, sandbox=sandbox, **options)


#: How each kind of run names the sessions it did (the table's first row).
_DONE = {
    "copy": ("copied", "copied"),
    "repair": ("repaired", "repaired"),
    "reprocess": ("re-processed", "reprocessed"),
}


def _emit_report(state: State, report: MigrationReport) -> None:
    if state.json:
        state.emit_json(report.as_dict())
    else:
        _print_report(state, report)


def _size(report: MigrationReport) -> str:
    unknown = report.bytes_unknown
    if not unknown:
        return fmt_bytes(report.bytes)
    sessions = f"{unknown} session{'s' if unknown != 1 else ''}"
    if not report.bytes:
        return f"unknown ({sessions} with media of unknown size)"
    return f"{fmt_bytes(report.bytes)} + {sessions} of unknown size"


def _artifacts(artifacts: list[str]) -> str:
    """``transcript, summary, 2 recordings`` (recording ids are in --json)."""
    recordings = sum(1 for a in artifacts if a.startswith("recording "))
    named = [a for a in artifacts if not a.startswith("recording ")]
    if recordings:
        named.append(f"{recordings} recording{'s' if recordings != 1 else ''}")
    return ", ".join(named) or "session only"


def _print_report(state: State, report: MigrationReport) -> None:
    planned = [o for o in report.outcomes if o.state == "planned"]
    if report.dry_run and planned:
        table = Table(title=f"dry run: {report.source} -> {report.destination}")
        width = max((len(str(o.ref)) for o in planned), default=7)
        table.add_column("session", no_wrap=True, min_width=width)
        table.add_column("would copy", overflow="ellipsis", no_wrap=True)
        table.add_column("media", justify="right", no_wrap=True, min_width=7)
        for o in planned:
            media = any(a.startswith("recording ") for a in o.artifacts)
            size = "unknown" if o.bytes is None else fmt_bytes(o.bytes) if media else "none"
            table.add_row(str(o.ref), _artifacts(o.artifacts), size)
        state.out.print(table)
    kind = "dry run" if report.dry_run else _DONE[report.mode][0]
    title = f"{kind}: {report.source} -> {report.destination}"
    if report.interrupted:
        title += " (interrupted)"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    label, state_name = _DONE[report.mode]
    if report.dry_run:
        table.add_row(
            "would copy" if report.mode != "reprocess" else "would re-process", str(report.planned)
        )
    else:
        table.add_row(label, str(sum(1 for o in report.outcomes if o.state == state_name)))
    for reason, count in report.skipped_by_reason.items():
        table.add_row(f"skipped: {reason}", str(count))
    table.add_row("failed", str(report.failed))
    if report.orphans_removed:
        table.add_row("orphan media removed", str(report.orphans_removed))
    table.add_row("media" + (" planned" if report.dry_run else ""), _size(report))
    table.add_row("time", f"{report.seconds:.1f}s")
    state.out.print(table)
    for o in report.outcomes:
        if o.state == "failed":
            state.err.print(f"failed: {o.ref}: {o.reason}", markup=False, highlight=False)


@cli.command("verify")
@click.argument("archive")
@json_option
@click.pass_obj
def verify_command(state: State, archive: str) -> None:
    """Re-hash every media file of ARCHIVE (local:PATH, or a path) and check the ledger
    against the catalog. Nothing is changed."""
    from convoport.archive import VerifyReport, as_archive

    target = archive_target(archive)

    async def go() -> VerifyReport:
        async with open_archive(target, create=False) as client:
            return await as_archive(client.adapter).verify()

    report = run(go())
    problems = {
        "missing": list(report.missing),
        "corrupt": list(report.corrupt),
        "orphans": list(report.orphans),
        "ledger_mismatches": list(report.ledger_mismatches),
    }
    if state.json:
        state.emit_json(
            {
                "ok": report.ok,
                **{k: [str(x) for x in v] for k, v in problems.items()},
                "sessions": report.sessions,
                "checked": report.checked,
                "checked_bytes": report.checked_bytes,
            }
        )
    else:
        for kind, items in problems.items():
            for item in items:
                state.err.print(f"{kind}: {item}", markup=False, highlight=False)
        checked = (
            f"{report.sessions} sessions, {report.checked} media files, "
            f"{fmt_bytes(report.checked_bytes)} re-hashed"
        )
        if report.ok:
            state.out.print(f"archive OK: {checked}", markup=False)
        else:
            problems_found = sum(len(v) for v in problems.values())
            state.out.print(
                f"archive has {problems_found} problem(s): {checked}; 'convoport migrate "
                "SOURCE ARCHIVE --repair' re-fetches missing or corrupt media and removes "
                "orphan files",
                markup=False,
            )
    if not report.ok:
        raise SystemExit(EXIT_ERROR)
