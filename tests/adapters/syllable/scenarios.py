"""Syllable's own scenarios (beyond the kit's), given to the kit through its extension point.

``tests/contracts/test_syllable.py`` lists :data:`SYLLABLE_SCENARIOS` in its contract classes'
``scenarios`` attribute, so the kit runs them exactly like its own (a cassette in
``adapters/syllable/cassettes/<name>.json``, an expected outcome in
``adapters/syllable/expected/<name>.json``). :data:`SCENARIOS` replays one through the kit
for closer looks. The recorder loads them with
``--scenarios tests.adapters.syllable.scenarios:SCENARIO_LIST``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx

import convoport.adapters.syllable
from convoport.capabilities import Capability
from convoport.client import AsyncClient
from convoport.contracts.scenarios import (
    BY_NAME,
    Args,
    RequestLog,
    Scenario,
    scenario_context,
    section,
)
from convoport.model import Session, Transcript
from tests.support.scenarios import VendorScenarios, by_name, query_of

#: The placeholder key every cassette run connects with.
TEST_KEY = "test-key"
#: No real waits between transcript reads, and every finished voice session is waited for.
POLL_OPTIONS = {
    "transcript_poll_interval": 0.0,
    "transcript_wait": 3600.0,
    "transcript_settle": 1e12,
}


async def _list(client: AsyncClient, args: Args) -> list[Session]:
    section("listing")
    size = int(args.get("page_size", 25))
    return [s async for s in client.list_sessions(query_of(args), page_size=size)]


def _list_requests(log: RequestLog) -> list[Any]:
    return [r for r in log.sections.get("listing", []) if r.url.path == "/api/v1/sessions/"]


def _pairs(request: Any) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)


def _phone(args: Args) -> str:
    terms = dict(term.split("=", 1) for term in (query_of(args).search or "").split("&"))
    return terms["source"]


def _check_phone(result: list[Session], args: Args) -> None:
    assert [s.id for s in result] == list(args["expect_ids"]), [s.id for s in result]
    phone = _phone(args)
    assert all(s.provider_data["source"] == phone for s in result)


def _check_phone_requests(log: RequestLog, result: Any, args: Args) -> None:
    sent = _list_requests(log)
    assert sent, "no list request"
    raw = sent[0].url.query.decode("ascii")
    phone = _phone(args)
    assert phone.startswith("+")
    # Repeated keys, paired by index (§11.2), never joined with commas.
    assert "search_fields=agent_id&search_fields=source" in raw, raw
    # The + of an E.164 number goes as %2B (a bare + would be decoded as a space).
    assert "search_field_values=%2B" + phone[1:] in raw, raw
    assert ("search_field_values", phone) in _pairs(sent[0])


def _check_test_sessions(result: list[Session], args: Args) -> None:
    assert result, "no test session listed"
    assert all(s.provider_data.get("is_test") is True for s in result)


def _check_test_requests(log: RequestLog, result: Any, args: Args) -> None:
    pairs = _pairs(_list_requests(log)[0])
    assert ("search_fields", "is_test") in pairs
    assert ("search_field_values", "true") in pairs


async def _download(client: AsyncClient, args: Args) -> dict[str, Any]:
    run = BY_NAME["download_recording"].run
    result: dict[str, Any] = await run(client, args)
    return result


def _stream_requests(log: RequestLog) -> list[Any]:
    return [r for r in log.all if r.url.path.endswith("/stream")]


def _check_token_refreshed(log: RequestLog, result: Any, args: Args) -> None:
    sent = log.all
    streams = [i for i, r in enumerate(sent) if r.url.path.endswith("/stream")]
    mints = [i for i, r in enumerate(sent) if r.method == "POST" and "/recording/" in r.url.path]
    assert len(streams) >= 2, "the expired token was not replaced"
    assert len(mints) == 2, "no fresh recording URL was asked for"
    assert streams[0] < mints[1] < streams[-1], "the fresh URL was not asked between the tries"
    if scenario_context().mode != "cassette":  # a cassette keeps tokens as [REDACTED]
        first, last = (dict(_pairs(sent[i]))["token"] for i in (streams[0], streams[-1]))
        assert first != last, "the expired token was used again"
    assert all(sent[i].headers.get("syllable-api-key") for i in streams)


def _check_resumed(log: RequestLog, result: Any, args: Args) -> None:
    _check_token_refreshed(log, result, args)
    last = _stream_requests(log)[-1]
    assert last.headers.get("range", "").startswith("bytes="), "the download did not resume"
    assert last.headers["range"] != "bytes=0-"


async def _transcript(client: AsyncClient, args: Args) -> Transcript:
    return await client.get_transcript(str(args["session_id"]))


def _check_complete(result: Transcript, args: Args) -> None:
    assert result.provider_data["transcript_complete"] is True
    assert result.utterances
    assert all(u.text for u in result.utterances)


def _check_polled(log: RequestLog, result: Any, args: Args) -> None:
    reads = [r for r in log.all if "/transcript/" in r.url.path]
    assert len(reads) >= 2, "an incomplete transcript was not read again"


async def _extensions(client: AsyncClient, args: Args) -> dict[str, Any]:
    adapter: Any = client.adapter
    sid = str(args["session_id"])
    return {
        "latency": await adapter.ex_latency(sid),
        "timeline": await adapter.ex_timeline(sid),
        "labels": await adapter.ex_session_labels(sid),
    }


def _check_open_vocabularies(result: dict[str, Any], args: Args) -> None:
    categories = {e["category"] for e in result["latency"]["timeline"]}
    units = {e["unit_type"] for e in result["latency"]["timeline"]}
    kinds = {e["kind"] for e in result["timeline"]["events"]}
    assert "vad" in categories, categories  # not a LatencyCategory member
    assert "ticks" in units, units  # not a LatencyUnitType member
    assert "vad" in kinds, kinds  # not a TimelineEventKind member
    tools = [e for e in result["timeline"]["events"] if e["kind"] == "tool"]
    assert tools
    assert all(not isinstance(e["tool_request"], str) for e in tools)


def _no_totals(harness: Any, transport: httpx.AsyncBaseTransport, args: Args) -> Any:
    harness.totals = "absent"
    return transport


def _check_no_totals(result: list[Session], args: Args) -> None:
    size = int(args.get("page_size", 25))
    assert len(result) > size, "one page only: the end rule without totals was not exercised"
    ids = [s.id for s in result]
    assert len(ids) == len(set(ids))


SCENARIO_LIST: list[Scenario] = [
    Scenario(
        name="search_phone_number",
        capability=Capability.CATALOG_LIST,
        run=_list,
        check=_check_phone,
        check_requests=_check_phone_requests,
        description="search a phone number: repeated search keys, the + sent as %2B",
    ),
    Scenario(
        name="list_test_sessions",
        capability=Capability.CATALOG_LIST,
        run=_list,
        check=_check_test_sessions,
        check_requests=_check_test_requests,
        description="is_test=true includes test sessions on the server, the client keeps them only",
    ),
    Scenario(
        name="legacy_session_link",
        capability=Capability.CATALOG_LIST,
        run=_list,
        error="InvalidRequest",
        description="the sessions list's 400 whose detail is a LegacySessionLinkDetail",
    ),
    Scenario(
        name="list_without_totals",
        capability=Capability.CATALOG_LIST,
        run=_list,
        check=_check_no_totals,
        emulator_transport=_no_totals,
        default_args={"page_size": 20},
        description="pages without total_pages/total_count end on a short page (reference §3.4)",
    ),
    Scenario(
        name="recording_token_expired",
        capability=Capability.RECORDINGS,
        run=_download,
        check=BY_NAME["download_recording"].check,
        check_requests=_check_token_refreshed,
        outcome=BY_NAME["download_recording"].outcome,
        faults="expire_next_token",
        description="the recording token has expired: a fresh URL is minted and used",
    ),
    Scenario(
        name="recording_token_expired_mid_download",
        capability=Capability.RECORDINGS,
        run=_download,
        check=BY_NAME["download_recording"].check,
        check_requests=_check_resumed,
        outcome=BY_NAME["download_recording"].outcome,
        faults="expire_tokens_mid_download",
        description="the token expires half-way: a fresh URL, and the download resumes with Range",
    ),
    Scenario(
        name="transcript_incomplete_then_complete",
        capability=Capability.TRANSCRIPTS,
        run=_transcript,
        check=_check_complete,
        check_requests=_check_polled,
        connect_options=POLL_OPTIONS,
        description="transcript_complete is false twice, then true: the transcript is re-read",
    ),
    Scenario(
        name="transcript_missing",
        capability=Capability.TRANSCRIPTS,
        run=_transcript,
        error="NotFound",
        description="a finished session whose transcript Syllable does not have (404)",
    ),
    Scenario(
        name="unknown_enum_values",
        capability=Capability.CATALOG_GET,
        run=_extensions,
        check=_check_open_vocabularies,
        faults="unknown_enum_values",
        description="latency categories/units and a timeline kind the SDK's enums do not know",
    ),
]
SYLLABLE_SCENARIOS: dict[str, Scenario] = by_name(SCENARIO_LIST)
#: Syllable's scenarios, its cassettes and expected files, and how a replay connects.
SCENARIOS = VendorScenarios(
    provider="syllable",
    package=convoport.adapters.syllable,
    own=SYLLABLE_SCENARIOS,
    connect_options={"api_key": TEST_KEY},
)
CASSETTES = SCENARIOS.cassettes


__all__ = [
    "CASSETTES",
    "POLL_OPTIONS",
    "SCENARIOS",
    "SCENARIO_LIST",
    "SYLLABLE_SCENARIOS",
    "TEST_KEY",
]
