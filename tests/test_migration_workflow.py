"""The migration a team runs: batches that move forward, repair, honest counts, a report on
interrupt, and output that says what happened (issue 13, items 1-7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from convoport import connect, migrate
from convoport.archive import as_archive
from convoport.cli import cli

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.anyio


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    return result


async def test_a_limit_counts_new_work_so_batches_move_forward(tmp_path: Path) -> None:
    archive = f"local:{tmp_path / 'a'}"
    first = await migrate("gladia", archive, sandbox=True, limit=3, backoff_base=0)
    second = await migrate("gladia", archive, sandbox=True, limit=3, backoff_base=0)
    assert first.copied == 3
    assert second.copied == 3
    assert second.skipped_by_reason.get("already copied") == 3
    copied_first = {o.ref for o in first.outcomes if o.state == "copied"}
    copied_second = {o.ref for o in second.outcomes if o.state == "copied"}
    assert not copied_first & copied_second
    rest = await migrate("gladia", archive, sandbox=True, backoff_base=0)
    assert rest.skipped_by_reason["already copied"] == 6
    async with connect("gladia", sandbox=True) as source:
        finished = [s async for s in source.list_sessions() if s.status.terminal]
    assert first.copied + second.copied + rest.copied == len(finished)
    zero = await migrate("gladia", archive, sandbox=True, limit=0, backoff_base=0)
    assert zero.copied == 0


async def test_a_dry_run_limit_counts_planned_sessions(tmp_path: Path) -> None:
    report = await migrate("gladia", f"local:{tmp_path / 'a'}", sandbox=True, limit=2, dry_run=True)
    assert report.planned == 2
    assert not (tmp_path / "a").exists()


def _damage(archive: Path) -> tuple[str, str]:
    """Deletes one media file and corrupts another; returns their session refs."""
    files = sorted(p for p in (archive / "media").rglob("*") if p.is_file())
    assert len(files) >= 3
    files[0].unlink()
    data = bytearray(files[1].read_bytes())
    data[100] ^= 0xFF
    files[1].write_bytes(bytes(data))
    return str(files[0]), str(files[1])


def test_repair_refetches_exactly_what_verify_found_wrong(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    target = f"local:{archive}"
    assert _cli("migrate", "gladia", target, "--sandbox", "--json").exit_code == 0
    _damage(archive)
    untouched = {p: p.stat().st_mtime_ns for p in (archive / "media").rglob("*") if p.is_file()}
    broken = _cli("--json", "verify", target)
    assert broken.exit_code == 1
    found = json.loads(broken.output)
    assert len(found["missing"]) == 1
    assert len(found["corrupt"]) == 1
    again = _cli("--json", "migrate", "gladia", target, "--sandbox")
    assert json.loads(again.output)["copied"] == 0  # a plain rerun skips everything
    repaired = _cli("--json", "migrate", "gladia", target, "--sandbox", "--repair")
    assert repaired.exit_code == 0, repaired.output
    report = json.loads(repaired.output)
    assert report["mode"] == "repair"
    assert report["repaired"] == 2
    assert report["copied"] == 0
    assert len(report["sessions"]) == 2
    fixed = _cli("--json", "verify", target)
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.output)["ok"] is True
    changed = [p for p, m in untouched.items() if p.exists() and p.stat().st_mtime_ns != m]
    assert len(changed) == 1  # only the corrupt one was rewritten (the missing one is new)


def test_repair_removes_orphan_media(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    target = f"local:{archive}"
    assert _cli("migrate", "gladia", target, "--sandbox").exit_code == 0
    stray = archive / "media" / "gladia" / "zz" / "stray.wav"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by an interrupted run")
    found = json.loads(_cli("--json", "verify", target).output)
    assert [o.split(": ")[0] for o in found["orphans"]] == ["gladia/zz/stray.wav"]
    repaired = json.loads(
        _cli("--json", "migrate", "gladia", target, "--sandbox", "--repair").output
    )
    assert repaired["orphans_removed"] == 1
    assert repaired["repaired"] == 0
    assert not stray.exists()
    assert json.loads(_cli("--json", "verify", target).output)["ok"] is True


async def test_repair_needs_an_archive_destination(tmp_path: Path) -> None:
    from convoport import ConfigError

    archive = f"local:{tmp_path / 'a'}"
    await migrate("gladia", archive, sandbox=True, limit=2, backoff_base=0)
    with pytest.raises(ConfigError, match="repair"):
        await migrate(archive, "illocution", sandbox=True, repair=True)


def test_verify_says_what_it_checked(tmp_path: Path) -> None:
    target = f"local:{tmp_path / 'a'}"
    assert _cli("migrate", "gladia", target, "--sandbox").exit_code == 0
    result = _cli("verify", target)
    assert result.exit_code == 0
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("archive OK: ")
    assert " sessions, " in line
    assert " media files, " in line
    assert "re-hashed" in line
    data = json.loads(_cli("--json", "verify", target).output)
    assert data["sessions"] > 0
    assert data["checked"] > 0
    assert data["checked_bytes"] > 0


def test_the_table_splits_skips_by_reason_and_names_the_run(tmp_path: Path) -> None:
    target = f"local:{tmp_path / 'a'}"
    first = _cli("migrate", "gladia", target, "--sandbox")
    assert first.exit_code == 0
    assert "copied: gladia -> local" in first.output
    assert "skipped: not finished" in first.output
    again = _cli("migrate", "gladia", target, "--sandbox")
    assert "skipped: already copied" in again.output
    reprocess = _cli("migrate", target, "illocution", "--sandbox", "--limit", "1")
    assert reprocess.exit_code == 0, reprocess.output
    assert "re-processed: local -> illocution" in reprocess.output
    assert "\n  copied" not in reprocess.output


async def test_a_dry_run_of_unknown_sizes_says_so(tmp_path: Path) -> None:
    report = await migrate("gladia", f"local:{tmp_path / 'a'}", sandbox=True, dry_run=True)
    # Gladia's job carries no file size: a dry run cannot know it
    with_media = [o for o in report.outcomes if any(a.startswith("recording") for a in o.artifacts)]
    assert with_media
    assert report.bytes_unknown == len(with_media)
    assert all(o.bytes is None for o in with_media)


def test_the_dry_run_table_says_unknown(tmp_path: Path) -> None:
    result = _cli("migrate", "gladia", f"local:{tmp_path / 'b'}", "--sandbox", "--dry-run")
    assert result.exit_code == 0
    assert "dry run: gladia -> local" in result.output
    assert "unknown" in result.output
    assert "0 B" not in result.output
    assert "copy:" not in result.output


def test_session_attempts_and_request_attempts_are_named_apart() -> None:
    help_text = " ".join(_cli("migrate", "--help").output.split())
    assert "--session-attempts" in help_text
    assert "request attempt" in help_text
    source = (ROOT / "core" / "http.py").read_text(encoding="utf-8")
    assert "request attempt %d of %d" in source
    assert "session attempt %d of %d" in (ROOT / "core" / "migration.py").read_text("utf-8")


def test_off_a_terminal_there_are_no_bar_fragments(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["migrate", "gladia", f"local:{tmp_path / 'a'}", "--sandbox"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert not any(line.strip() in ("kB", "MB", "B") for line in lines)
    assert not any("/?" in line for line in lines)


def test_off_a_terminal_a_plain_line_now_and_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convoport.cli._progress import MigrationBars

    monkeypatch.setattr(MigrationBars, "PLAIN_EVERY", 0.0)
    result = CliRunner().invoke(cli, ["migrate", "gladia", f"local:{tmp_path / 'a'}", "--sandbox"])
    assert result.exit_code == 0
    plain = [line for line in result.output.splitlines() if line.startswith("migrate: ")]
    assert plain
    assert all(line.endswith(" moved") for line in plain)


@pytest.mark.parametrize("as_json", [True, False])
def test_an_interrupted_run_prints_its_partial_report(tmp_path: Path, as_json: bool) -> None:
    archive = tmp_path / "a"
    env = {
        **os.environ,
        "CONVOPORT_SANDBOX": "sessions=300,latency_ms=40",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "convoport"]
    if as_json:
        command.append("--json")
    command += ["migrate", "gladia", f"local:{archive}", "--sandbox", "--concurrency", "2"]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 60
    ledger = archive / "catalog.sqlite"
    while time.monotonic() < deadline and not ledger.exists():
        time.sleep(0.05)
    time.sleep(1.5)  # some sessions finish
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err
    if as_json:
        report = json.loads(out)
        assert report["interrupted"] is True
        assert report["copied"] == len([s for s in report["sessions"] if s["state"] == "copied"])
        assert report["copied"] > 0
    else:
        assert "(interrupted)" in out
        assert "copied" in out
    verified = subprocess.run(
        [sys.executable, "-m", "convoport", "--json", "verify", f"local:{archive}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = json.loads(verified.stdout)
    # Nothing half-written: what was committed is whole. At most the media of sessions being
    # copied at the interrupt is left, as orphans (files no session names).
    assert found["missing"] == found["corrupt"] == found["ledger_mismatches"] == []
    assert len(found["orphans"]) <= 2  # --concurrency 2


async def test_the_library_report_of_an_interrupted_run(tmp_path: Path) -> None:
    """Progress.migration_started hands out the live report; cancelling the run leaves the
    sessions that finished in it."""
    import anyio

    from convoport.migration import MigrationReport, Progress

    class Keep(Progress):
        report: MigrationReport | None = None

        def migration_started(self, report: MigrationReport) -> None:
            self.report = report

    keep = Keep()
    with anyio.move_on_after(0.5):
        await migrate(
            "gladia", f"local:{tmp_path / 'a'}", sandbox=True, progress=keep, concurrency=1
        )
    assert keep.report is not None
    async with connect(f"local:{tmp_path / 'a'}") as archive:
        stored = [s async for s in archive.list_sessions()]
        assert (await as_archive(archive.adapter).verify()).ok
    assert len(stored) >= keep.report.copied


async def test_an_archived_illocution_capture_is_found_by_date(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from convoport import SessionQuery
    from convoport.sandbox import make_wav, tone_pcm
    from convoport.wavfeed import stream_wav

    wav = make_wav(tone_pcm(seconds=1.0, sample_rate=16000), sample_rate=16000)

    async def chunks() -> Any:
        yield wav

    before = datetime.now(UTC) - timedelta(seconds=1)
    async with (
        connect("illocution", sandbox=True) as live,
        connect(f"local:{tmp_path / 'a'}", create=True) as archive,
    ):
        result = await stream_wav(live, chunks(), persist_to=archive)
        assert result.session.provider_data["client_observed"] == ["created_at", "ended_at"]
        found = [s async for s in archive.list_sessions(SessionQuery(created_after=before))]
        assert [s.id for s in found] == [result.session.id]
        assert found[0].created_at is not None
        assert found[0].created_at >= before
