import os

import pytest
from hypothesis import settings

# Property tests are reproducible in CI: a fixed derivation of examples (no example database,
# no randomness between runs). HYPOTHESIS_PROFILE=random gives fresh examples for a longer run.
settings.register_profile("convoport", derandomize=True, database=None)
settings.register_profile("random", derandomize=False, database=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "convoport"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
