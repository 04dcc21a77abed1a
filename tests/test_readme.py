"""The README's commands stay true: the test command is what CI runs, and the main job works
(run here through the CLI against the sandbox, in a temporary folder)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import srt  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(marker: str) -> str:
    match = re.search(
        rf"<!-- {marker} -->\s*```bash\n(.*?)\n```\s*<!-- /{marker} -->", README, re.S
    )
    assert match, f"README has no {marker} block"
    return match.group(1).strip()


def convoport(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convoport", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in script
    command = block("test-command")
    for step in ("python3.11 -m venv .venv", "ruff check .", "mypy", "pytest"):
        assert step in command


def test_main_command_and_transcript_command_work(tmp_path: Path) -> None:
    main = block("main-command")
    assert main.startswith("python3.11 -m venv .venv && . .venv/bin/activate && pip install . && ")
    migrate = shlex.split(main.split(" && ")[-1])
    assert migrate[0] == "convoport"
    result = convoport(*migrate[1:], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "copied" in result.stdout
    assert (tmp_path / "convoport-archive").is_dir()
    transcript = shlex.split(block("transcript-command"))
    assert transcript[0] == "convoport"
    shown = convoport(*transcript[1:], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    cues = list(srt.parse(shown.stdout))
    assert cues
    assert all(c.content.strip() for c in cues)


def test_library_quickstarts_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    async_block, sync_block = blocks[0], blocks[1]
    assert "convoport.connect(" in async_block
    assert "convoport.connect_sync(" in sync_block
    monkeypatch.chdir(tmp_path)
    exec(compile(async_block, "README-async", "exec"), {})
    exec(compile(sync_block, "README-sync", "exec"), {})
    assert (tmp_path / "call.wav").read_bytes()[:4] == b"RIFF"
