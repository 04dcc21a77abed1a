"""RealtimeKit's own scenarios (beyond the kit's), given to the kit through its extension point.

``tests/contracts/test_realtimekit.py`` lists :data:`REALTIMEKIT_SCENARIOS` in its contract
classes' ``scenarios`` attribute, so the kit runs them exactly like its own: a cassette in
``adapters/realtimekit/cassettes/<name>.json``, an expected outcome in
``adapters/realtimekit/expected/<name>.json``, the same gates and checks, against the cassette
and against the emulator.

The cassettes are recorded from the emulator with the kit's recorder (no vendor account
exists here), the emulator's clock frozen at 2099-01-01 (:func:`recording_harness`) so the
links they hold are not expired when they are replayed::

    python -m convoport.contracts.record realtimekit --out adapters/realtimekit \\
        --write-expected --require signed_media \\
        --scenarios tests.adapters.realtimekit.scenarios:REALTIMEKIT_SCENARIOS \\
        --harness tests.adapters.realtimekit.scenarios:recording_harness
"""

from __future__ import annotations

from typing import Any

import convoport.adapters.realtimekit
from convoport import serde
from convoport.adapters.realtimekit.adapter import RealtimeKitAdapter
from convoport.adapters.realtimekit.emulator import (
    ACCOUNT_ID,
    APP_ID,
    RealtimeKitEmulator,
    frozen_clock,
)
from convoport.capabilities import Capability
from convoport.client import AsyncClient
from convoport.config import secret_values
from convoport.contracts.scenarios import (
    BY_NAME,
    Args,
    RequestLog,
    Scenario,
    check_refreshed_requests,
    check_signed_requests,
    section,
)
from convoport.errors import NotFound, RateLimited
from convoport.model import Session, SessionStatus, Transcript
from tests.support.scenarios import VendorScenarios, by_name

#: The placeholder token and the sandbox ids every cassette run connects with.
CONNECT = {"api_token": "test-token", "account_id": ACCOUNT_ID, "app_id": APP_ID}
VENDOR = ("https", "api.cloudflare.com")


def recording_harness() -> RealtimeKitEmulator:
    """The emulator the cassettes are recorded from: its clock frozen at 2099-01-01."""
    return RealtimeKitEmulator(clock=frozen_clock())


def _storage(log: RequestLog, label: str = "download") -> list[Any]:
    return [r for r in log.sections.get(label, []) if (r.url.scheme, r.url.host) != VENDOR]


# -- session details ---------------------------------------------------------------------------


async def _get(client: AsyncClient, args: Args) -> Session:
    section("details")
    return await client.get_session(str(args["session_id"]))


def _check_legacy(result: Session, args: Args) -> None:
    assert result.id == args["session_id"]
    assert result.status is SessionStatus.COMPLETED
    rooms = result.provider_data.get("breakout_rooms")
    assert isinstance(rooms, list), "the breakout rooms were not kept"
    assert len(rooms) == 2, "the breakout rooms were not kept"
    assert result.metadata["meeting_id"], "the meeting id was not read from the nested session"


def _check_details_request(log: RequestLog, result: Any, args: Args) -> None:
    sent = log.sections["details"]
    assert len(sent) == 1
    assert sent[0].url.params.get("include_breakout_rooms") == "true"


# -- transcripts -------------------------------------------------------------------------------


async def _transcript(client: AsyncClient, args: Args) -> Transcript:
    section("download")
    return await client.get_transcript(str(args["session_id"]))


def _check_legacy_layout(result: Transcript, args: Args) -> None:
    assert result.provider_data["layout"] == "csv-legacy"
    assert result.utterances
    assert all(u.timestamp is not None and u.start is None for u in result.utterances)
    assert all(u.speaker for u in result.utterances), "a known peer id was not resolved"
    stamps = [u.timestamp for u in result.utterances]
    assert stamps == sorted(stamps)  # type: ignore[type-var]


def _check_unknown_speaker(result: Transcript, args: Args) -> None:
    unknown = [u for u in result.utterances if u.speaker is None]
    known = [u for u in result.utterances if u.speaker is not None]
    assert unknown, "the row whose peer id matches no participant got a speaker"
    for u in unknown:
        assert "participant_id" not in u.provider_data
        assert u.provider_data.get("participant_name"), "the row's own name column was lost"
    assert known
    assert all(u.provider_data.get("participant_id") for u in known)


def _check_refreshed(log: RequestLog, result: Any, args: Args) -> None:
    check_refreshed_requests(log, result, args)  # the kit's check, for a transcript link
    storage = _storage(log)
    assert "range" in storage[-1].headers, "the download did not resume with Range"


# -- chat --------------------------------------------------------------------------------------


async def _chat(client: AsyncClient, args: Args) -> dict[str, Any]:
    section("download")
    messages = await client.list_chat(str(args["session_id"]))
    return {"messages": messages, "secrets": secret_values(client.adapter.config)}


def _check_chat(result: dict[str, Any], args: Args) -> None:
    BY_NAME["list_chat"].check(result["messages"], args)  # type: ignore[misc]


def _chat_outcome(result: dict[str, Any]) -> Any:
    return serde.unstructure(result["messages"])


# -- recordings --------------------------------------------------------------------------------


async def _not_uploaded(client: AsyncClient, args: Args) -> dict[str, Any]:
    session_id = str(args["session_id"])
    listed = await client.list_recordings(session_id)
    pending = next(r for r in listed if r.url is None)
    try:
        async with client.open_recording(session_id, recording_id=pending.id):
            pass
    except NotFound as exc:
        return {"recordings": listed, "error": {"type": "NotFound", "message": exc.message}}
    raise AssertionError("a recording that is not uploaded yet was opened")


def _check_not_uploaded(result: dict[str, Any], args: Args) -> None:
    pending = [r for r in result["recordings"] if r.url is None]
    assert pending, "the recording without a link was not listed"
    assert all(r.provider_data["status"] != "ERRORED" for r in result["recordings"])
    assert "not uploaded yet" in result["error"]["message"]


# -- summaries ---------------------------------------------------------------------------------


async def _summary_missing(client: AsyncClient, args: Args) -> dict[str, Any]:
    try:
        await client.get_summary(str(args["session_id"]))
    except NotFound as exc:
        return {"error": "NotFound", "status_code": exc.status_code, "hint": exc.hint}
    raise AssertionError("a summary nobody generated was found")


def _check_summary_missing(result: dict[str, Any], args: Args) -> None:
    assert result["status_code"] == 404
    assert "ex_generate_summary_of_transcripts" in (result["hint"] or "")


async def _summary_generated(client: AsyncClient, args: Args) -> dict[str, Any]:
    session_id = str(args["session_id"])
    section("before")
    before = await _summary_missing(client, args)
    section("generate")
    adapter = client.adapter
    assert isinstance(adapter, RealtimeKitAdapter)
    answer = await adapter.ex_generate_summary_of_transcripts(session_id)
    section("after")
    summary = await client.get_summary(session_id)
    return {"before": before["error"], "generated": answer, "summary": serde.unstructure(summary)}


def _check_summary_generated(result: dict[str, Any], args: Args) -> None:
    assert result["before"] == "NotFound"
    assert result["generated"]["session_id"] == args["session_id"]
    assert result["summary"]["text"].strip()


def _check_generate_requests(log: RequestLog, result: Any, args: Args) -> None:
    posts = [r for r in log.all if r.method == "POST"]
    assert len(posts) == 1, "generating a summary is one POST, and reading never posts"
    assert posts[0] in log.sections["generate"]
    assert posts[0].content in (b"", None)


# -- rate limits -------------------------------------------------------------------------------


async def _blocked(client: AsyncClient, args: Args) -> dict[str, Any]:
    try:
        await client.get_session(str(args["session_id"]))
    except RateLimited as exc:
        return {"error": "RateLimited", "retry_after": exc.retry_after, "retryable": exc.retryable}
    raise AssertionError("the global-limit block was not reported")


def _check_blocked(result: dict[str, Any], args: Args) -> None:
    assert result["retry_after"] == 300.0
    assert result["retryable"] is False


def _check_one_request(log: RequestLog, result: Any, args: Args) -> None:
    assert len(log.all) == 1, f"the block was retried: {len(log.all)} requests"


REALTIMEKIT_SCENARIOS: dict[str, Scenario] = by_name(
    (
        Scenario(
            name="get_session_legacy_details",
            capability=Capability.CATALOG_GET,
            run=_get,
            check=_check_legacy,
            check_requests=_check_details_request,
            faults="legacy_details_next",
            description="session details in the legacy shape (data.session, with meta)",
        ),
        Scenario(
            name="get_transcript_legacy_layout",
            capability=Capability.TRANSCRIPTS,
            run=_transcript,
            check=_check_legacy_layout,
            description="the older transcript CSV: a header row and ISO 8601 timestamps",
        ),
        Scenario(
            name="transcript_unknown_speaker",
            capability=Capability.TRANSCRIPTS,
            run=_transcript,
            check=_check_unknown_speaker,
            description="a transcript row whose peer id matches no participant stays unknown",
        ),
        Scenario(
            name="transcript_link_refreshed",
            capability=Capability.TRANSCRIPTS,
            requires=("signed_media",),
            run=_transcript,
            check=BY_NAME["get_transcript"].check,
            check_requests=_check_refreshed,
            faults="expire_links_mid_download",
            description="the transcript link expires mid-download: a fresh one is asked for "
            "and the download resumes with Range",
        ),
        Scenario(
            name="chat_link_without_credentials",
            capability=Capability.CHAT,
            requires=("signed_media",),
            run=_chat,
            check=_check_chat,
            check_requests=check_signed_requests,
            outcome=_chat_outcome,
            description="the chat dump comes from the storage host, without the API token",
        ),
        Scenario(
            name="recording_not_uploaded",
            capability=Capability.RECORDINGS,
            run=_not_uploaded,
            check=_check_not_uploaded,
            description="a recording still uploading is listed without a link; opening it is "
            "NotFound naming its status",
        ),
        Scenario(
            name="summary_not_generated",
            capability=Capability.SUMMARIES,
            run=_summary_missing,
            check=_check_summary_missing,
            description="a summary that does not exist yet is NotFound saying how to make one",
        ),
        Scenario(
            name="summary_generated_on_request",
            capability=Capability.SUMMARIES,
            run=_summary_generated,
            check=_check_summary_generated,
            check_requests=_check_generate_requests,
            description="ex_generate_summary_of_transcripts, then the summary reads",
        ),
        Scenario(
            name="global_rate_limit_block",
            capability=Capability.CATALOG_GET,
            run=_blocked,
            check=_check_blocked,
            check_requests=_check_one_request,
            faults="global_block_next",
            description="Cloudflare's five-minute block is RateLimited at once, not retried",
        ),
    )
)
#: RealtimeKit's scenarios, its cassettes and expected files, and how a replay connects.
SCENARIOS = VendorScenarios(
    provider="realtimekit",
    package=convoport.adapters.realtimekit,
    own=REALTIMEKIT_SCENARIOS,
    connect_options=CONNECT,
    requirements=frozenset({"signed_media"}),
)
CASSETTES = SCENARIOS.cassettes


__all__ = [
    "CASSETTES",
    "CONNECT",
    "REALTIMEKIT_SCENARIOS",
    "SCENARIOS",
    "recording_harness",
]
