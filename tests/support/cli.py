"""The ``convoport`` command line run in-process (click's ``CliRunner``), and its JSON."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from convoport.cli import cli


def invoke(*args: str) -> Result:
    """``convoport ARGS`` in this process; an exception escapes instead of being an exit
    code, so a crash shows its traceback."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(result: Result) -> Any:
    """The JSON a successful command printed on stdout (fails, with its output, on a
    non-zero exit)."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


__all__ = ["as_json", "invoke"]
