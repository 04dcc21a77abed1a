"""``convoport migrate`` (progress bars, the closing table) and ``convoport verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table

from convoport.cli._app import EXIT_ERROR, EXIT_INTERRUPTED, State, cli, json_option

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
    sandbox: bool,
) -> None:
    """Copy SOURCE's sessions into DESTINATION (an archive, local:PATH), or re-process an
    archive's recordings with an ingest backend (migrate local:PATH illocution).

    Interrupted (Ctrl-C), it prints the report of what finished and exits 130; a rerun goes
    on from there."""
    from convoport.cli._progress import MigrationBars
    from convoport.migration import migrate

    query = build_query(status, since, until, day, meta, search, order)
    bars = MigrationBars(state)
    try:
        with bars:
            report = run(
                migrate(
                    source,
                    destination,
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
