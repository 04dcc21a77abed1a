"""Writes the Illocution cassettes and expected results.

No vendor account exists here: each cassette is produced by running the adapter against its
emulator (which implements ``shared/vendors/illocution.md``) through a capturing transport,
with the emulator's clock frozen so the files are reproducible; each expected result is then
produced by replaying the cassette, exactly as the kit does. ``test_cassettes.py`` checks that
running this again gives the same files.

Run: ``python -m tests.adapters.illocution.cassette_writer`` (from the repository root).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx

from convoport.adapters.illocution.emulator import IllocutionEmulator
from convoport.adapters.illocution.live import IllocutionLiveSession
from convoport.client import AsyncClient
from convoport.connect import connect
from convoport.contracts.cassette import Cassette
from convoport.contracts.kit import KIT_RETRY
from convoport.contracts.scenarios import BY_NAME, outcome_json, outcome_of_error
from convoport.contracts.transport import ReplayTransport
from convoport.errors import ConvoportError
from tests.adapters.illocution.support import (
    BASE_URL,
    CASSETTES,
    EXPECTED,
    CaptureTransport,
    FakeClock,
    Hooks,
    PacedReplay,
    drive_live,
    keepalive_pause,
)

SOURCE = "written from shared/vendors/illocution.md; no vendor account was used"
GENERATOR = (
    "recorded from the adapter's emulator (which implements that reference) with its clock "
    "frozen; regenerate with: python -m tests.adapters.illocution.cassette_writer"
)
START_TIME = datetime(2025, 11, 8, 17, 57, 4, 991000, tzinfo=UTC)
SEED = 353
TEST_KEY = "test-key"
AUDIO_4S = {"seconds": 4.0, "sample_rate": 16000, "channels": 1, "container": "wav"}
AUDIO_6S = {**AUDIO_4S, "seconds": 6.0}

Outcome = dict[str, Any]


@attrs.frozen(kw_only=True)
class Spec:
    """One scenario: its args, whether the kit runs it, and how it is set up."""

    name: str
    args: dict[str, Any]
    kit: bool = False
    paced: bool = False
    fake_clock: bool = False
    client_key: str = TEST_KEY
    intruder: bool = False
    description: str = ""


SPECS: tuple[Spec, ...] = (
    Spec(
        name="live_ingest_roundtrip",
        kit=True,
        args={"options": {"encoding": "wav", "ttl": 900}, "audio": AUDIO_4S},
        description="four finals from two speakers, emotion, cognitive, summary, done",
    ),
    Spec(
        name="auth_failure",
        kit=True,
        client_key="wrong-key",
        args={"options": {"encoding": "wav", "ttl": 900}, "audio": AUDIO_4S},
        description="401 on POST /analyze/live/start",
    ),
    Spec(
        name="batch_analyze",
        kit=True,
        args={"media": AUDIO_6S, "options": {"filename": "call.wav"}},
        description="POST /analyze with a streamed multipart file",
    ),
    Spec(
        name="live_409_resync",
        args={"options": {"encoding": "wav"}, "audio": AUDIO_6S, "lose_response_for_chunks": [1]},
        description=(
            "chunk 1 is stored but its answer is lost (the gateway answers 504); the retry "
            "with the same chunk_seq gets 409 naming the next expected seq; the adapter moves on"
        ),
    ),
    Spec(
        name="live_second_consumer_refused",
        intruder=True,
        args={"options": {"encoding": "wav"}, "audio": AUDIO_4S},
        description="another reader holds the event stream: GET events answers 409",
    ),
    Spec(
        name="live_cancel_midstream",
        paced=True,
        args={"options": {"encoding": "wav"}, "audio": AUDIO_4S, "cancel_after_pieces": 3},
        description="cancel after one chunk; the stream ends with error (cancelled)",
    ),
    Spec(
        name="live_keepalive",
        paced=True,
        fake_clock=True,
        args={
            "options": {"encoding": "wav", "ttl": 60},
            "audio": AUDIO_4S,
            "pause_after_pieces": 3,
            "silence_seconds": 31,
        },
        description="ttl 60 s: after 31 s of silence the handle sends keepalive by itself",
    ),
    Spec(
        name="live_session_expired",
        paced=True,
        args={
            "options": {"encoding": "wav", "ttl": 60},
            "audio": AUDIO_4S,
            "pause_after_pieces": 3,
            "silence_seconds": 61,
        },
        description="61 s without audio or keepalive: the next chunk gets 410",
    ),
)
BY_SPEC = {spec.name: spec for spec in SPECS}


async def run_spec(
    spec: Spec,
    client: AsyncClient,
    *,
    clock: FakeClock | None,
    on_pause: Callable[[IllocutionLiveSession, Mapping[str, Any]], Awaitable[None]] | None = None,
) -> tuple[Outcome, Any]:
    """Runs one scenario against a connected client: the kit's runner for kit scenarios,
    :func:`drive_live` otherwise."""
    if clock is not None:
        adapter: Any = client.adapter
        adapter.clock = clock
        adapter.keepalive_poll = 0.002
    if spec.kit:
        scenario = BY_NAME[spec.name]
        try:
            value = await scenario.run(client, spec.args)
        except ConvoportError as exc:
            return outcome_of_error(exc), exc
        return outcome_json(value), value
    pause = on_pause
    if spec.fake_clock and clock is not None:
        pause = keepalive_pause(clock)
    return await drive_live(client, spec.args, Hooks(pause=pause))


async def record(spec: Spec) -> Cassette:
    emulator = IllocutionEmulator(seed=SEED, api_key=TEST_KEY, start_time=START_TIME)
    emulator.lose_response_for_chunks.update(spec.args.get("lose_response_for_chunks", []))
    intruders: list[httpx.Response] = []
    intruder_client = httpx.AsyncClient(transport=emulator.transport())

    async def on_response(request: httpx.Request, response: httpx.Response) -> None:
        if spec.intruder and request.url.path.endswith("/live/start"):
            events = json.loads(await response.aread())["events_endpoint"]
            req = intruder_client.build_request(
                "GET", BASE_URL + events, headers={"x-api-key": TEST_KEY}
            )
            intruders.append(await intruder_client.send(req, stream=True))

    capture = CaptureTransport(emulator.transport(), on_response=on_response)

    async def advance(live: IllocutionLiveSession, args: Mapping[str, Any]) -> None:
        emulator.advance(float(args["silence_seconds"]))

    clock = FakeClock() if spec.fake_clock else None
    client = connect(
        "illocution", transport=capture, retry=KIT_RETRY, api_key=spec.client_key,
        base_url=BASE_URL,
    )  # fmt: skip
    async with client:
        await run_spec(spec, client, clock=clock, on_pause=advance)
    for response in intruders:
        await response.aclose()
    await intruder_client.aclose()
    return Cassette(
        meta={
            "provider": "illocution",
            "scenario": spec.name,
            "source": SOURCE,
            "generator": GENERATOR,
            "description": spec.description,
            "args": spec.args,
        },
        interactions=capture.interactions,
    )


async def replay(spec: Spec, cassette: Cassette) -> tuple[Outcome, ReplayTransport]:
    """Replays a cassette the way the kit does (paced for scenarios that need it)."""
    transport = ReplayTransport(cassette)
    outer: httpx.AsyncBaseTransport = PacedReplay(transport) if spec.paced else transport
    clock = FakeClock() if spec.fake_clock else None
    client = connect("illocution", transport=outer, retry=KIT_RETRY, api_key=TEST_KEY)
    async with client:
        outcome, _ = await run_spec(spec, client, clock=clock)
    return outcome, transport


def expected_text(outcome: Outcome) -> str:
    return json.dumps(outcome, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def generate() -> dict[str, tuple[str, str]]:
    """Every scenario's cassette text and expected-result text, by scenario name."""
    files: dict[str, tuple[str, str]] = {}
    for spec in SPECS:
        cassette = await record(spec)
        outcome, transport = await replay(spec, cassette)
        transport.assert_all_used()
        files[spec.name] = (cassette.dumps(), expected_text(outcome))
    return files


def write_all(files: dict[str, tuple[str, str]]) -> None:
    for folder in (CASSETTES, EXPECTED):
        folder.mkdir(parents=True, exist_ok=True)
    for name, (cassette, expected) in files.items():
        (CASSETTES / f"{name}.json").write_text(cassette, encoding="utf-8", newline="\n")
        (EXPECTED / f"{name}.json").write_text(expected, encoding="utf-8", newline="\n")
        print(f"wrote cassettes/{name}.json and expected/{name}.json")


if __name__ == "__main__":
    write_all(asyncio.run(generate()))
