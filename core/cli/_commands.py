"""The commands over sessions, transcripts, recordings, migration, live ingest and emulators.

Every command takes a *target*: a provider name (``gladia``) or ``local:PATH``; ``--sandbox``
connects vendor targets to their in-process emulators (no account needed).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from convoport.cli._app import EXIT_ERROR, State, cli, json_option
from convoport.errors import ConfigError

T = TypeVar("T")

sandbox_option = click.option(
    "--sandbox", is_flag=True, help="Use the vendor's in-process emulator (no account)."
)


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


def _connect(target: str, sandbox: bool) -> Any:
    from convoport.connect import connect

    return connect(target, sandbox=sandbox and not target.startswith("local:"))


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{name} must be an ISO 8601 date or time, got {value!r}",
            hint="e.g. 2026-11-01 or 2026-11-01T12:00:00Z",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _query(
    status: tuple[str, ...],
    since: str | None,
    until: str | None,
    day: str | None,
    meta: tuple[str, ...],
    search: str | None,
) -> Any:
    from convoport.model import SessionQuery, SessionStatus

    metadata = {}
    for item in meta:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--meta takes KEY=VALUE, got {item!r}")
        metadata[key] = value
    try:
        statuses = {SessionStatus(s) for s in status} if status else None
        return SessionQuery(
            created_after=_parse_time(since, "--since"),
            created_before=_parse_time(until, "--until"),
            created_on=day,
            statuses=statuses,
            metadata=metadata or None,
            search=search,
        )
    except ValueError as exc:
        raise ConfigError(
            str(exc), hint="statuses: " + ", ".join(s.value for s in SessionStatus)
        ) from None


def query_options(fn: Any) -> Any:
    for option in reversed(
        [
            click.option("--status", multiple=True, help="Keep sessions in this status (repeat)."),
            click.option("--since", help="Created at or after (ISO 8601)."),
            click.option("--until", help="Created before (ISO 8601)."),
            click.option("--day", help="Created on this UTC day (YYYY-MM-DD)."),
            click.option("--meta", multiple=True, help="Metadata KEY=VALUE (repeat)."),
            click.option("--search", help="The vendor's free-text search."),
        ]
    ):
        fn = option(fn)
    return fn


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _fmt_bytes(count: int) -> str:
    """Decimal units, as the progress bars show them (1 kB = 1000 bytes)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"


# -- sessions -----------------------------------------------------------------------------------


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
    limit: int,
    sandbox: bool,
) -> None:
    """List the sessions of TARGET (a provider or local:PATH)."""
    from convoport.serde import unstructure

    query = _query(status, since, until, day, meta, search)

    async def go() -> list[Any]:
        async with _connect(target, sandbox) as client:
            return [s async for s in client.list_sessions(query, limit=limit)]

    sessions = run(go())
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
            str(s.ref) if target.startswith("local:") else s.id,
            s.status.value,
            _fmt_time(s.created_at),
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
        async with _connect(target, sandbox) as client:
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
        async with _connect(target, sandbox) as client:
            return await client.get_transcript(session_id)

    text = export(run(go()), "json" if state.json else fmt)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    tmp = output.with_name(output.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    state.err.print(f"wrote {output}")


# -- recordings ---------------------------------------------------------------------------------


@cli.group("recording")
def recording_group() -> None:
    """Recordings."""


@recording_group.command("download")
@click.argument("target")
@click.argument("session_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: the recording's file name).",
)
@click.option("--recording-id", help="Which recording (default: the first).")
@sandbox_option
@json_option
@click.pass_obj
def recording_download(
    state: State,
    target: str,
    session_id: str,
    output: Path | None,
    recording_id: str | None,
    sandbox: bool,
) -> None:
    """Stream a session's recording to a file (constant memory)."""
    import hashlib

    async def go() -> tuple[Any, Path, str, int]:
        async with (
            _connect(target, sandbox) as client,
            client.open_recording(session_id, recording_id) as stream,
        ):
            rec = stream.recording
            path = Path(output or Path(rec.filename or f"{session_id}.bin").name)
            partial = path.with_name(path.name + ".part")
            digest = hashlib.sha256()
            size = 0
            with _bytes_progress(state, rec.size, f"{path.name}") as advance:
                try:
                    with partial.open("wb") as fh:
                        async for chunk in stream.aiter_bytes():
                            fh.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                            advance(len(chunk))
                    partial.replace(path)
                finally:
                    partial.unlink(missing_ok=True)
            return rec, path, digest.hexdigest(), size

    rec, path, sha, size = run(go())
    if state.json:
        state.emit_json({"recording": rec.id, "path": str(path), "size": size, "sha256": sha})
    else:
        state.out.print(f"saved {path} ({_fmt_bytes(size)}, sha256 {sha[:16]}…)")


class _bytes_progress:
    def __init__(self, state: State, total: int | None, label: str) -> None:
        self.enabled = not state.json and state.err.is_terminal
        self.progress = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=state.err,
            transient=True,
        )
        self.total = total
        self.label = label

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda n: None
        self.progress.start()
        task = self.progress.add_task(self.label, total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()


# -- migrate and verify -------------------------------------------------------------------------


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

    query = _query(status, since, until, day, meta, search)
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
                    str(o.ref), ", ".join(o.artifacts) or "session only", _fmt_bytes(o.bytes)
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
        _fmt_bytes(report.bytes),
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
    """Re-hash every media file of ARCHIVE and check the ledger against the catalog."""
    target = archive if archive.startswith("local:") else f"local:{archive}"
    if not Path(target.partition(":")[2]).exists():
        raise ConfigError(f"no archive at {target.partition(':')[2]}")

    async def go() -> Any:
        from convoport.connect import connect

        async with connect(target, create=False) as client:
            verify = getattr(client.adapter, "verify", None)
            if verify is None:
                raise ConfigError(f"{target} is not an archive")
            return await verify()

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
                "checked": getattr(report, "checked", None),
            }
        )
    else:
        for kind, items in problems.items():
            for item in items:
                state.err.print(f"{kind}: {item}", markup=False, highlight=False)
        state.out.print("archive OK" if report.ok else "archive has problems")
    if not report.ok:
        raise SystemExit(EXIT_ERROR)


# -- live ---------------------------------------------------------------------------------------


@cli.command("live")
@click.argument("target")
@click.argument("wav", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", multiple=True, help="Language hint (repeat).")
@click.option("--realtime/--no-realtime", default=False, help="Pace the audio at real-time speed.")
@click.option(
    "--archive",
    "archive_target",
    help="Store the session, transcript, summary and the audio in this archive (local:PATH).",
)
@sandbox_option
@json_option
@click.pass_obj
def live_command(
    state: State,
    target: str,
    wav: Path,
    language: tuple[str, ...],
    realtime: bool,
    archive_target: str | None,
    sandbox: bool,
) -> None:
    """Stream a WAV file into a live backend and print events as they come.

    With --archive, what the session produced (and the audio) is stored in an archive when it
    ends: for a vendor without a read-back API (Illocution) that is the only copy."""
    from convoport._wav import WavStreamReader
    from convoport.errors import LiveSessionError
    from convoport.live import FinalUtterance, LiveOptions, PartialTranscript
    from convoport.media import MediaSource
    from convoport.model import SessionStatus
    from convoport.serde import unstructure

    if archive_target is not None and not archive_target.startswith("local:"):
        raise ConfigError(f"--archive takes local:PATH, got {archive_target!r}")

    async def go() -> Any:
        from contextlib import AsyncExitStack

        from convoport.connect import connect
        from convoport.migration import archive_ingest

        source = MediaSource.of(wav)
        reader = WavStreamReader(source.chunks())
        fmt = await reader.format()
        options = LiveOptions(
            encoding=fmt.encoding,
            sample_rate=fmt.sample_rate,
            bit_depth=fmt.bit_depth,
            channels=fmt.channels,
            languages=language,
            filename=wav.name,
        )
        async with AsyncExitStack() as stack:
            archive = None
            if archive_target is not None:
                archive = await stack.enter_async_context(connect(archive_target, create=True))
            client = await stack.enter_async_context(_connect(target, sandbox))
            live = await stack.enter_async_context(await client.start_live(options))
            if archive is not None:
                live.persist_to(archive)  # what arrives is kept even if the stream is lost

            async def feed() -> None:
                bytes_per_second = fmt.sample_rate * fmt.block_align
                async for pcm in reader.pcm(bytes_per_second // 10):
                    if live.ended:  # the vendor ended it: its event says why
                        return
                    await live.send_audio(pcm)
                    if realtime:
                        await asyncio.sleep(len(pcm) / bytes_per_second)
                if not live.ended:
                    await live.finalize()

            feeder = asyncio.create_task(feed())
            async for event in live.events():
                if state.json:
                    click.echo(_json_line(unstructure(event)))
                elif isinstance(event, FinalUtterance):
                    u = event.utterance
                    stamp = f"[{u.start:7.2f}s]" if u.start is not None else "[   —   ]"
                    state.out.print(f"{stamp} {u.speaker or ''}: {u.text}", markup=False)
                elif isinstance(event, PartialTranscript):
                    state.err.print(f"… {event.utterance.text}", markup=False, style="dim")
                else:
                    state.err.print(f"[{event.kind}] {_event_text(event)}", markup=False)
            try:
                await feeder
            except LiveSessionError:
                if not live.ended:
                    raise
            result = await live.wait()
            if archive is not None:
                ref = await archive_ingest(archive, result, media=wav, media_type="audio/wav")
                state.err.print(f"stored {ref} in {archive_target}", markup=False)
            return result

    result = run(go())
    if not state.json:
        state.out.print(
            f"session {result.session.ref}: {result.session.status.value}, "
            f"{len(result.transcript.utterances)} utterances, {_fmt_bytes(result.bytes_sent)}"
        )
    if result.session.status is not SessionStatus.COMPLETED:
        state.err.print(
            f"convoport: error: the live session ended {result.session.status.value}",
            markup=False,
        )
        raise SystemExit(EXIT_ERROR)


def _json_line(data: Any) -> str:
    import json

    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def _event_text(event: Any) -> str:
    for attr in ("phase", "message", "name", "session_id"):
        value = getattr(event, attr, None)
        if value:
            return str(value)
    return ""


# -- emulate ------------------------------------------------------------------------------------


@cli.command("emulate")
@click.argument("provider")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.pass_obj
def emulate_command(state: State, provider: str, host: str, port: int) -> None:
    """Serve a vendor emulator over a real socket (for any HTTP client or the vendor's SDK)."""
    from convoport.adapter import load_object
    from convoport.connect import adapter_class

    cls = adapter_class(provider)
    if cls.emulator is None:
        raise ConfigError(f"{provider} has no emulator")
    try:
        import uvicorn
    except ImportError:
        raise ConfigError("convoport emulate needs uvicorn", hint="pip install uvicorn") from None
    harness = load_object(cls.emulator)()
    options = harness.connect_options()
    state.err.print(
        f"{provider} emulator on http://{host}:{port}  "
        f"(credentials: {', '.join(f'{k}={v}' for k, v in options.items() if k != 'base_url')})",
        markup=False,
    )
    uvicorn.run(harness.app, host=host, port=port, log_level="warning")
    sys.exit(0)
