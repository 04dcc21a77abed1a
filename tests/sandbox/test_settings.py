"""HarnessSettings: parsing, the environment variable, clear errors, and what they drive."""

from __future__ import annotations

import pytest

import convoport
from convoport.errors import ConfigError
from convoport.sandbox import SANDBOX_ENV, HarnessSettings


def test_parse_reads_every_key() -> None:
    settings = HarnessSettings.parse(
        "sessions=200,latency_ms=20, error_rate=0.05 drop_rate=0.01,rate_limit=0.1,"
        "seed=9,retry_after=2"
    )
    assert settings == HarnessSettings(
        sessions=200,
        latency_ms=20.0,
        error_rate=0.05,
        drop_rate=0.01,
        rate_limit=0.1,
        seed=9,
        retry_after=2.0,
    )
    assert HarnessSettings.parse("") == HarnessSettings()
    assert HarnessSettings.parse(settings.as_text()) == settings


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HarnessSettings.from_env({}) == HarnessSettings()
    assert HarnessSettings.from_env({SANDBOX_ENV: "sessions=3"}).sessions == 3
    monkeypatch.setenv(SANDBOX_ENV, "seed=5")
    assert HarnessSettings.from_env().seed == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sesions=3", "unknown sandbox setting 'sesions'"),
        ("sessions", "'sessions' is not key=value"),
        ("sessions=many", "sessions must be a whole number, got 'many'"),
        ("sessions=-1", "sessions must be a whole number >= 0"),
        ("sessions=2.5", "sessions must be a whole number"),
        ("error_rate=1.5", "error_rate must be between 0 and 1"),
        ("drop_rate=x", "drop_rate must be a number, got 'x'"),
        ("latency_ms=-3", "latency_ms must be a number >= 0"),
        ("latency_ms=inf", "latency_ms must be finite"),
        ("rate_limit=nan", "rate_limit must be finite"),
        ("seed=1,seed=2", "'seed' is given twice"),
        ("error_rate=0.6,rate_limit=0.6", "must not exceed 1"),
    ],
)
def test_bad_settings_name_the_key_and_the_variable(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        HarnessSettings.parse(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{SANDBOX_ENV}: ")


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known settings: sessions, seed, latency_ms"):
        HarnessSettings.parse("users=3")


def test_bad_values_in_code_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="error_rate"):
        HarnessSettings(error_rate=2.0)
    with pytest.raises(ConfigError, match="sessions"):
        HarnessSettings(sessions=True)
    with pytest.raises(ConfigError, match="seed"):
        HarnessSettings(seed="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown sandbox setting 'users'"):
        HarnessSettings().merged(users=1)


def test_merged_ignores_none_and_faults_follow_the_settings() -> None:
    base = HarnessSettings(sessions=5, latency_ms=20, error_rate=0.1, rate_limit=0.2)
    assert base.merged(sessions=None, seed=3) == HarnessSettings(
        sessions=5, latency_ms=20, error_rate=0.1, rate_limit=0.2, seed=3
    )
    faults = base.faults(default_seed=11)
    assert (faults.latency, faults.error_rate, faults.rate_limit_rate, faults.seed) == (
        0.02,
        0.1,
        0.2,
        11,
    )
    assert faults.retry_after == 1.0
    assert HarnessSettings(seed=4).faults(default_seed=11).seed == 4


def test_sandbox_connect_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SANDBOX_ENV, "sessions=7,seed=3")

    async def count() -> int:
        async with convoport.connect("gladia", sandbox=True) as client:
            return len([s async for s in client.list_sessions(limit=100)])

    import asyncio

    assert asyncio.run(count()) == 7
    monkeypatch.setenv(SANDBOX_ENV, "sessions=lots")
    with pytest.raises(ConfigError, match=f"{SANDBOX_ENV}: sandbox setting sessions"):
        convoport.connect("gladia", sandbox=True)


def test_sandbox_connect_takes_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SANDBOX_ENV, "sessions=lots")  # explicit settings win over the variable

    async def count() -> int:
        settings = HarnessSettings(sessions=4, rate_limit=0.0)
        async with convoport.connect("gladia", sandbox=settings) as client:
            return len([s async for s in client.list_sessions(limit=100)])

    import asyncio

    assert asyncio.run(count()) == 4
