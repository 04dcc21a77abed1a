"""Writes the Illocution cassettes and expected results with the kit's recorder, and defines
Illocution's own scenarios for the kit's extension point.

No vendor account exists here: each cassette is recorded by
:class:`convoport.contracts.record.Recorder` from the adapter's emulator (which implements
``shared/vendors/illocution.md``) with its clock frozen, so the files are reproducible; each
expected result is then produced by replaying the cassette, exactly as the kit does.
``test_cassettes.py`` checks that running this again gives the same files.

:data:`ILLOCUTION_SCENARIOS` are the Illocution-specific scenarios (409 resync, a second
consumer, cancel, keepalive, expiry) as kit :class:`~convoport.contracts.scenarios.Scenario`
values: ``tests/contracts/test_illocution.py`` lists them in its contract class, so the kit
replays and checks them like its own.

Run: ``python -m tests.adapters.illocution.cassette_writer`` (from the repository root).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx

from convoport.adapters.illocution.emulator import IllocutionEmulator
from convoport.adapters.illocution.live import IllocutionLiveSession
from convoport.client import AsyncClient
from convoport.contracts.cassette import JsonBody, RecordedResponse
from convoport.contracts.record import Recorder, Target
from convoport.contracts.scenarios import (
    BY_NAME,
    Args,
    Scenario,
    outcome_json,
    outcome_of_error,
    scenario_context,
)
from convoport.errors import ConvoportError
from tests.adapters.illocution.support import (
    BASE_URL,
    CASSETTES,
    EXPECTED,
    SSE_CHUNK,
    FakeClock,
    Hooks,
    PacedReplay,
    adapter_of,
    drive_live,
    keepalive_pause,
)

SOURCE = (
    "written from shared/vendors/illocution.md; no vendor account was used (recorded from "
    "the adapter's emulator, which implements that reference, with its clock frozen, by the "
    "kit's recorder; regenerate with: python -m tests.adapters.illocution.cassette_writer)"
)
START_TIME = datetime(2025, 11, 8, 17, 57, 4, 991000, tzinfo=UTC)
SEED = 353
TEST_KEY = "test-key"
AUDIO_4S = {"seconds": 4.0, "sample_rate": 16000, "channels": 1, "container": "wav"}
AUDIO_6S = {**AUDIO_4S, "seconds": 6.0}
#: What a client behind a proxy sees when the upstream stored the request and the answer was
#: lost: the gateway's 504 (stored for a dropped connection).
GATEWAY_TIMEOUT = RecordedResponse(
    status=504,
    headers={"content-type": "application/json"},
    body=JsonBody(value={"detail": "Gateway Timeout"}),
)

Outcome = dict[str, Any]


@attrs.frozen(kw_only=True)
class Spec:
    """One scenario: its args, whether the kit runs it, and how it is set up."""

    name: str
    args: dict[str, Any]
    kit: bool = False
    paced: bool = False
    fake_clock: bool = False
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


def frozen_emulator() -> IllocutionEmulator:
    """The emulator the cassettes are recorded from: seeded, its clock frozen."""
    return IllocutionEmulator(seed=SEED, api_key=TEST_KEY, start_time=START_TIME)


class _Intruder(httpx.AsyncBaseTransport):
    """Opens a second reader of the event stream as soon as a live session starts."""

    def __init__(self, inner: httpx.AsyncBaseTransport, harness: IllocutionEmulator) -> None:
        self.inner = inner
        self.client = httpx.AsyncClient(transport=harness.transport())
        self.key = harness.connect_options()["api_key"]
        self.intruders: list[httpx.Response] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/live/start"):
            return response
        body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        events = json.loads(body)["events_endpoint"]
        req = self.client.build_request("GET", BASE_URL + events, headers={"x-api-key": self.key})
        self.intruders.append(await self.client.send(req, stream=True))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    async def aclose(self) -> None:
        for response in self.intruders:
            await response.aclose()
        await self.client.aclose()
        await self.inner.aclose()


def _prepare(
    spec: Spec,
) -> Callable[[Any, httpx.AsyncBaseTransport, Args], httpx.AsyncBaseTransport]:
    def prepare(
        harness: Any, transport: httpx.AsyncBaseTransport, args: Args
    ) -> httpx.AsyncBaseTransport:
        harness.lose_response_for_chunks.update(args.get("lose_response_for_chunks", []))
        return _Intruder(transport, harness) if spec.intruder else transport

    return prepare


def _runner(spec: Spec) -> Callable[[AsyncClient, Args], Awaitable[Any]]:
    async def run(client: AsyncClient, args: Args) -> dict[str, Any]:
        harness = scenario_context().harness
        pause: Callable[[IllocutionLiveSession, Mapping[str, Any]], Awaitable[None]] | None
        pause = None
        if spec.fake_clock:
            clock = FakeClock()
            adapter: Any = adapter_of(client)
            adapter.clock = clock
            adapter.keepalive_poll = 0.002
            pause = keepalive_pause(clock)
        elif harness is not None:

            async def advance(live: IllocutionLiveSession, args: Mapping[str, Any]) -> None:
                harness.advance(float(args["silence_seconds"]))

            pause = advance
        return await drive_live(client, args, Hooks(pause=pause))

    return run


def _paced(transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    from convoport.contracts.transport import ReplayTransport

    assert isinstance(transport, ReplayTransport)
    return PacedReplay(transport)


#: Which own scenarios end in an error, and which one.
_ERRORS = {
    "live_second_consumer_refused": "LiveSessionError",
    "live_session_expired": "LiveSessionError",
}


def _own(spec: Spec) -> Scenario:
    return Scenario(
        name=spec.name,
        capability=BY_NAME["live_ingest_roundtrip"].capability,
        run=_runner(spec),
        error=_ERRORS.get(spec.name),
        replay=_paced if spec.paced else None,
        emulator_transport=_prepare(spec),
        description=spec.description,
    )


#: Illocution's own scenarios, for the kit (``scenarios = ILLOCUTION_SCENARIOS``).
ILLOCUTION_SCENARIOS: tuple[Scenario, ...] = tuple(_own(spec) for spec in SPECS if not spec.kit)
_BY_NAME = {s.name: s for s in ILLOCUTION_SCENARIOS}


def scenario_of(spec: Spec) -> Scenario:
    """The kit scenario, or Illocution's own, that ``spec`` names."""
    return BY_NAME[spec.name] if spec.kit else _BY_NAME[spec.name]


async def run_spec(
    spec: Spec, client: AsyncClient, *, clock: FakeClock | None = None
) -> tuple[Outcome, Any]:
    """Runs one scenario against a connected client: (JSON outcome, the ``IngestResult`` or
    other raw result, or the error).
    (The scenario makes its own fake clock when it needs one; ``clock`` is accepted for the
    callers that pass one.)"""
    scenario = scenario_of(spec)
    try:
        value = await scenario.run(client, spec.args)
    except ConvoportError as exc:
        return outcome_of_error(exc), exc
    raw = value["result"] if isinstance(value, dict) and "events" in value else value
    return outcome_json(value, scenario), raw


def recorder(out: Path) -> Recorder:
    """The kit's recorder, set up as the Illocution fixtures need."""
    return Recorder(
        "illocution",
        out,
        target=Target(
            harness_factory=frozen_emulator,
            harness_name="tests.adapters.illocution.cassette_writer:frozen_emulator",
        ),
        extra=ILLOCUTION_SCENARIOS,
        args={spec.name: spec.args for spec in SPECS},
        write_expected=True,
        connect_options={"api_key": TEST_KEY, "base_url": BASE_URL},
        stream_chunk_size=SSE_CHUNK,
        lost_response=GATEWAY_TIMEOUT,
        source=SOURCE,
    )


async def generate() -> dict[str, tuple[str, str]]:
    """Every scenario's cassette text and expected-result text, by scenario name."""
    files: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rec = recorder(out)
        for spec in SPECS:
            result = await rec.record(scenario_of(spec))
            assert result.status == "recorded", result.line()
            files[spec.name] = (
                (out / "cassettes" / f"{spec.name}.json").read_text(encoding="utf-8"),
                (out / "expected" / f"{spec.name}.json").read_text(encoding="utf-8"),
            )
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
