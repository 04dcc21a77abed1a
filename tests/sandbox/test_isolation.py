"""``--sandbox`` is runtime code: no ``convoport.contracts`` (the test kit) and no pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest


def _modules_after(code: str) -> dict[str, list[str]]:
    """Runs ``code`` in a fresh interpreter, then reports the loaded kit and pytest modules."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import json, sys
        print(json.dumps({
            "contracts": sorted(m for m in sys.modules if m.startswith("convoport.contracts")),
            "pytest": sorted(m for m in sys.modules if m.split(".")[0] in ("pytest", "_pytest")),
            "sandbox": sorted(m for m in sys.modules if m.startswith("convoport.sandbox")),
        }))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "CONVOPORT_SANDBOX"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_importing_the_sandbox_loads_neither_the_kit_nor_pytest() -> None:
    loaded = _modules_after("import convoport.sandbox")
    assert loaded["contracts"] == []
    assert loaded["pytest"] == []


def test_sandbox_connect_runs_without_the_kit() -> None:
    loaded = _modules_after(
        """
        import asyncio, convoport

        async def main():
            async with convoport.connect("gladia", sandbox=True) as client:
                sessions = [s async for s in client.list_sessions(limit=5)]
                done = next(s for s in sessions if s.status.value == "completed")
                await client.get_transcript(done)
            async with convoport.connect("illocution", sandbox=True) as client:
                pass

        asyncio.run(main())
        """
    )
    assert "convoport.sandbox" in loaded["sandbox"]  # the emulator really ran
    assert loaded["contracts"] == []
    assert loaded["pytest"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "list", "gladia", "--sandbox", "--limit", "3", "--json"],
        ["transcript", "gladia", "128b2f33-0c5c-4fd0-a6a3-a4506513270e", "--sandbox"],
    ],
)
def test_cli_sandbox_runs_without_the_kit(argv: list[str]) -> None:
    loaded = _modules_after(
        f"""
        from convoport.cli import cli
        try:
            cli.main(args={argv!r}, prog_name="convoport", standalone_mode=False)
        except SystemExit as exc:
            assert not exc.code, exc.code
        """
    )
    assert "convoport.sandbox" in loaded["sandbox"]
    assert loaded["contracts"] == []
    assert loaded["pytest"] == []
