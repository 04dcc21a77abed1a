"""What the command modules share: connecting a target, query options, formatting, bars.

Every command takes a *target*: a provider name (``gladia``) or an archive (``local:PATH``);
``--sandbox`` connects vendor targets to their in-process emulators (no account needed) and is
ignored for archives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
from rich.progress import Progress as RichProgress

from convoport.cli._app import State
from convoport.errors import ConfigError

T = TypeVar("T")

#: The archive backend a bare path names (``convoport verify ./archive``).
DEFAULT_ARCHIVE = "local"

sandbox_option = click.option(
    "--sandbox", is_flag=True, help="Use the vendor's in-process emulator (no account)."
)


def complete_target(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of a TARGET: the installed provider names, archives as ``name:``."""
    from click.shell_completion import CompletionItem

    from convoport.archive import ArchiveAdapter
    from convoport.registry import get_registry

    items = []
    for entry in get_registry().entries():
        try:
            archive = issubclass(entry.load(), ArchiveAdapter)
        except Exception:  # a broken plugin is not completed
            continue
        word = f"{entry.name}:" if archive else entry.name
        if word.startswith(incomplete):
            items.append(CompletionItem(word, type="plain" if not archive else "nospace"))
    return items


#: A TARGET argument (a provider, or an archive as name:PATH), completed in the shell.
def target_argument(name: str = "target") -> Callable[[Any], Any]:
    return click.argument(name, shell_complete=complete_target)


def run(awaitable: Awaitable[T]) -> T:
    """Runs a coroutine to completion on a fresh event loop."""

    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


def is_archive(target: str) -> bool:
    """Whether ``target`` names an archive backend (its adapter serves the archive port)."""
    from convoport.archive import ArchiveAdapter
    from convoport.connect import adapter_class

    return issubclass(adapter_class(target.partition(":")[0]), ArchiveAdapter)


def archive_target(text: str) -> str:
    """``text`` as an archive target: as given when it names an archive backend, else a path
    of the default archive backend. Anything else: ``ConfigError``."""
    from convoport.connect import providers

    name = text.partition(":")[0]
    if ":" in text and name in {p.name for p in providers()}:
        if not is_archive(text):
            raise ConfigError(f"{name} is not an archive", hint="use local:PATH")
        return text
    return f"{DEFAULT_ARCHIVE}:{text}"


def connect_target(target: str, sandbox: bool, **options: Any) -> Any:
    """A client for ``target``; ``sandbox`` applies to vendor targets only."""
    from convoport.connect import connect

    if is_archive(target):
        return connect(target, **options)
    return connect(target, sandbox=sandbox, **options)


def open_archive(target: str, *, create: bool) -> Any:
    """A client for the archive ``target``, creating it when ``create`` (and allowed)."""
    from convoport.archive import ArchiveAdapter
    from convoport.connect import adapter_class, connect

    cls = adapter_class(target.partition(":")[0])
    if not issubclass(cls, ArchiveAdapter):
        raise ConfigError(f"{target} is not an archive", hint="use local:PATH")
    return connect(target, **cls.destination_options(create=create))


def parse_time(value: str | None, name: str) -> datetime | None:
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


def build_query(
    status: tuple[str, ...],
    since: str | None,
    until: str | None,
    day: str | None,
    meta: tuple[str, ...],
    search: str | None,
    order: str | None = None,
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
            created_after=parse_time(since, "--since"),
            created_before=parse_time(until, "--until"),
            created_on=day,
            statuses=statuses,
            metadata=metadata or None,
            search=search,
            order=order,
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
            click.option(
                "--order",
                type=click.Choice(["newest", "oldest"]),
                help="Listing order by creation time (default: newest first where the backend "
                "can; see 'convoport providers').",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def fmt_bytes(count: int) -> str:
    """Decimal units, as the progress bars show them (1 kB = 1000 bytes)."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"


def json_line(data: Any) -> str:
    """One JSON document on one line (``--json`` streams of events)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


class BytesProgress:
    """A transfer bar on stderr (only on a terminal, never with ``--json``). Use as a context
    manager; it gives ``advance(n)``."""

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

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        self.progress.start()
        task = self.progress.add_task(self.label, total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()
