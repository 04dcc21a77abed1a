"""End to end through the command line, against the sandbox emulators."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import webvtt
from click.testing import CliRunner

from convoport.cli import cli
from convoport.sandbox import make_wav, tone_pcm
from tests.support.cli import as_json, invoke
from tests.support.emulate import emulate


@pytest.fixture(scope="module")
def gladia_sessions() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = as_json(
        invoke("sessions", "list", "gladia", "--sandbox", "--json", "--limit", "100")
    )
    return data


def first_completed(sessions: list[dict[str, Any]]) -> str:
    return str(next(s["id"] for s in sessions if s["status"] == "completed"))


def test_sessions_list_and_filters(gladia_sessions: list[dict[str, Any]]) -> None:
    assert len(gladia_sessions) >= 30
    assert len({s["id"] for s in gladia_sessions}) == len(gladia_sessions)
    done = as_json(
        invoke("sessions", "list", "gladia", "--sandbox", "--json", "--status", "completed")
    )
    assert done
    assert all(s["status"] == "completed" for s in done)
    table = invoke("sessions", "list", "gladia", "--sandbox", "--limit", "3")
    assert table.exit_code == 0
    assert "3 sessions" in table.stdout


def test_sessions_show(gladia_sessions: list[dict[str, Any]]) -> None:
    sid = first_completed(gladia_sessions)
    shown = as_json(invoke("sessions", "show", "gladia", sid, "--sandbox", "--json"))
    assert shown["id"] == sid
    assert shown["provider"] == "gladia"
    assert invoke("sessions", "show", "gladia", sid, "--sandbox").exit_code == 0


def test_transcript_as_webvtt(gladia_sessions: list[dict[str, Any]], tmp_path: Path) -> None:
    sid = first_completed(gladia_sessions)
    out = tmp_path / "t.vtt"
    result = invoke("transcript", "gladia", sid, "--sandbox", "--format", "vtt", "-o", str(out))
    assert result.exit_code == 0, result.output
    captions = webvtt.read(str(out))
    assert len(captions.captions) > 0
    assert all(c.text.strip() for c in captions.captions)
    assert "<v channel 0>" in out.read_text()


def test_recording_download(gladia_sessions: list[dict[str, Any]], tmp_path: Path) -> None:
    sid = first_completed(gladia_sessions)
    out = tmp_path / "audio.wav"
    info = as_json(
        invoke("recording", "download", "gladia", sid, "--sandbox", "-o", str(out), "--json")
    )
    data = out.read_bytes()
    assert data[:4] == b"RIFF"
    assert info["size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert not (tmp_path / "audio.wav.part").exists()


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    path = tmp_path / "call.wav"
    path.write_bytes(make_wav(tone_pcm(3.0, sample_rate=16000, silence_every=1.0)))
    return path


@pytest.mark.parametrize("provider", ["gladia", "illocution"])
def test_live_streams_a_wav_and_prints_events(provider: str, wav_file: Path) -> None:
    result = invoke("live", provider, str(wav_file), "--sandbox", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    kinds = [e["type"] for e in events]
    assert "final" in kinds
    assert kinds[-1] == "done"
    human = invoke("live", provider, str(wav_file), "--sandbox")
    assert human.exit_code == 0, human.output
    assert "completed" in human.stdout


def test_migrate_dry_run_then_real_then_verify(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    dry = as_json(
        invoke("migrate", "gladia", f"local:{archive}", "--sandbox", "--dry-run", "--json")
    )
    assert dry["planned"] > 0
    assert dry["copied"] == 0
    report = as_json(invoke("migrate", "gladia", f"local:{archive}", "--sandbox", "--json"))
    assert report["copied"] == dry["planned"]
    assert report["failed"] == 0
    table = invoke("migrate", "gladia", f"local:{archive}", "--sandbox")
    assert table.exit_code == 0
    assert "skipped" in table.stdout
    verified = as_json(invoke("verify", str(archive), "--json"))
    assert verified["ok"] is True
    listed = as_json(invoke("sessions", "list", f"local:{archive}", "--json"))
    assert len(listed) == report["copied"]


def test_verify_reports_a_corrupt_file(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    as_json(invoke("migrate", "gladia", f"local:{archive}", "--sandbox", "--limit", "3", "--json"))
    media = [p for p in (archive / "media").rglob("*") if p.is_file()]
    assert media
    data = bytearray(media[0].read_bytes())
    data[-1] ^= 0xFF
    media[0].write_bytes(bytes(data))
    result = invoke("verify", str(archive))
    assert result.exit_code == 1
    assert "corrupt" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("sessions", "show", "gladia", "nope-nope", "--sandbox"), 1, "not found"),
        (("sessions", "list", "nosuchvendor"), 2, "unknown provider 'nosuchvendor'"),
        (("sessions", "list", "illocution", "--sandbox"), 3, "does not support catalog.list"),
        (("sessions", "list", "gladia", "--sandbox", "--since", "yesterday"), 2, "ISO 8601"),
        (("transcript", "local:/definitely/not/here", "x:y"), 2, "no archive at"),
        (("verify", "/definitely/not/here"), 2, "no archive"),
    ],
)
def test_errors_are_one_line_with_meaningful_exit_codes(
    args: tuple[str, ...], code: int, text: str
) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("convoport: error:")
    assert text.lower() in lines[0].lower()


@pytest.mark.parametrize(
    ("provider", "method", "path", "headers"),
    [
        ("gladia", "GET", "/v2/live?limit=2", {"x-gladia-key": "sandbox-key"}),
        ("illocution", "POST", "/analyze/live/start", {"x-api-key": "sandbox-key"}),
        ("murmur", "GET", "/v1/calls?limit=2", {"authorization": "Bearer sandbox-token"}),
    ],
)
def test_emulate_serves_over_a_real_socket(
    provider: str, method: str, path: str, headers: dict[str, str]
) -> None:
    with emulate(provider) as base:
        response = httpx.request(
            method,
            f"{base}{path}",
            headers=headers,
            timeout=5,
            json={"filename": "x.wav"} if method == "POST" else None,
        )
        assert response.status_code in (200, 201), response.text
        assert response.json()
        denied = httpx.request(method, f"{base}{path}", timeout=5)
        assert denied.status_code == 401


def test_live_illocution_into_an_archive(wav_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "live-archive"
    result = invoke(
        "live", "illocution", str(wav_file), "--sandbox", "--archive", f"local:{archive}"
    )
    assert result.exit_code == 0, result.output
    listed = as_json(invoke("sessions", "list", f"local:{archive}", "--json"))
    assert len(listed) == 1
    ref = f"{listed[0]['provider']}:{listed[0]['id']}"
    assert listed[0]["provider"] == "illocution"
    assert listed[0]["status"] == "completed"
    text = invoke("transcript", f"local:{archive}", ref)
    assert text.exit_code == 0
    assert text.stdout.strip()
    out = tmp_path / "back.wav"
    invoke("recording", "download", f"local:{archive}", ref, "-o", str(out))
    assert out.read_bytes() == wav_file.read_bytes()
    assert as_json(invoke("verify", str(archive), "--json"))["ok"] is True
