"""The migration's progress: bars on a terminal, a plain line now and then elsewhere."""

from __future__ import annotations

import time
from typing import Any

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

from convoport.cli._app import State
from convoport.cli._common import fmt_bytes
from convoport.migration import MigrationReport, Progress, SessionOutcome
from convoport.model import SessionRef


class MigrationBars(Progress):
    """The bars on a terminal; off a terminal (a log, a pipe) a plain line every
    ``PLAIN_EVERY`` seconds instead; nothing with ``--json``."""

    PLAIN_EVERY = 10.0

    def __init__(self, state: State) -> None:
        self.state = state
        self.report: MigrationReport | None = None
        self.terminal = not state.json and state.err.is_terminal
        self.plain = not state.json and not state.err.is_terminal
        self.moved = 0
        self.done = 0
        self.last_line = time.monotonic()
        self.progress = RichProgress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            _CountOrBytes(),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"),
            console=state.err,
            disable=not self.terminal,
        )
        self.sessions = self.progress.add_task("sessions", total=None, unit="", current="")
        self.bytes = self.progress.add_task("media", total=None, unit="bytes", current="")

    def __enter__(self) -> MigrationBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def migration_started(self, report: MigrationReport) -> None:
        self.report = report

    def session_started(self, ref: SessionRef) -> None:
        self.progress.update(self.sessions, current=str(ref))

    def session_finished(self, outcome: SessionOutcome) -> None:
        self.done += 1
        self.progress.advance(self.sessions, 1)
        if outcome.state == "failed" and not self.state.json:
            self.progress.console.print(
                f"[red]failed[/] {outcome.ref}: {outcome.reason}", markup=True, highlight=False
            )
        self._plain_line()

    def bytes_moved(self, count: int) -> None:
        self.moved += count
        self.progress.advance(self.bytes, count)
        self._plain_line()

    def sessions_listed(self, count: int) -> None:
        self.progress.update(self.sessions, total=count)

    def _plain_line(self) -> None:
        if not self.plain or time.monotonic() - self.last_line < self.PLAIN_EVERY:
            return
        self.last_line = time.monotonic()
        self.state.err.print(
            f"migrate: {self.done} sessions done, {fmt_bytes(self.moved)} moved",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


class _CountOrBytes(ProgressColumn):
    """``12/36`` for the session bar, ``1.2/? MB`` for the media bar."""

    def __init__(self) -> None:
        super().__init__()
        self._count = MofNCompleteColumn()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Any:
        column = self._bytes if task.fields.get("unit") == "bytes" else self._count
        return column.render(task)
