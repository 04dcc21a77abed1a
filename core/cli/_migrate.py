"""``convoport migrate`` (progress bars, the closing table) and ``convoport verify``."""

from __future__ import annotations

from typing import Any

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from convoport.cli._app import EXIT_ERROR, State, cli, json_option
from convoport.cli._common import (
    archive_target,
    build_query,
    fmt_bytes,
    open_archive,
    query_options,
    run,
    sandbox_option,
)


@cli.command("migrate")
@click.argument("source")
@click.argument("destination")
@query_options
@click.option(
    "--include",
    multiple=True,
    type=click.Choice(["transcripts", "summaries", "participants", "chat", "recordings"]),
    help="Artifacts to copy (repeat; default: all the source has).",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--attempts",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Tries per session on transient errors.",
)
@click.option("--limit", type=int, default=None, help="At most this many sessions.")
@click.option("--dry-run", is_flag=True, help="Report what would be copied; write nothing.")
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
    sandbox: bool,
) -> None:
    """Copy SOURCE's sessions into DESTINATION (an archive, local:PATH), or re-process an
    archive's recordings with an ingest backend (migrate local:PATH illocution)."""
    from convoport.migration import Progress, SessionOutcome, migrate
    from convoport.model import SessionRef

    query = build_query(status, since, until, day, meta, search, order)
    show = not state.json
    progress = RichProgress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        _CountOrBytes(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[current]}"),
        console=state.err,
        disable=not show,
    )

    class Bars(Progress):
        def __init__(self) -> None:
            self.sessions = progress.add_task("sessions", total=None, unit="", current="")
            self.bytes = progress.add_task("media", total=None, unit="bytes", current="")

        def session_started(self, ref: SessionRef) -> None:
            progress.update(self.sessions, current=str(ref))

        def session_finished(self, outcome: SessionOutcome) -> None:
            progress.advance(self.sessions, 1)
            if outcome.state == "failed":
                progress.console.print(
                    f"[red]failed[/] {outcome.ref}: {outcome.reason}", markup=True, highlight=False
                )

        def bytes_moved(self, count: int) -> None:
            progress.advance(self.bytes, count)

        def sessions_listed(self, count: int) -> None:
            progress.update(self.sessions, total=count)

    with progress:
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
                progress=Bars(),
            )
        )
    if state.json:
        state.emit_json(report.as_dict())
    else:
        _print_report(state, report)
    if not report.ok:
        raise SystemExit(EXIT_ERROR)


class _CountOrBytes(ProgressColumn):
    """``12/36`` for the session bar, ``1.2/? MB`` for the media bar."""

    def __init__(self) -> None:
        super().__init__()
        self._count = MofNCompleteColumn()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Any:
        column = self._bytes if task.fields.get("unit") == "bytes" else self._count
        return column.render(task)


def _print_report(state: State, report: Any) -> None:
    if report.dry_run:
        table = Table(title=f"dry run: {report.source} -> {report.destination}")
        for col in ("session", "would copy", "bytes"):
            table.add_column(col)
        for o in report.outcomes:
            if o.state == "planned":
                table.add_row(
                    str(o.ref), ", ".join(o.artifacts) or "session only", fmt_bytes(o.bytes)
                )
        state.out.print(table)
    table = Table(title=f"{report.mode}: {report.source} -> {report.destination}")
    for col in ("copied", "skipped", "failed", "planned", "bytes", "time"):
        table.add_column(col, justify="right")
    table.add_row(
        str(report.copied),
        str(report.skipped),
        str(report.failed),
        str(report.planned),
        fmt_bytes(report.bytes),
        f"{report.seconds:.1f}s",
    )
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
        state.out.print("archive OK" if report.ok else "archive has problems")
    if not report.ok:
        raise SystemExit(EXIT_ERROR)
