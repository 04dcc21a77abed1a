"""``convoport archive copy``: an embedded archive moved into a PostgreSQL one (or another
local one) with nothing lost and checksums equal, idempotent on a rerun, refusing what is not
an archive — and the PostgreSQL password never on the terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import convoport
from convoport.archive import as_archive
from convoport.migration import migrate

from ..support.cli import as_json, invoke


def _password(url: str) -> str:
    return str(sa.make_url(url).password)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local archive of the Gladia sandbox, with one re-processed transcript added."""
    folder = tmp_path_factory.mktemp("embedded") / "archive"
    report = asyncio.run(migrate("gladia", f"local:{folder}", sandbox=True, limit=8))
    assert report.copied == 8
    return folder


async def _inventory(target: str) -> dict[str, object]:
    async with convoport.connect(target) as archive:
        adapter = as_archive(archive.adapter)
        sessions = {str(s.ref): s async for s in archive.list_sessions()}
        return {
            "sessions": sessions,
            "transcripts": {ref: await adapter.list_transcripts(ref) for ref in sessions},
            "media": await adapter.media_checksums(),
        }


def test_local_to_postgresql_with_nothing_lost(
    embedded: Path, postgres_url: str, tmp_path: Path
) -> None:
    media = tmp_path / "team-media"
    result = invoke("--json", "archive", "copy", str(embedded), postgres_url, "--media", str(media))
    data = as_json(result)
    assert data["checksums_equal"] is True
    assert data["problems"] == []
    assert data["sessions"] == 8
    assert data["migration"]["copied"] == 8
    assert data["recordings"] > 0
    assert _password(postgres_url) not in result.output
    source = asyncio.run(_inventory(f"local:{embedded}"))
    assert asyncio.run(_inventory(postgres_url)) == source
    again = as_json(invoke("--json", "archive", "copy", f"local:{embedded}", postgres_url))
    assert again["migration"]["copied"] == 0
    assert again["migration"]["skipped_by_reason"] == {"already copied": 8}
    assert again["checksums_equal"] is True
    listed = invoke("sessions", "list", postgres_url)
    assert listed.exit_code == 0, listed.output
    assert "8 sessions" in listed.output
    assert _password(postgres_url) not in listed.output


def test_the_table_says_the_checksums_are_equal(embedded: Path, tmp_path: Path) -> None:
    result = invoke("archive", "copy", str(embedded), str(tmp_path / "copy"))
    assert result.exit_code == 0, result.output
    assert "checksums equal" in result.output
    assert "yes" in result.output


def test_a_damaged_destination_is_reported(embedded: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    assert invoke("archive", "copy", str(embedded), str(target)).exit_code == 0
    victim = next(p for p in (target / "media").rglob("*") if p.is_file())
    victim.write_bytes(b"not the audio")
    result = invoke("--json", "archive", "copy", str(embedded), str(target))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["checksums_equal"] is False
    assert any("corrupt" in p for p in data["problems"])


def test_only_archives_are_copied(tmp_path: Path) -> None:
    result = invoke("archive", "copy", "gladia:x", str(tmp_path / "copy"))
    assert result.exit_code != 0
    assert "not an archive" in result.output


def test_the_password_is_masked_on_the_terminal(postgres_url: str, tmp_path: Path) -> None:
    password = _password(postgres_url)
    wrong = sa.make_url(postgres_url).set(password="wrong-pw-123")
    shown = wrong.render_as_string(hide_password=False)
    result = invoke("sessions", "list", shown)
    assert result.exit_code != 0
    assert "wrong-pw-123" not in result.output
    assert password not in result.output
    assert invoke("archive", "copy", str(tmp_path / "nowhere"), postgres_url).exit_code != 0
