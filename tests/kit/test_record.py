"""``python -m convoport.contracts.record`` end to end: record the example plugin's fixtures
from its emulator into an empty package, then the plugin's own kit tests replay them; a
cassette that fails the secret scan is deleted and the command exits 1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "convoport-murmur"

LEAKY = '''
from starlette.responses import JSONResponse
from starlette.routing import Route

from convoport_murmur.emulator import MurmurEmulator


class LeakyMurmur(MurmurEmulator):
    """Answers transcripts with something key-shaped the recorder does not know about."""

    def routes(self):
        return [Route("/v1/calls/{call_id}/transcript", self._leak), *super().routes()]

    async def _leak(self, request):
        return JSONResponse({
            "call_id": request.path_params["call_id"], "language": "en",
            "segments": [{"speaker": "a", "start_ms": 0, "end_ms": 900, "text": "hi there"}],
            "debug": "sk-abcdefghijklmnopqrstuvwxyz0123",
        })
'''


def _installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("convoport-murmur")
    except PackageNotFoundError:
        return False
    return True


def _run(args: list[str], cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    if not _installed():
        pytest.fail("the example plugin is not installed: pip install ./examples/convoport-murmur")
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(pythonpath)},
        timeout=300,
        check=False,
    )


def test_recording_from_the_emulator_then_the_kit_replays_it(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(PLUGIN / "src", src)
    shutil.copytree(PLUGIN / "tests", tmp_path / "tests")
    package = src / "convoport_murmur"
    for folder in ("cassettes", "expected"):
        shutil.rmtree(package / folder)
    recorded = _run(
        [
            "-m",
            "convoport.contracts.record",
            "murmur",
            "--emulator",
            "--require",
            "signed_media",
            "--out",
            str(package),
            "--write-expected",
        ],
        tmp_path,
        src,
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "failed" not in recorded.stdout
    assert "skipped  get_summary: capability summaries is not declared" in recorded.stdout
    cassettes = sorted(p.stem for p in (package / "cassettes").glob("*.json"))
    assert cassettes == sorted(p.stem for p in (package / "expected").glob("*.json"))
    assert {"list_chat", "list_participants", "signed_link_refreshed", "auth_failure"} <= set(
        cassettes
    )
    for name in cassettes:
        meta = json.loads((package / "cassettes" / f"{name}.json").read_text())["meta"]
        assert meta["scenario"] == name
        assert meta["source"].startswith(
            "recorded with python -m convoport.contracts.record from the murmur emulator"
        )
        assert "args" in meta
    replayed = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], tmp_path, src)
    assert replayed.returncode == 0, replayed.stdout[-3000:]


def test_a_cassette_failing_the_secret_scan_is_deleted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(PLUGIN / "src", src)
    (src / "leaky.py").write_text(LEAKY, encoding="utf-8")
    out = tmp_path / "out"
    result = _run(
        [
            "-m",
            "convoport.contracts.record",
            "murmur",
            "--harness",
            "leaky:LeakyMurmur",
            "--scenario",
            "get_transcript",
            "--scenario",
            "get_session_completed",
            "--out",
            str(out),
        ],
        tmp_path,
        src,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed   get_transcript" in result.stdout
    assert "secret scan flagged the cassette (deleted)" in result.stdout
    assert "sk-abcdefghijklmnopqrstuvwxyz0123" not in result.stdout
    assert not (out / "cassettes" / "get_transcript.json").exists()
    assert (out / "cassettes" / "get_session_completed.json").is_file()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = _run(
        ["-m", "convoport.contracts.record", "murmur", "--scenario", "nope", "--out", "x"],
        tmp_path,
        PLUGIN / "src",
    )
    assert result.returncode == 2
    assert "unknown scenario(s) ['nope']" in result.stderr
