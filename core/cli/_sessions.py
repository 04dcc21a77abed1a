"""``convoport sessions list|show`` and ``convoport transcript``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from convoport.cli._app import State, cli, json_option
from convoport.cli._common import (
    build_query,
    connect_target,
    fmt_time,
    query_options,
    run,
    sandbox_option,
)


@cli.group("sessions")
def sessions_group() -> None:
    """List and show sessions."""


@sessions_group.command("list")
@click.argument("target")
@query_options
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many.")
@sandbox_option
@json_option
@click.pass_obj
def sessions_list(
    state: State,
    target: str,
    status: tuple[str, ...],
    since: str | None,
    until: str | None,
    day: str | None,
    meta: tuple[str, ...],
    search: str | None,
    order: str | None,
    limit: int,
    sandbox: bool,
) -> None:
    """List the sessions of TARGET (a provider or local:PATH)."""
    from convoport.serde import unstructure

    query = build_query(status, since, until, day, meta, search, order)

    async def go() -> tuple[str, list[Any]]:
        async with connect_target(target, sandbox) as client:
            return client.provider, [s async for s in client.list_sessions(query, limit=limit)]

    provider, sessions = run(go())
    if state.json:
        state.emit_json([unstructure(s) for s in sessions])
        return
    table = Table(title=f"{target}: {len(sessions)} sessions")
    table.add_column("session", overflow="fold", min_width=20)
    for col in ("status", "created", "duration", "title"):
        table.add_column(col)
    for s in sessions:
        # An archive holds sessions of several providers: there a session is "provider:id".
        table.add_row(
            s.id if s.provider == provider else str(s.ref),
            s.status.value,
            fmt_time(s.created_at),
            f"{s.duration:.1f}s" if s.duration is not None else "—",
            s.title or "",
        )
    state.out.print(table)


@sessions_group.command("show")
@click.argument("target")
@click.argument("session_id")
@sandbox_option
@json_option
@click.pass_obj
def sessions_show(state: State, target: str, session_id: str, sandbox: bool) -> None:
    """Show one session of TARGET."""
    from convoport.serde import unstructure

    async def go() -> Any:
        async with connect_target(target, sandbox) as client:
            return await client.get_session(session_id)

    session = run(go())
    data = unstructure(session)
    if state.json:
        state.emit_json(data)
        return
    table = Table(show_header=False, title=f"{session.ref}")
    table.add_column("field", style="bold")
    table.add_column("value")
    for key in (
        "status",
        "provider_status",
        "created_at",
        "started_at",
        "ended_at",
        "duration",
        "title",
        "language",
    ):
        table.add_row(key, str(data.get(key)) if data.get(key) is not None else "—")
    for key, value in session.metadata.items():
        table.add_row(f"metadata.{key}", str(value))
    state.out.print(table)


# -- transcript ---------------------------------------------------------------------------------


@cli.command("transcript")
@click.argument("target")
@click.argument("session_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "srt", "vtt", "txt"]),
    default="txt",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of stdout.",
)
@sandbox_option
@click.pass_obj
def transcript_command(
    state: State, target: str, session_id: str, fmt: str, output: Path | None, sandbox: bool
) -> None:
    """Print or save a session's transcript as JSON, SRT, WebVTT or text."""
    from convoport.export import export

    async def go() -> Any:
        async with connect_target(target, sandbox) as client:
            return await client.get_transcript(session_id)

    text = export(run(go()), "json" if state.json else fmt)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    tmp = output.with_name(output.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    state.err.print(f"wrote {output}")
