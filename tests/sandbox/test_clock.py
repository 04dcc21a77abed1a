"""The controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from convoport.errors import ConfigError
from convoport.sandbox import SandboxClock

START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def test_running_clock_follows_real_time_plus_advances() -> None:
    clock = SandboxClock()
    assert not clock.frozen
    before = datetime.now(UTC)
    clock.advance(3600)
    assert clock.now() >= before + timedelta(hours=1)
    assert clock.now().tzinfo is not None


def test_frozen_clock_moves_only_when_told_or_by_its_step() -> None:
    clock = SandboxClock(START)
    assert clock.frozen
    assert clock.now() == clock.now() == START
    clock.advance(1.5)
    assert clock.now() == START + timedelta(seconds=1.5)
    stepping = SandboxClock(START, step=timedelta(milliseconds=37))
    assert [stepping.now() for _ in range(3)] == [
        START,
        START + timedelta(milliseconds=37),
        START + timedelta(milliseconds=74),
    ]


def test_freeze_and_resume() -> None:
    clock = SandboxClock()
    clock.freeze(START)
    assert clock.now() == START
    clock.resume()
    assert clock.now().year >= 2024
    with pytest.raises(ConfigError, match="timezone-aware"):
        SandboxClock(datetime(2026, 1, 1))
