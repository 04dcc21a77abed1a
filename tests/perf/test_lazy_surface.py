"""Behaviour of the lazy import surface (no timing): ``import convoport`` and ``convoport
--help`` load little, and what they skip is still all there when asked for."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import convoport
from convoport.cli import _app


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def test_import_convoport_loads_no_heavy_dependency() -> None:
    out = _run(
        "import sys, convoport\n"
        "heavy = ['httpx', 'attrs', 'cattrs', 'tenacity', 'anyio', 'click', 'rich']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    assert out == ""


def test_the_archive_backends_load_sqlalchemy_only_when_an_archive_opens() -> None:
    out = _run(
        "import sys, asyncio, tempfile, convoport\n"
        "from convoport.connect import providers\n"
        "providers()\n"  # every adapter class, the archives' included
        "before = [m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules]\n"
        "async def use():\n"
        "    async with convoport.connect(f'local:{tempfile.mkdtemp()}', create=True) as a:\n"
        "        [s async for s in a.list_sessions()]\n"
        "asyncio.run(use())\n"
        "print(','.join(before), 'sqlalchemy' in sys.modules)\n"
    )
    assert out == "True"  # nothing before, SQLAlchemy after


def test_every_public_name_resolves_to_its_module_object() -> None:
    for name in convoport.__all__:
        assert getattr(convoport, name) is not None, name
    from convoport.connect import connect
    from convoport.model import Session

    assert convoport.connect is connect
    assert convoport.Session is Session
    assert set(convoport.__all__) <= set(dir(convoport))


def test_connect_stays_the_function_when_its_module_is_imported_first() -> None:
    out = _run(
        "import convoport\n"
        "from convoport.connect import adapter_class\n"
        "import convoport.migration\n"
        "print(callable(convoport.connect) and type(convoport.connect).__name__)\n"
    )
    assert out == "function"


def test_submodules_stay_reachable_as_attributes() -> None:
    out = _run(
        "import convoport\nprint(convoport.model.Session.__name__, convoport.export.__name__)"
    )
    assert out == "Session convoport.export"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(convoport, "no_such_name")  # noqa: B009


def test_help_imports_no_command_module_nor_rich() -> None:
    out = _run(
        "import sys\n"
        "from convoport.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='convoport')\n"
        "except SystemExit:\n"
        "    pass\n"
        "mods = [m for m in sys.modules if m.startswith('convoport.cli._') and m != "
        "'convoport.cli._app' or m == 'rich' or m.startswith('convoport.adapters')]\n"
        "print('LOADED=' + ','.join(mods))\n"
    )
    assert out.splitlines()[-1] == "LOADED="


def test_command_table_matches_the_registered_commands() -> None:
    _app.load_commands()
    registered = {
        name: (command.callback.__module__ if command.callback else "", command.help or "")
        for name, command in _app.cli.commands.items()
    }
    assert set(registered) == set(_app.COMMANDS)
    for name, (module, text) in _app.COMMANDS.items():
        real_module, real_help = registered[name]
        assert module == real_module, name
        assert text == " ".join(real_help.split("\n\n")[0].split()), name


def test_help_lists_the_same_lines_lazily_and_loaded() -> None:
    lazy = _run(
        "from click.testing import CliRunner\n"
        "from convoport.cli import cli\n"
        "print(CliRunner().invoke(cli, ['--help'], terminal_width=80).output)\n"
    )
    _app.load_commands()
    loaded = CliRunner().invoke(_app.cli, ["--help"], terminal_width=80).output
    assert lazy == loaded.strip()
    assert "sessions" in lazy
    assert "verify" in lazy


def test_a_command_loads_on_first_use() -> None:
    result = CliRunner().invoke(_app.cli, ["providers", "--json"])
    assert result.exit_code == 0, result.output
    assert isinstance(_app.cli.get_command(click.Context(_app.cli), "sessions"), click.Group)
