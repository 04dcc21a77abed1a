"""``convoport archive copy``: move an archive (an embedded ``local:`` one, say) into another
(a team archive on PostgreSQL), then prove nothing was lost."""

from __future__ import annotations

from typing import Any

import attrs
import click
from rich.table import Table

from convoport.cli._app import EXIT_ERROR, State, cli, json_option
from convoport.cli._common import archive_target, fmt_bytes, run, target_argument
from convoport.errors import ConfigError


@cli.group("archive")
def archive_group() -> None:
    """Whole-archive operations."""


@attrs.define
class CopyCheck:
    """What ``archive copy`` compared: ``sessions`` in the source, ``recordings`` and
    ``bytes`` of media whose size and sha256 are equal in both catalogs, and the problems
    found (sessions missing from the destination, recordings that differ, and whatever the
    destination's ``verify`` reports after re-hashing its media)."""

    sessions: int = 0
    recordings: int = 0
    bytes: int = 0
    problems: list[str] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def copy_archive(
    source: str,
    destination: str,
    *,
    media: str | None = None,
    concurrency: int = 8,
    progress: Any = None,
) -> tuple[Any, CopyCheck]:
    """Copies every session of the archive ``source`` into the archive ``destination``
    (created when missing; ``media`` is its media root) through a migration — each session
    committed with its ledger entry, so an interrupted copy resumes — then compares the two
    catalogs' media checksums and re-hashes the destination's media (``verify``)."""
    from convoport.archive import ArchiveAdapter, as_archive
    from convoport.connect import adapter_class, connect
    from convoport.migration import migrate

    for target, role in ((source, "source"), (destination, "destination")):
        if not issubclass(adapter_class(target.partition(":")[0]), ArchiveAdapter):
            raise ConfigError(
                f"the {role} {target} is not an archive",
                hint="archive copy takes two archives, e.g. local:./a postgresql://USER@HOST/DB",
            )
    options: dict[str, Any] = {"create": True}
    if media is not None:
        options["media_root"] = media
    async with connect(source) as src, connect(destination, **options) as dst:
        report = await migrate(src, dst, concurrency=concurrency, progress=progress)
        check = CopyCheck()
        theirs = await as_archive(dst.adapter).media_checksums()
        mine = await as_archive(src.adapter).media_checksums()
        async for session in src.list_sessions():
            check.sessions += 1
            ref = str(session.ref)
            try:
                copied = await dst.get_session(ref)
            except Exception as exc:  # NotFound, mostly: named below
                check.problems.append(f"{ref}: not in the destination ({exc})")
                continue
            if copied != session:
                check.problems.append(f"{ref}: the session differs in the destination")
            expected = mine.get(ref, ())
            if theirs.get(ref, ()) != expected:
                check.problems.append(f"{ref}: its recordings' sizes or sha256 differ")
                continue
            check.recordings += len(expected)
            check.bytes += sum(size for _, size, _ in expected)
        verified = await as_archive(dst.adapter).verify()
        check.problems += [f"destination {kind}: {issue}" for kind, issue in verified.issues]
    return report, check


@archive_group.command("copy")
@target_argument("source")
@target_argument("destination")
@click.option(
    "--media",
    default=None,
    metavar="URL",
    help="Where DESTINATION keeps recordings (a folder or an fsspec URL such as "
    "s3://bucket/prefix); a PostgreSQL archive needs one the first time.",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True)
@json_option
@click.pass_obj
def copy_command(
    state: State, source: str, destination: str, media: str | None, concurrency: int
) -> None:
    """Copy every session of the archive SOURCE into the archive DESTINATION (e.g.
    archive copy local:./archive postgresql://USER@HOST/DB --media s3://bucket/prefix), then
    compare both catalogs' checksums and re-hash DESTINATION's media. Run it again after an
    interruption: it goes on where it stopped. Exits 1 unless everything matches."""
    report, check = run(
        copy_archive(
            archive_target(source),
            archive_target(destination),
            media=media,
            concurrency=concurrency,
        )
    )
    if state.json:
        state.emit_json(
            {
                "migration": report.as_dict(),
                "sessions": check.sessions,
                "recordings": check.recordings,
                "bytes": check.bytes,
                "checksums_equal": check.ok,
                "problems": check.problems,
            }
        )
    else:
        table = Table(title=f"archive copy: {report.source} → {report.destination}")
        table.add_column("", style="bold")
        table.add_column("", justify="right")
        table.add_row("sessions in the source", str(check.sessions))
        table.add_row("copied now", str(report.copied))
        table.add_row("there already", str(report.skipped_by_reason.get("already copied", 0)))
        table.add_row("failed", str(report.failed))
        table.add_row("recordings compared", str(check.recordings))
        table.add_row("media", fmt_bytes(check.bytes))
        table.add_row("checksums equal", "yes" if check.ok else "NO")
        state.out.print(table)
        for problem in check.problems[:20]:
            state.err.print(f"convoport: {problem}", markup=False)
    if not (report.ok and check.ok):
        raise SystemExit(EXIT_ERROR)
