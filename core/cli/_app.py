"""The click application: global options, error handling, and the command table.

``convoport --help`` imports neither rich nor any command module: the group lists its commands
from :data:`COMMANDS` (name, module, one-line help) and imports a command's module only when
that command runs (or its own ``--help`` is asked for). A test keeps the table equal to the
commands the modules register.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from convoport._version import __version__

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNSUPPORTED = 3
EXIT_INTERRUPTED = 130


class State:
    """Options shared by every command (``ctx.obj``)."""

    def __init__(self, *, debug: bool, json_output: bool) -> None:
        self.debug = debug
        self.json = json_output
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        """The rich console on stdout (made on first use: rich is imported only then)."""
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False, soft_wrap=True)
        return self._out

    @property
    def err(self) -> Console:
        """The rich console on stderr."""
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._err

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def exit_code_for(error: BaseException) -> int:
    """The exit code convoport uses for an error."""
    from convoport.errors import ConfigError, UnsupportedOperation

    if isinstance(error, UnsupportedOperation):
        return EXIT_UNSUPPORTED
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    return EXIT_ERROR


def fail(state: State | None, error: BaseException) -> NoReturn:
    """Prints an error as one line (traceback only with --debug) and exits."""
    from convoport.errors import ConvoportError

    debug = state.debug if state else _env_debug()
    if debug:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, OSError) and not isinstance(error, ConvoportError):
        message = os_error_message(error)
    else:
        message = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, ConvoportError):
            message = f"{type(error).__name__}: {message}"
    from convoport.redact import DEFAULT_REDACTOR

    # a target on the command line may carry a password (postgresql://user:pw@host/db)
    click.echo(f"convoport: error: {DEFAULT_REDACTOR.text(message)}", err=True)
    raise SystemExit(exit_code_for(error))


_OS_HINTS = {
    errno.ENOSPC: "free some disk space, or write somewhere else",
    errno.EDQUOT: "the disk quota is used up; free some space, or write somewhere else",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.ENOENT: "check that the folder exists",
}


def os_error_message(error: OSError) -> str:
    """An operating-system error as one line that names the file and says what to do
    (``No space left on device: /data/call.wav.part (free some disk space, …)``)."""
    reason = error.strerror or type(error).__name__
    where = error.filename if error.filename is not None else None
    text = reason if where is None else f"{reason}: {where}"
    if error.filename2 is not None:
        text += f" -> {error.filename2}"
    hint = _OS_HINTS.get(error.errno or -1)
    if hint:
        text += f" ({hint})"
    return " ".join(text.split())


def _env_debug() -> bool:
    return os.environ.get("CONVOPORT_DEBUG", "").strip().lower() in ("1", "true", "yes")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    from convoport.errors import ConvoportWarning

    if issubclass(category, ConvoportWarning):
        click.echo(f"convoport: warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


#: command name -> (module that registers it, its one-line help): what ``convoport --help``
#: lists without importing the modules (``tests/perf/test_cli_table.py`` keeps it true).
COMMANDS: dict[str, tuple[str, str]] = {
    "archive": ("convoport.cli._archive", "Whole-archive operations."),
    "emulate": (
        "convoport.cli._emulate",
        "Serve a vendor emulator over a real socket (for any HTTP client or the vendor's SDK).",
    ),
    "live": (
        "convoport.cli._live",
        "Stream a WAV file into a live backend and print events as they come.",
    ),
    "migrate": (
        "convoport.cli._migrate",
        "Copy SOURCE's sessions into DESTINATION (an archive: local:PATH, or "
        "postgresql://USER@HOST/DB with --media URL), or re-process an archive's recordings "
        "with an ingest backend (migrate local:PATH illocution).",
    ),
    "providers": (
        "convoport.cli._providers",
        "The installed providers: package, version and capabilities.",
    ),
    "recording": ("convoport.cli._recording", "Recordings."),
    "sessions": ("convoport.cli._sessions", "List and show sessions."),
    "transcript": (
        "convoport.cli._sessions",
        "Print or save a session's transcript as JSON, SRT, WebVTT or text.",
    ),
    "verify": (
        "convoport.cli._migrate",
        "Re-hash every media file of ARCHIVE (local:PATH, or a path) and check the ledger "
        "against the catalog. Nothing is changed.",
    ),
}


def load_commands() -> None:
    """Imports every command module (each registers its commands on :data:`cli`)."""
    import importlib

    for module, _ in COMMANDS.values():
        importlib.import_module(module)


class ConvoportGroup(click.Group):
    """A group whose commands turn every error into one line and a meaningful exit code.

    Click's own usage errors (an unknown command or option, a bad option value) are one line
    too: ``convoport: error: No such option: --nope (see 'convoport sessions list --help')``,
    exit code 2; ``--help`` and ``--version`` print as usual.

    Commands are loaded lazily: :meth:`list_commands` reads :data:`COMMANDS`,
    :meth:`get_command` imports the module of the command asked for, and the group's help
    lists the table's one-line help for commands not loaded yet."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib

            importlib.import_module(COMMANDS[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: list[tuple[str, str]] = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            command = self.commands.get(name)
            if command is not None:
                if command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            else:
                # a stand-in with the table's help renders it exactly as click would
                text = click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        parent: Any = super()
        if not standalone_mode:
            return parent.main(*args, standalone_mode=False, **kwargs)
        try:
            code = parent.main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # plain ``convoport``: the help, as click prints it
            raise SystemExit(exc.exit_code) from None
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "convoport"
            message = " ".join(exc.format_message().split())
            click.echo(f"convoport: error: {message} (see '{where} --help')", err=True)
            raise SystemExit(exc.exit_code) from None
        except click.ClickException as exc:
            click.echo(f"convoport: error: {' '.join(exc.format_message().split())}", err=True)
            raise SystemExit(exc.exit_code) from None
        except click.Abort:
            click.echo("convoport: interrupted", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
        raise SystemExit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("convoport: interrupted", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
        except SystemExit:
            raise
        except Exception as exc:
            state = ctx.find_object(State)
            fail(state, exc)


@click.group(cls=ConvoportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="convoport")
@click.option("--debug", is_flag=True, envvar="CONVOPORT_DEBUG", help="Tracebacks and debug logs.")
@click.option("--json", "json_output", is_flag=True, help="Machine-readable output.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, json_output: bool) -> None:
    """convoport: conversation sessions, transcripts and recordings from any vendor."""
    ctx.obj = State(debug=debug, json_output=json_output)
    warnings.showwarning = _show_warning
    if debug:
        logging.basicConfig(
            level=logging.DEBUG, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
    else:
        logging.basicConfig(level=logging.WARNING, format="convoport: %(message)s")
        # Dask sets its own loggers to INFO when it is imported (a distributed run): keep its
        # chatter (schedulers, nannies, workers; children inherit this) off the terminal
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


def json_option(fn: F) -> F:
    """``--json`` on a subcommand (same meaning as the global flag)."""

    def callback(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(State).json = True
        return value

    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=callback,
        help="Machine-readable output.",
    )(fn)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="convoport")


__all__ = ["State", "cli", "exit_code_for", "fail", "json_option", "main", "os_error_message"]
