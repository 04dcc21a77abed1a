"""``convoport emulate``: a vendor emulator over a real socket, sized and degraded on request.

``convoport emulate gladia --sessions 10000 --seed 3 --latency 20 --error-rate 0.05`` serves
the Gladia emulator on ``http://127.0.0.1:8765`` with 10,000 seeded jobs, 20 ms added to every
answer and 5 % of them 503s, so a migration (or the vendor's own SDK) can be rehearsed against
a fake vendor before the real one. The settings start from ``CONVOPORT_SANDBOX`` (see
:class:`convoport.sandbox.HarnessSettings`); each option overrides its key. A bad value is one
error line and exit code 2.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convoport.cli._app import State, cli
from convoport.errors import ConfigError

if TYPE_CHECKING:
    from convoport.sandbox import HarnessSettings

#: option name -> HarnessSettings key
_SETTINGS = {
    "sessions": "sessions",
    "seed": "seed",
    "latency": "latency_ms",
    "error_rate": "error_rate",
    "drop_rate": "drop_rate",
    "rate_limit": "rate_limit",
    "retry_after": "retry_after",
}


def emulator_settings(values: dict[str, str | None]) -> HarnessSettings:
    """The :class:`~convoport.sandbox.HarnessSettings` for ``convoport emulate``:
    ``CONVOPORT_SANDBOX``, then each option given (by option name, as typed)."""
    from convoport.sandbox import HarnessSettings

    settings = HarnessSettings.from_env()
    for option, raw in values.items():
        if raw is None:
            continue
        key = _SETTINGS[option]
        flag = "--" + option.replace("_", "-")
        if not raw.strip() or any(c in raw for c in ", ="):
            raise ConfigError(f"{flag}: expected one value, got {raw!r}")
        parsed = HarnessSettings.parse(f"{key}={raw.strip()}", source=flag)
        try:
            settings = settings.merged(**{key: getattr(parsed, key)})
        except ConfigError as exc:
            raise ConfigError(f"{flag}: {exc}") from None
    return settings


@cli.command("emulate")
@click.argument("provider")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--sessions", metavar="N", help="Seeded sessions (Gladia default: 36).")
@click.option("--seed", metavar="N", help="Seed of the seeded data and of the faults.")
@click.option("--latency", metavar="MS", help="Milliseconds added to every REST answer.")
@click.option("--error-rate", metavar="R", help="Fraction (0..1) of REST answers that are 503.")
@click.option("--drop-rate", metavar="R", help="Fraction of REST requests dropped unanswered.")
@click.option("--rate-limit", metavar="R", help="Fraction answered 429 with Retry-After.")
@click.option("--retry-after", metavar="S", help="Seconds a 429 asks to wait (default 1).")
@click.pass_obj
def emulate_command(
    state: State,
    provider: str,
    host: str,
    port: int,
    sessions: str | None,
    seed: str | None,
    latency: str | None,
    error_rate: str | None,
    drop_rate: str | None,
    rate_limit: str | None,
    retry_after: str | None,
) -> None:
    """Serve a vendor emulator over a real socket (for any HTTP client or the vendor's SDK)."""
    from convoport.adapter import load_object
    from convoport.connect import adapter_class
    from convoport.sandbox import EmulatorHarness, SocketDrops, quiet_dropped_connections

    settings = emulator_settings(
        {
            "sessions": sessions,
            "seed": seed,
            "latency": latency,
            "error_rate": error_rate,
            "drop_rate": drop_rate,
            "rate_limit": rate_limit,
            "retry_after": retry_after,
        },
    )
    cls = adapter_class(provider)
    if cls.emulator is None:
        raise ConfigError(f"{provider} has no emulator")
    harness_class = load_object(cls.emulator)
    if not (isinstance(harness_class, type) and issubclass(harness_class, EmulatorHarness)):
        raise ConfigError(
            f"{provider}'s emulator {cls.emulator} is not an EmulatorHarness",
            hint="subclass convoport.sandbox.EmulatorHarness in the emulator module",
        )
    if sessions is not None and harness_class.default_sessions == 0:
        raise ConfigError(
            f"--sessions: the {provider} emulator seeds no sessions (it keeps no catalog)"
        )
    try:
        import uvicorn
    except ImportError:
        raise ConfigError("convoport emulate needs uvicorn", hint="pip install uvicorn") from None
    harness = harness_class.from_settings(settings)
    options = harness.connect_options()
    credentials = ", ".join(f"{k}={v}" for k, v in options.items() if k != "base_url")
    described = settings.as_text()
    state.err.print(
        f"{provider} emulator on http://{host}:{port}  (credentials: {credentials}"
        + (f"; {described}" if described else "")
        + ")",
        markup=False,
    )
    quiet_dropped_connections()
    uvicorn.run(SocketDrops(harness.app), host=host, port=port, log_level="warning")
    sys.exit(0)


__all__ = ["emulate_command", "emulator_settings"]
