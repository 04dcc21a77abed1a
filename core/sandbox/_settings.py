"""Sizing and degrading an emulator: :class:`HarnessSettings`, from code, a string or the
``CONVOPORT_SANDBOX`` environment variable."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from convoport.errors import ConfigError
from convoport.sandbox._faults import Faults

#: The environment variable ``connect(..., sandbox=True)`` reads settings from.
SANDBOX_ENV = "CONVOPORT_SANDBOX"


def _rate(name: str) -> Callable[[Any, Any, float], None]:
    def check(_: Any, __: Any, value: float) -> None:
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise ConfigError(f"sandbox setting {name} must be between 0 and 1, got {value!r}")

    return check


def _non_negative(name: str, *, whole: bool = False) -> Callable[[Any, Any, float | None], None]:
    kind = (int,) if whole else (int, float)
    expected = "a whole number" if whole else "a number"

    def check(_: Any, __: Any, value: float | None) -> None:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, kind)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ConfigError(f"sandbox setting {name} must be {expected} >= 0, got {value!r}")

    return check


@attrs.frozen(kw_only=True)
class HarnessSettings:
    """How big and how unreliable an emulator is. Every field has a default that means
    "as the emulator ships" (``None``: the emulator's own default).

    * ``sessions`` — how many sessions an emulator with a catalog seeds (Gladia: 36); ignored
      by emulators without one (Illocution has no read-back API);
    * ``seed`` — the seed of the seeded data and of the fault RNG (same seed, same data);
    * ``latency_ms`` — milliseconds added before every REST answer;
    * ``error_rate`` — fraction (0..1) of REST requests answered 503 in the vendor's error body;
    * ``drop_rate`` — fraction of REST requests whose connection is dropped unanswered;
    * ``rate_limit`` — fraction answered 429 with ``Retry-After: retry_after``;
    * ``retry_after`` — the seconds a 429 asks the client to wait (default 1).

    The three fractions add up to at most 1. ``ConfigError`` on any bad value.
    """

    sessions: int | None = attrs.field(
        default=None, validator=_non_negative("sessions", whole=True)
    )
    seed: int | None = None
    latency_ms: float = attrs.field(default=0.0, validator=_non_negative("latency_ms"))
    error_rate: float = attrs.field(default=0.0, validator=_rate("error_rate"))
    drop_rate: float = attrs.field(default=0.0, validator=_rate("drop_rate"))
    rate_limit: float = attrs.field(default=0.0, validator=_rate("rate_limit"))
    retry_after: float = attrs.field(default=1.0, validator=_non_negative("retry_after"))

    #: The keys :meth:`parse` accepts, with their types.
    KEYS: ClassVar[Mapping[str, type]] = {
        "sessions": int,
        "seed": int,
        "latency_ms": float,
        "error_rate": float,
        "drop_rate": float,
        "rate_limit": float,
        "retry_after": float,
    }

    def __attrs_post_init__(self) -> None:
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ConfigError(f"sandbox setting seed must be a whole number, got {self.seed!r}")
        total = self.error_rate + self.drop_rate + self.rate_limit
        if total > 1.0 + 1e-9:
            raise ConfigError(
                "sandbox settings error_rate + drop_rate + rate_limit must not exceed 1 "
                f"(got {total:g})"
            )

    @classmethod
    def parse(cls, text: str, *, source: str = SANDBOX_ENV) -> HarnessSettings:
        """Reads ``"sessions=200,latency_ms=20,error_rate=0.05"`` (comma- or
        space-separated ``key=value`` pairs; an empty string is the defaults). ``source``
        names where the text came from in error messages."""
        values: dict[str, Any] = {}
        for item in text.replace(",", " ").split():
            key, sep, raw = item.partition("=")
            key = key.strip().lower().replace("-", "_")
            if not sep or not key:
                raise ConfigError(
                    f"{source}: {item!r} is not key=value",
                    hint="e.g. CONVOPORT_SANDBOX='sessions=200,latency_ms=20,error_rate=0.05'",
                )
            kind = cls.KEYS.get(key)
            if kind is None:
                raise ConfigError(
                    f"{source}: unknown sandbox setting {key!r}",
                    hint="known settings: " + ", ".join(cls.KEYS),
                )
            if key in values:
                raise ConfigError(f"{source}: sandbox setting {key!r} is given twice")
            values[key] = _convert(source, key, raw.strip(), kind)
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HarnessSettings:
        """The settings in ``CONVOPORT_SANDBOX`` (the defaults when it is unset or empty)."""
        environ = os.environ if env is None else env
        return cls.parse(environ.get(SANDBOX_ENV, ""), source=SANDBOX_ENV)

    def merged(self, **changes: Any) -> HarnessSettings:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        unknown = set(changes) - set(self.KEYS)
        if unknown:
            raise ConfigError(
                f"unknown sandbox setting {sorted(unknown)[0]!r}",
                hint="known settings: " + ", ".join(self.KEYS),
            )
        return attrs.evolve(self, **{k: v for k, v in changes.items() if v is not None})

    def faults(self, *, default_seed: int) -> Faults:
        """The :class:`Faults` these settings describe (seeded with ``seed``, else
        ``default_seed``)."""
        return Faults(
            latency=self.latency_ms / 1000.0,
            error_rate=self.error_rate,
            drop_rate=self.drop_rate,
            rate_limit_rate=self.rate_limit,
            retry_after=self.retry_after,
            seed=default_seed if self.seed is None else self.seed,
        )

    def as_text(self) -> str:
        """The settings that differ from the defaults, in :meth:`parse`'s syntax."""
        default = HarnessSettings()
        return ",".join(
            f"{key}={getattr(self, key)}"
            for key in self.KEYS
            if getattr(self, key) != getattr(default, key)
        )


def _convert(source: str, key: str, raw: str, kind: type) -> Any:
    try:
        if kind is int:
            return int(raw)
        value = float(raw)
    except ValueError:
        expected = "a whole number" if kind is int else "a number"
        raise ConfigError(
            f"{source}: sandbox setting {key} must be {expected}, got {raw!r}"
        ) from None
    if not math.isfinite(value):
        raise ConfigError(f"{source}: sandbox setting {key} must be finite, got {raw!r}")
    return value


__all__ = ["SANDBOX_ENV", "HarnessSettings"]
