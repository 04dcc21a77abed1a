"""Fixtures of the Illocution adapter tests."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
