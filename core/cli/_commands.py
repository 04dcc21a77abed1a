"""``convoport emulate``: a vendor emulator over a real socket.

(The other command groups live in their own modules: ``_sessions``, ``_recording``,
``_migrate``, ``_live``.)
"""

from __future__ import annotations

import sys

import click

from convoport.cli._app import State, cli
from convoport.errors import ConfigError

# -- emulate ------------------------------------------------------------------------------------


@cli.command("emulate")
@click.argument("provider")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.pass_obj
def emulate_command(state: State, provider: str, host: str, port: int) -> None:
    """Serve a vendor emulator over a real socket (for any HTTP client or the vendor's SDK)."""
    from convoport.adapter import load_object
    from convoport.connect import adapter_class

    cls = adapter_class(provider)
    if cls.emulator is None:
        raise ConfigError(f"{provider} has no emulator")
    try:
        import uvicorn
    except ImportError:
        raise ConfigError("convoport emulate needs uvicorn", hint="pip install uvicorn") from None
    harness = load_object(cls.emulator)()
    options = harness.connect_options()
    state.err.print(
        f"{provider} emulator on http://{host}:{port}  "
        f"(credentials: {', '.join(f'{k}={v}' for k, v in options.items() if k != 'base_url')})",
        markup=False,
    )
    uvicorn.run(harness.app, host=host, port=port, log_level="warning")
    sys.exit(0)
