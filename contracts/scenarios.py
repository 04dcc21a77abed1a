"""The kit's named scenarios: what each calls, what it needs, what must hold.

A scenario runs against a connected client with arguments (from the cassette's ``meta.args``,
or from the emulator harness's ``scenario_args``) and returns a JSON-compatible *outcome*:
``{"result": ...}`` (the neutral result, unstructured with :mod:`convoport.serde`) or
``{"error": {"type": "NotFound", "status_code": 404}}``. In cassette mode the outcome must
equal the adapter's ``expected/<scenario>.json``; in both modes the scenario's invariants must
hold (they are what make the emulator run meaningful).

Arguments each scenario reads (all JSON):

==========================  =================================================================
scenario                    args
==========================  =================================================================
list_sessions_two_pages     ``page_size`` (int), ``query`` (SessionQuery fields, optional)
get_session_completed       ``session_id``
get_session_not_found       ``session_id``
get_transcript              ``session_id``
get_summary                 ``session_id``
list_participants           ``session_id``
list_chat                   ``session_id``
list_recordings             ``session_id``
download_recording          ``session_id``, ``recording_id`` (optional)
delete_session              ``session_id``
rate_limited_then_ok        ``session_id`` (the first answer is 429, the retry succeeds)
server_error_then_ok        ``session_id`` (the first answer is 5xx, the retry succeeds)
auth_failure                a rejected credential on the first call the backend serves:
                            ``session_id`` (catalog), else the live or batch args
live_ingest_roundtrip       ``options`` (LiveOptions fields), ``audio`` (see below)
batch_analyze               ``media`` (same form as ``audio``), ``options`` (optional)
==========================  =================================================================

``audio``/``media`` is ``{"seconds": float, "sample_rate": int, "channels": int,
"container": "pcm" | "wav"}``: the kit generates it with :func:`contracts.emulator.tone_pcm`
(``silence_every=1.0``) and, for ``"wav"``, wraps it with ``make_wav``. Live audio is sent in
32,000-byte pieces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from convoport import serde
from convoport.capabilities import Capability
from convoport.client import AsyncClient
from convoport.contracts.emulator import make_wav, tone_pcm
from convoport.errors import ConvoportError, ProviderError
from convoport.live import DoneEvent, IngestResult, LiveOptions
from convoport.model import (
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
)

Outcome = dict[str, Any]
Args = Mapping[str, Any]
LIVE_PIECE = 32_000


@attrs.frozen(kw_only=True)
class Scenario:
    """One named scenario.

    ``capability`` gates it (a backend that does not declare it skips the scenario with the
    capability as the reason; ``None``: every backend runs it); ``error`` is the error class
    name it expects, if any;
    ``faults`` names the emulator fault it needs (``"rate_limit_next"``, ``"fail_next"``,
    ``"bad_credentials"``).
    """

    name: str
    capability: Capability | None
    run: Callable[[AsyncClient, Args], Awaitable[Any]]
    check: Callable[[Any, Args], None] | None = None
    error: str | None = None
    faults: str | None = None
    description: str = ""


def generate_audio(spec: Mapping[str, Any]) -> bytes:
    """The audio a scenario sends, from its ``audio``/``media`` spec."""
    seconds = float(spec.get("seconds", 3.0))
    rate = int(spec.get("sample_rate", 16000))
    channels = int(spec.get("channels", 1))
    pcm = tone_pcm(seconds, sample_rate=rate, channels=channels, silence_every=1.0)
    if spec.get("container", "pcm") == "wav":
        return make_wav(pcm, sample_rate=rate, channels=channels)
    return pcm


def outcome_of_error(error: ConvoportError) -> Outcome:
    status = error.status_code if isinstance(error, ProviderError) else None
    return {"error": {"type": type(error).__name__, "status_code": status}}


def _query(args: Args) -> SessionQuery:
    raw = args.get("query")
    return serde.structure(raw, SessionQuery) if raw else SessionQuery()


def _live_options(args: Args) -> LiveOptions:
    raw = args.get("options")
    return serde.structure(raw, LiveOptions) if raw else LiveOptions()


# -- runners ---------------------------------------------------------------------------------


async def _list_two_pages(client: AsyncClient, args: Args) -> list[Session]:
    size = int(args.get("page_size", 2))
    return [s async for s in client.list_sessions(_query(args), page_size=size)]


async def _get_session(client: AsyncClient, args: Args) -> Session:
    return await client.get_session(str(args["session_id"]))


async def _get_transcript(client: AsyncClient, args: Args) -> Transcript:
    return await client.get_transcript(str(args["session_id"]))


async def _get_summary(client: AsyncClient, args: Args) -> Summary:
    return await client.get_summary(str(args["session_id"]))


async def _list_participants(client: AsyncClient, args: Args) -> Any:
    return await client.list_participants(str(args["session_id"]))


async def _list_chat(client: AsyncClient, args: Args) -> Any:
    return await client.list_chat(str(args["session_id"]))


async def _list_recordings(client: AsyncClient, args: Args) -> list[Recording]:
    return await client.list_recordings(str(args["session_id"]))


async def _download(client: AsyncClient, args: Args) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    chunks = 0
    async with client.open_recording(str(args["session_id"]), args.get("recording_id")) as stream:
        async for chunk in stream.aiter_bytes(1 << 16):
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
        recording = stream.recording
    return {"recording": recording, "size": size, "sha256": digest.hexdigest()}


async def _delete(client: AsyncClient, args: Args) -> None:
    await client.delete_session(str(args["session_id"]))


async def _live(client: AsyncClient, args: Args) -> dict[str, Any]:
    audio = generate_audio(args.get("audio", {}))
    kinds: list[str] = []
    async with await client.start_live(_live_options(args)) as live:
        for i in range(0, len(audio), LIVE_PIECE):
            await live.send_audio(audio[i : i + LIVE_PIECE])
        await live.finalize()
        async for event in live.events():
            kinds.append(event.kind)
        result = await live.wait()
    return {"result": result, "events": kinds, "audio_bytes": len(audio)}


async def _auth_probe(client: AsyncClient, args: Args) -> Any:
    """The first call a backend serves: get a session, else start a live session, else
    analyze."""
    ports = client.capabilities.ports
    if Capability.CATALOG_GET in ports:
        return await _get_session(client, args)
    if Capability.CATALOG_LIST in ports:
        return [s async for s in client.list_sessions(limit=1)]
    if Capability.LIVE_INGEST in ports:
        return await _live(client, args)
    return await _batch(client, args)


async def _batch(client: AsyncClient, args: Args) -> IngestResult:
    media = generate_audio(args.get("media", {"container": "wav"}))
    return await client.analyze(media, _live_options(args))


# -- invariants --------------------------------------------------------------------------------


def _check_two_pages(result: list[Session], args: Args) -> None:
    size = int(args.get("page_size", 2))
    assert len(result) > size, f"expected more than one page ({size} per page), got {len(result)}"
    ids = [s.id for s in result]
    assert len(ids) == len(set(ids)), f"duplicate sessions in the listing: {ids}"
    query = _query(args)
    for s in result:
        assert query.matches(s), f"session {s.id} does not match the query {query}"


def _check_completed(result: Session, args: Args) -> None:
    assert result.id == str(args["session_id"]), f"asked for {args['session_id']}, got {result.id}"
    assert result.status is SessionStatus.COMPLETED, f"status is {result.status}, not COMPLETED"


def _check_transcript(result: Transcript, args: Args) -> None:
    assert result.session_id == str(args["session_id"])
    assert result.utterances, "the transcript has no utterances"
    assert all(u.text.strip() for u in result.utterances), "an utterance has no text"


def _check_summary(result: Summary, args: Args) -> None:
    assert result.session_id == str(args["session_id"])
    assert result.text.strip(), "the summary is empty"


def _check_recordings(result: list[Recording], args: Args) -> None:
    assert result, "the session has no recordings"
    assert all(r.session_id == str(args["session_id"]) for r in result)


def _check_download(result: dict[str, Any], args: Args) -> None:
    assert result["size"] > 0, "the recording is empty"
    if "sha256" in args:
        assert result["sha256"] == args["sha256"], "the downloaded bytes differ"


def _check_live(result: dict[str, Any], args: Args) -> None:
    ingest: IngestResult = result["result"]
    assert ingest.bytes_sent == result["audio_bytes"], "not every audio byte was sent"
    assert ingest.session.status is SessionStatus.COMPLETED, f"ended {ingest.session.status}"
    assert ingest.transcript.utterances, "the live session produced no final utterance"
    assert result["events"], "the live session delivered no event"
    assert result["events"][-1] == DoneEvent.kind, (
        f"the event stream did not end with done: {result['events'][-5:]}"
    )


def _check_batch(result: IngestResult, args: Args) -> None:
    assert result.transcript.utterances, "the analysis produced no utterance"
    assert result.session.status is SessionStatus.COMPLETED


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="list_sessions_two_pages",
        capability=Capability.CATALOG_LIST,
        run=_list_two_pages,
        check=_check_two_pages,
        description="a listing that spans at least two pages, each session once",
    ),
    Scenario(
        name="get_session_completed",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
    ),
    Scenario(
        name="get_session_not_found",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        error="NotFound",
    ),
    Scenario(
        name="get_transcript",
        capability=Capability.TRANSCRIPTS,
        run=_get_transcript,
        check=_check_transcript,
    ),
    Scenario(
        name="get_summary",
        capability=Capability.SUMMARIES,
        run=_get_summary,
        check=_check_summary,
    ),
    Scenario(
        name="list_participants",
        capability=Capability.PARTICIPANTS,
        run=_list_participants,
    ),
    Scenario(
        name="list_chat",
        capability=Capability.CHAT,
        run=_list_chat,
    ),
    Scenario(
        name="list_recordings",
        capability=Capability.RECORDINGS,
        run=_list_recordings,
        check=_check_recordings,
    ),
    Scenario(
        name="download_recording",
        capability=Capability.RECORDINGS,
        run=_download,
        check=_check_download,
    ),
    Scenario(
        name="delete_session",
        capability=Capability.CATALOG_DELETE,
        run=_delete,
    ),
    Scenario(
        name="rate_limited_then_ok",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
        faults="rate_limit_next",
    ),
    Scenario(
        name="server_error_then_ok",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
        faults="fail_next",
    ),
    Scenario(
        name="auth_failure",
        capability=None,
        run=_auth_probe,
        error="AuthenticationError",
        faults="bad_credentials",
    ),
    Scenario(
        name="live_ingest_roundtrip",
        capability=Capability.LIVE_INGEST,
        run=_live,
        check=_check_live,
    ),
    Scenario(
        name="batch_analyze",
        capability=Capability.BATCH_INGEST,
        run=_batch,
        check=_check_batch,
    ),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def outcome_json(value: Any) -> Outcome:
    """A scenario's return value as the JSON outcome compared with ``expected/``."""
    if isinstance(value, dict) and "result" in value and "events" in value:
        return {"result": serde.unstructure(value["result"]), "events": list(value["events"])}
    return {"result": serde.unstructure(value)}


__all__ = ["BY_NAME", "SCENARIOS", "Scenario", "generate_audio", "outcome_json", "outcome_of_error"]
