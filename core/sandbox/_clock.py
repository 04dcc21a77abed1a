"""The emulators' controllable clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from convoport.errors import ConfigError


class SandboxClock:
    """Wall-clock UTC time an emulator reads (``now()``), which a test can freeze and step.

    * running (the default): ``now()`` is the real time plus everything :meth:`advance` added;
    * frozen at ``start`` (``SandboxClock(start=...)`` or :meth:`freeze`): ``now()`` is
      ``start`` plus what :meth:`advance` added, and then moves by ``step`` after each call
      (``step`` zero: it moves only when told), so recordings made against an emulator are
      reproducible.

    Times are timezone-aware UTC datetimes; ``advance`` takes seconds (float).
    """

    def __init__(self, start: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        if start is not None and start.tzinfo is None:
            raise ConfigError("the sandbox clock needs a timezone-aware datetime")
        self._start = start
        self._step = step
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    @property
    def frozen(self) -> bool:
        """Whether the clock only moves when told (or by ``step``)."""
        return self._start is not None

    def now(self) -> datetime:
        """The current emulated time."""
        with self._lock:
            if self._start is None:
                return datetime.now(UTC) + self._offset
            moment = self._start + self._offset
            self._offset += self._step
            return moment

    def advance(self, seconds: float) -> None:
        """Moves the clock forward by ``seconds``."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def freeze(self, at: datetime | None = None, *, step: timedelta = timedelta(0)) -> None:
        """Stops the clock at ``at`` (default: now), moving by ``step`` per reading."""
        moment = at or self.now()
        if moment.tzinfo is None:
            raise ConfigError("the sandbox clock needs a timezone-aware datetime")
        with self._lock:
            self._start = moment
            self._step = step
            self._offset = timedelta(0)

    def resume(self) -> None:
        """Lets the clock run with real time again (keeping what :meth:`advance` added)."""
        with self._lock:
            self._start = None
            self._step = timedelta(0)


__all__ = ["SandboxClock"]
