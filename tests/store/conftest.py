"""Fixtures for the object-store media tests: moto's S3 server on loopback (a subprocess, one
per test session, started on first use) and a fresh bucket per test, with fake credentials and
the endpoint set in the environment for that test only (``monkeypatch``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from convoport.store.media import PART_SIZE_ENV
from tests.support import s3


@attrs.frozen
class S3Bucket:
    """A fresh bucket on the loopback server. ``url`` is an archive media root inside it."""

    endpoint: str
    bucket: str
    prefix: str = "archive-media"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def client(self) -> Any:
        """A boto3 client on the server (for what the archive does not do: ETags, uploads)."""
        return s3.boto_client(self.endpoint)

    def fs(self) -> Any:
        """A fresh s3fs filesystem on the server (no instance or listing cache)."""
        import s3fs  # type: ignore[import-untyped]

        return s3fs.S3FileSystem(
            endpoint_url=self.endpoint,
            key=s3.ACCESS_KEY,
            secret=s3.SECRET_KEY,
            skip_instance_cache=True,
            use_listings_cache=False,
        )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The session's moto server; skipped without moto/s3fs (failed with
    CONVOPORT_REQUIRE_SERVICES=1)."""
    s3.require_s3()
    with s3.moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Bucket:
    """A fresh bucket, and this test's environment pointing botocore/s3fs at the server."""
    for name, value in s3.s3_env(s3_endpoint).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", PART_SIZE_ENV):
        monkeypatch.delenv(name, raising=False)
    return S3Bucket(endpoint=s3_endpoint, bucket=s3.new_bucket(s3_endpoint))
