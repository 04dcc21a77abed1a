"""Records the kit cassettes of this plugin against its emulator, and writes expected results.

    python tools/record.py

This is how a plugin author records cassettes: wrap the transport in ``RecordingTransport``
(credentials are never written), run each scenario, save. Against a real vendor, replace the
emulator transport with ``httpx.AsyncHTTPTransport()`` and real credentials. Review every
expected file by hand before committing it: it is the contract.
"""

import asyncio
import json
from pathlib import Path

from convoport_murmur.emulator import MurmurEmulator

from convoport import connect
from convoport.contracts.kit import KIT_RETRY
from convoport.contracts.scenarios import BY_NAME, outcome_json, outcome_of_error
from convoport.contracts.transport import RecordingTransport
from convoport.errors import ConvoportError

HERE = Path(__file__).resolve().parent.parent / "src" / "convoport_murmur"
SCENARIOS = {
    "list_sessions_two_pages": None,
    "get_session_completed": None,
    "get_session_not_found": None,
    "get_transcript": None,
    "rate_limited_then_ok": "rate_limit_next",
    "server_error_then_ok": "fail_next",
    "auth_failure": "bad_credentials",
}


async def record(name: str, fault: str | None) -> None:
    emulator = MurmurEmulator()
    args = emulator.scenario_args(name)
    assert args is not None
    options = {**emulator.connect_options(), "api_token": "test-token"}
    emulator_token = emulator.connect_options()["api_token"]
    if fault == "bad_credentials":
        emulator_token = "wrong-token"
    elif fault:
        setattr(emulator.faults, fault, 1)
    recorder = RecordingTransport(emulator.transport())
    scenario = BY_NAME[name]
    client = connect(
        "murmur", transport=recorder, retry=KIT_RETRY, **{**options, "api_token": emulator_token}
    )
    async with client:
        try:
            outcome = outcome_json(await scenario.run(client, args))
        except ConvoportError as exc:
            outcome = outcome_of_error(exc)
    recorder.save(
        HERE / "cassettes" / f"{name}.json",
        {
            "provider": "murmur",
            "scenario": name,
            "source": "recorded from the convoport-murmur emulator (made-up vendor)",
            "args": args,
        },
    )
    text = json.dumps(outcome, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (HERE / "expected" / f"{name}.json").write_text(text, encoding="utf-8")
    print(f"recorded {name}")


async def main() -> None:
    for name, fault in SCENARIOS.items():
        await record(name, fault)


if __name__ == "__main__":
    asyncio.run(main())
