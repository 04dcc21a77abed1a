"""``convoport emulate`` sized and degraded from the command line, over a real socket."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from convoport.cli import cli
from tests.support.emulate import emulate

KEY = {"x-gladia-key": "sandbox-key"}


def test_sessions_and_seed() -> None:
    with emulate("gladia", "--sessions", "7", "--seed", "3") as base:
        listed = httpx.get(f"{base}/v2/live?limit=100", headers=KEY, timeout=10).json()
    assert len(listed["items"]) == 7
    assert listed["next"] is None
    from convoport.adapters.gladia.emulator import GladiaEmulator

    expected = [j.id for j in GladiaEmulator(jobs=7, seed=3).jobs()]
    assert sorted(i["id"] for i in listed["items"]) == sorted(expected)


def test_rate_limit_answers_429_with_retry_after() -> None:
    with emulate("gladia", "--rate-limit", "1.0", "--retry-after", "2") as base:
        answer = httpx.get(f"{base}/v2/live", headers=KEY, timeout=10)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["statusCode"] == 429  # Gladia's error body


def test_drop_rate_closes_the_connection_and_errors_are_gladia_bodies() -> None:
    with emulate("gladia", "--drop-rate", "1.0") as base, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{base}/v2/live", headers=KEY, timeout=10)
    with emulate("gladia", "--error-rate", "1", "--latency", "5") as base:
        answer = httpx.get(f"{base}/v2/live", headers=KEY, timeout=10)
    assert answer.status_code == 503
    assert answer.json()["message"] == "Internal server error"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sessions", "many"], "--sessions: sandbox setting sessions must be a whole number"),
        (["--sessions", "-2"], "--sessions: sandbox setting sessions must be a whole number >= 0"),
        (["--error-rate", "2"], "--error-rate: sandbox setting error_rate must be between 0 and 1"),
        (["--latency", "soon"], "--latency: sandbox setting latency_ms must be a number"),
        (["--drop-rate", "0.6", "--rate-limit", "0.6"], "must not exceed 1"),
        (["--seed", "1,2"], "--seed: expected one value"),
    ],
)
def test_bad_values_are_one_clear_line(options: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["emulate", "gladia", *options])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("convoport: error: ")
    assert message in lines[0]


def test_sessions_for_an_emulator_without_a_catalog() -> None:
    result = CliRunner().invoke(cli, ["emulate", "illocution", "--sessions", "3"])
    assert result.exit_code == 2
    assert "seeds no sessions" in result.stderr
