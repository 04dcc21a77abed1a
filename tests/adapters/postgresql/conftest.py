"""The PostgreSQL archive's fixtures: the same names as the local archive's (``client``,
``adapter``, ``media_root``), so the local archive's backend-neutral tests run here too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import convoport
from convoport.adapters.postgresql.adapter import PostgresAdapter

from ..local._helpers import memory_root


@pytest.fixture(params=["folder", "memory"])
def media_root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A media folder, or a fresh memory:// root."""
    return str(tmp_path / "media") if request.param == "folder" else memory_root()


@pytest.fixture
async def client(postgres_url: str, media_root: str) -> AsyncIterator[convoport.AsyncClient]:
    async with convoport.connect(postgres_url, media_root=media_root, create=True) as c:
        yield c


@pytest.fixture
def adapter(client: convoport.AsyncClient) -> PostgresAdapter:
    assert isinstance(client.adapter, PostgresAdapter)
    return client.adapter
