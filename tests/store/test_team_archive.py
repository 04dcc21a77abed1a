"""The team archive end to end through the CLI: the catalog on PostgreSQL, the media on S3
(moto's server on loopback): migrate, list, read a transcript back, verify, repair, and a
local archive moved into it with ``archive copy``."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from ..support.cli import as_json, invoke
from .conftest import S3Bucket


def test_migrate_into_postgresql_with_media_on_s3(
    postgres_url: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    password = str(sa.make_url(postgres_url).password)
    migrated = invoke(
        "--json", "migrate", "gladia", postgres_url, "--media", s3_bucket.url, "--sandbox"
    )
    report = as_json(migrated)
    assert report["failed"] == 0
    assert report["copied"] > 0
    assert password not in migrated.output
    objects = s3_bucket.fs().find(f"{s3_bucket.bucket}/{s3_bucket.prefix}")
    assert len(objects) == sum(
        1 for s in report["sessions"] if any(a.startswith("recording") for a in s["artifacts"])
    )
    # the archive remembers its media: later commands need only the URL
    listed = as_json(invoke("--json", "sessions", "list", postgres_url))
    assert len(listed) == report["copied"]
    ref = next(s["ref"] for s in report["sessions"] if "transcript" in s["artifacts"])
    text = invoke("transcript", postgres_url, ref, "--format", "txt")
    assert text.exit_code == 0, text.output
    assert text.output.strip()
    verified = invoke("--json", "verify", postgres_url)
    data = as_json(verified)
    assert data["ok"] is True
    assert data["checked"] == len(objects)
    # an object damaged on S3 is found, and repaired from the source
    victim = objects[0]
    s3_bucket.fs().pipe_file(victim, b"not the audio")
    broken = invoke("--json", "verify", postgres_url)
    assert broken.exit_code != 0
    assert json.loads(broken.stdout)["ok"] is False
    repaired = as_json(invoke("--json", "migrate", "gladia", postgres_url, "--repair", "--sandbox"))
    assert repaired["repaired"] == 1, json.dumps(repaired)[:3000]
    assert as_json(invoke("--json", "verify", postgres_url))["ok"] is True
    assert password not in broken.output + verified.output


def test_a_local_archive_moves_to_postgresql_and_s3(
    postgres_url: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    embedded = tmp_path / "embedded"
    assert (
        invoke("migrate", "gladia", f"local:{embedded}", "--sandbox", "--limit", "6").exit_code == 0
    )
    moved = as_json(
        invoke("--json", "archive", "copy", str(embedded), postgres_url, "--media", s3_bucket.url)
    )
    assert moved["checksums_equal"] is True
    assert moved["sessions"] == 6
    assert moved["recordings"] == len(s3_bucket.fs().find(f"{s3_bucket.bucket}/{s3_bucket.prefix}"))
