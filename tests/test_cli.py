"""The command line: version, providers, error conventions, broken plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from convoport import ConfigError, NotFound, UnsupportedOperation, __version__
from convoport.cli._app import cli, exit_code_for


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convoport", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_providers_json_lists_installed_with_capabilities() -> None:
    result = CliRunner().invoke(cli, ["providers", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, list)
    for row in data:
        # the README calls the first key "provider": so does the JSON
        assert set(row) == {
            "provider",
            "display_name",
            "package",
            "version",
            "capabilities",
            "error",
        }
        assert set(row["capabilities"]) == {"ports", "filters", "orders"}


def test_providers_table_runs() -> None:
    result = CliRunner().invoke(cli, ["providers"])
    assert result.exit_code == 0, result.output


def test_providers_fit_80_columns() -> None:
    result = CliRunner().invoke(cli, ["providers"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "catalog.list" in result.output


def test_the_readme_capability_matrix_is_generated_from_the_declarations() -> None:
    from pathlib import Path

    from convoport.adapters._builtin import BUILTIN_ADAPTERS
    from convoport.cli._providers import capability_markdown
    from convoport.connect import providers

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    start = readme.index("<!-- capability-matrix -->") + len("<!-- capability-matrix -->\n")
    end = readme.index("<!-- /capability-matrix -->")
    builtin = [p for p in providers() if p.name in BUILTIN_ADAPTERS]
    assert readme[start:end] == capability_markdown(builtin), (
        "regenerate the README's matrix: python -c 'from tests.test_cli import "
        "print_matrix; print_matrix()'"
    )


def print_matrix() -> None:
    """Prints the README's capability matrix block (for regenerating it)."""
    from convoport.adapters._builtin import BUILTIN_ADAPTERS
    from convoport.cli._providers import capability_markdown
    from convoport.connect import providers

    print(capability_markdown([p for p in providers() if p.name in BUILTIN_ADAPTERS]), end="")


def test_provider_names_complete_in_the_shell() -> None:
    env = {
        "_CONVOPORT_COMPLETE": "bash_complete",
        "COMP_WORDS": "convoport sessions list gl",
        "COMP_CWORD": "3",
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="convoport")
    assert "gladia" in result.output
    env["COMP_WORDS"] = "convoport migrate gladia lo"
    result = CliRunner().invoke(cli, [], env=env, prog_name="convoport")
    assert "local:" in result.output


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("x"), 2),
        (UnsupportedOperation("chat", "gladia"), 3),
        (NotFound("gone", provider="gladia", status_code=404), 1),
        (RuntimeError("bug"), 1),
    ],
)
def test_exit_codes(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code


@pytest.fixture
def broken_plugin(tmp_path: Path) -> Path:
    """A real installed-looking distribution whose plugin module raises on import."""
    dist = tmp_path / "brokenvendor-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenvendor\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[convoport.adapters]\nbrokenvendor = brokenvendor_plugin\n"
    )
    (tmp_path / "brokenvendor_plugin.py").write_text(
        textwrap.dedent(
            """
            raise ImportError("brokenvendor needs vendor-sdk>=9")
            """
        )
    )
    return tmp_path


def test_broken_plugin_leaves_providers_working(broken_plugin: Path) -> None:
    env = {"PYTHONPATH": str(broken_plugin)}
    result = run_cli("providers", env=env)
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr
    assert "'brokenvendor' (brokenvendor) failed to load" in result.stderr
    assert "vendor-sdk>=9" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_plugin_is_fatal_in_strict_mode(broken_plugin: Path) -> None:
    env = {"PYTHONPATH": str(broken_plugin), "CONVOPORT_STRICT_PLUGINS": "1"}
    result = run_cli("providers", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("convoport: error:")
    assert "brokenvendor" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_prints_the_traceback(broken_plugin: Path) -> None:
    env = {"PYTHONPATH": str(broken_plugin), "CONVOPORT_STRICT_PLUGINS": "1"}
    result = run_cli("--debug", "providers", env=env)
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_disabled_broken_plugin_is_silent(broken_plugin: Path) -> None:
    env = {"PYTHONPATH": str(broken_plugin), "CONVOPORT_DISABLE_PLUGINS": "brokenvendor"}
    result = run_cli("providers", env=env)
    assert result.returncode == 0
    assert "brokenvendor" not in result.stderr
