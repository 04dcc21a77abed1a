from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer

# Property tests are reproducible in CI: a fixed derivation of examples (no example database,
# no randomness between runs). HYPOTHESIS_PROFILE=random gives fresh examples for a longer run.
settings.register_profile("convoport", derandomize=True, database=None)
settings.register_profile("random", derandomize=False, database=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "convoport"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# PostgreSQL (tests/support/postgres.py, docs/testing.md): one server per session, started here
# from /usr/lib/postgresql/*/bin or taken from CONVOPORT_TEST_POSTGRES_URL; a fresh database per
# test. The support module is imported on first use, so a run without these tests stays light.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server; skipped if none (failed: CONVOPORT_REQUIRE_SERVICES=1)."""
    from tests.support import postgres

    chosen = postgres.plan(os.environ, postgres.find_bin_dir())
    if chosen.kind == "skip":
        pytest.skip(chosen.reason)
    if chosen.kind == "fail":
        pytest.fail(chosen.reason)
    with postgres.server(chosen) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """``postgresql://convoport:<password>@127.0.0.1:<port>/<fresh db>``, dropped after the test."""
    from tests.support.postgres import fresh_database

    with fresh_database(postgres_server) as url:
        yield url
