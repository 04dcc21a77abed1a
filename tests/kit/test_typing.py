"""A plugin's kit tests type-check: ``from convoport.contracts import CassetteContract``
passes ``mypy --strict`` (the names are not hidden behind the lazy ``__getattr__``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN_TESTS = """
from typing import Any, ClassVar

from convoport.contracts import CassetteContract, EmulatorContract
from convoport.contracts.scenarios import Scenario


class TestThingCassettes(CassetteContract):
    provider = "thing"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}
    scenarios: ClassVar[tuple[Scenario, ...]] = ()
    requirements: ClassVar[frozenset[str]] = frozenset({"signed_media"})


class TestThingEmulator(EmulatorContract):
    provider = "thing"


def kit_class_name() -> str:
    return CassetteContract.__name__


reveal_type(CassetteContract)
"""


def test_plugin_test_module_passes_mypy_strict(tmp_path: Path) -> None:
    module = tmp_path / "test_thing_contract.py"
    module.write_text(textwrap.dedent(PLUGIN_TESTS), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(module),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Revealed type is "def () -> convoport.contracts.kit.CassetteContract"' in result.stdout
