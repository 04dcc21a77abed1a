"""Gladia's own scenarios (beyond the kit's), given to the kit through its extension point.

``tests/contracts/test_gladia.py`` lists :data:`GLADIA_SCENARIOS` in its contract class's
``scenarios`` attribute, so the kit runs them exactly like its own: a cassette in
``adapters/gladia/cassettes/<name>.json``, an expected outcome in
``adapters/gladia/expected/<name>.json``, the same gates and checks.
``SCENARIOS.replay(name)`` (:class:`tests.support.scenarios.VendorScenarios`) replays one
through the kit for the closer looks in ``test_scenarios.py``; ``tests.adapters.gladia.regen``
rewrites the expected files from the cassettes.
"""

from __future__ import annotations

from typing import Any

import convoport.adapters.gladia
from convoport import serde
from convoport.capabilities import Capability
from convoport.client import AsyncClient
from convoport.contracts.scenarios import BY_NAME, Args, Scenario
from convoport.live import IngestResult, LiveOptions
from convoport.model import Session, SessionStatus
from tests.support.scenarios import VendorScenarios, by_name, query_of

#: The placeholder key every cassette run connects with.
TEST_KEY = "test-key"
#: What the live scenarios add to the connect options: no real waits between polls or
#: reconnects.
LIVE_OPTIONS = {"live_poll_interval": 0.01, "ws_backoff_base": 0.01}


async def _list(client: AsyncClient, args: Args) -> list[Session]:
    size = int(args.get("page_size", 2))
    return [s async for s in client.list_sessions(query_of(args), page_size=size)]


def _check_filters(result: list[Session], args: Args) -> None:
    assert result, "the filtered listing is empty"
    query = query_of(args)
    assert all(query.matches(s) for s in result)


async def _get(client: AsyncClient, args: Args) -> Session:
    return await client.get_session(str(args["session_id"]))


def _check_failed(result: Session, args: Args) -> None:
    assert result.status is SessionStatus.FAILED
    assert result.provider_status == "error"


async def _delete(client: AsyncClient, args: Args) -> None:
    await client.delete_session(str(args["session_id"]))


async def _start_live(client: AsyncClient, args: Args) -> Any:
    options = serde.structure(args.get("options") or {}, LiveOptions)
    live = await client.start_live(options)
    await live.cancel()
    return None


async def _live(client: AsyncClient, args: Args) -> dict[str, Any]:
    run = BY_NAME["live_ingest_roundtrip"].run
    result: dict[str, Any] = await run(client, args)
    return result


def _check_resumed(result: dict[str, Any], args: Args) -> None:
    BY_NAME["live_ingest_roundtrip"].check(result, args)  # type: ignore[misc]
    ingest: IngestResult = result["result"]
    assert "status" in result["events"]
    duration = float(args["audio"]["seconds"])
    utterances = ingest.transcript.utterances
    assert utterances[-1].end is not None
    assert utterances[-1].end >= duration - 1.0, "the transcript does not cover the audio"


GLADIA_SCENARIOS: dict[str, Scenario] = by_name(
    (
        Scenario(
            name="list_sessions_filters",
            capability=Capability.CATALOG_LIST,
            run=_list,
            check=_check_filters,
        ),
        Scenario(
            name="delete_refused_403",
            capability=Capability.CATALOG_DELETE,
            run=_delete,
            error="Conflict",
        ),
        Scenario(
            name="invalid_request_400",
            capability=Capability.LIVE_INGEST,
            run=_start_live,
            error="InvalidRequest",
            connect_options=LIVE_OPTIONS,
        ),
        Scenario(
            name="get_session_error_status",
            capability=Capability.CATALOG_GET,
            run=_get,
            check=_check_failed,
        ),
        Scenario(
            name="live_ingest_drop_and_resume",
            capability=Capability.LIVE_INGEST,
            run=_live,
            check=_check_resumed,
            connect_options=LIVE_OPTIONS,
        ),
    )
)
#: Gladia's scenarios, its cassettes and expected files, and how a replay connects.
SCENARIOS = VendorScenarios(
    provider="gladia",
    package=convoport.adapters.gladia,
    own=GLADIA_SCENARIOS,
    connect_options={"api_key": TEST_KEY, **LIVE_OPTIONS},
)
CASSETTES = SCENARIOS.cassettes


__all__ = [
    "CASSETTES",
    "GLADIA_SCENARIOS",
    "LIVE_OPTIONS",
    "SCENARIOS",
    "TEST_KEY",
]
