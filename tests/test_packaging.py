"""The wheel holds every package and data file; importing convoport loads no adapter."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA_SUFFIXES = {".json", ".wav", ".csv", ".txt", ".md"}


def _expected_members() -> set[str]:
    """Every module and data file below adapters/ and contracts/, as wheel paths."""
    mapping = {
        "adapters": "convoport/adapters",
        "contracts": "convoport/contracts",
        "core": "convoport",
    }
    expected = set()
    for folder, target in mapping.items():
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if folder == "core" and path.suffix != ".py":
                continue
            if path.suffix == ".py" or path.suffix in DATA_SUFFIXES or path.name == "py.typed":
                expected.add(f"{target}/{path.relative_to(ROOT / folder).as_posix()}")
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("convoport-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_contains_every_package_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    missing = sorted(_expected_members() - names)
    assert not missing, f"missing from the wheel: {missing}"
    assert "convoport/py.typed" in names
    assert "convoport/contracts/py.typed" in names


def test_wheel_declares_the_builtin_entry_point(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[convoport.adapters]" in text
    assert "builtin = convoport.adapters._builtin" in text
    assert "convoport = convoport.cli:main" in text


def test_import_loads_no_adapter() -> None:
    code = (
        "import sys, convoport\n"
        "loaded = [m for m in sys.modules if m.startswith('convoport.adapters')"
        " or m.startswith('convoport.contracts')]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == ""


def test_adapter_modules_load_on_first_use() -> None:
    code = (
        "import sys, convoport\n"
        "from convoport.registry import get_registry\n"
        "targets = [e.target.split(':')[0] for e in get_registry().entries()"
        " if isinstance(e.target, str)]\n"
        "before = [t for t in targets if t in sys.modules]\n"
        "convoport.providers()\n"
        "after = [t for t in targets if t in sys.modules]\n"
        "print(len(targets), len(before), len(after))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    targets, before, after = (int(x) for x in out)
    assert targets >= 1  # at least the example plugin is installed for the tests
    assert before == 0
    assert after == targets
