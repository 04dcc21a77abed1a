"""Shared fixtures of the contract-kit tests."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
