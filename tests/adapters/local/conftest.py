from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import fsspec  # type: ignore[import-untyped]
import pytest

import convoport
from convoport.adapters.local.adapter import LocalAdapter

from ._helpers import memory_root


@pytest.fixture(params=["folder", "memory"])
def media_root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the default <archive>/media folder) or a fresh memory:// root."""
    if request.param == "folder":
        yield None
        return
    root = memory_root()
    yield root
    fs, path = fsspec.core.url_to_fs(root)
    if fs.exists(path.rsplit("/", 1)[0]):
        fs.rm(path.rsplit("/", 1)[0], recursive=True)


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
async def client(
    archive_path: Path, media_root: str | None
) -> AsyncIterator[convoport.AsyncClient]:
    async with convoport.connect(f"local:{archive_path}", media_root=media_root, create=True) as c:
        yield c


@pytest.fixture
def adapter(client: convoport.AsyncClient) -> LocalAdapter:
    assert isinstance(client.adapter, LocalAdapter)
    return client.adapter
