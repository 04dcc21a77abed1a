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
    query_options,
    run,
    sandbox_option,
    target_argument,
)


@cli.group("sessions")
def sessions_group() -> None:
    """List and show sessions."""


@sessions_group.command("list")
@target_argument()
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
    # An archive holds sessions of several providers: there a session is "provider:id".
    names = [s.id if s.provider == provider else str(s.ref) for s in sessions]
    from convoport.redact import DEFAULT_REDACTOR

    shown = DEFAULT_REDACTOR.text(target)  # a postgresql:// target may carry a password
    state.out.print(
        _sessions_table(
            f"{shown}: {len(sessions)} session{'' if len(sessions) == 1 else 's'}",
            names,
            sessions,
            state,
        )
    )


def _sessions_table(title: str, names: list[str], sessions: list[Any], state: State) -> Table:
    """The listing, fitted to the terminal without cutting or wrapping an id: the other
    columns give way (the time shortens to the day, then duration and title go)."""
    width = state.out.width
    used = max(map(len, names), default=7) + 2 + 12  # the id and the status, with padding
    created = "%Y-%m-%d %H:%M" if used + 18 <= width else "%Y-%m-%d" if used + 12 <= width else None
    used += 0 if created is None else (18 if created.endswith("%M") else 12)
    duration = used + 10 <= width
    used += 10 if duration else 0
    with_title = used + 10 <= width
    table = Table(title=title, box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("session", no_wrap=True)
    table.add_column("status", no_wrap=True)
    if created is not None:
        table.add_column("created", no_wrap=True)
    if duration:
        table.add_column("duration", justify="right", no_wrap=True)
    if with_title:
        table.add_column("title", overflow="ellipsis", no_wrap=True)
    for name, s in zip(names, sessions, strict=True):
        row = [name, s.status.value]
        if created is not None:
            row.append(s.created_at.strftime(created) if s.created_at else "—")
        if duration:
            row.append(f"{s.duration:.1f}s" if s.duration is not None else "—")
        if with_title:
            row.append(s.title or "")
        table.add_row(*row)
    return table


@sessions_group.command("show")
@target_argument()
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
@target_argument()
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
