"""The Illocution-specific cassettes (409 resync, second consumer, cancel, keepalive, expiry)
replayed against their expected results, and the writer reproducing every fixture."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from convoport.connect import connect
from convoport.contracts.cassette import load_cassette
from convoport.contracts.kit import KIT_RETRY
from convoport.contracts.transport import ReplayTransport, json_diff
from convoport.errors import LiveSessionError
from convoport.model import SessionStatus
from tests.adapters.illocution.cassette_writer import BY_SPEC, SPECS, TEST_KEY, Spec, run_spec
from tests.adapters.illocution.support import CASSETTES, EXPECTED, FakeClock, PacedReplay

OWN = [spec for spec in SPECS if not spec.kit]


async def _replay(spec: Spec) -> tuple[dict[str, Any], Any, ReplayTransport]:
    transport = ReplayTransport(load_cassette(CASSETTES / f"{spec.name}.json"))
    outer: httpx.AsyncBaseTransport = PacedReplay(transport) if spec.paced else transport
    client = connect("illocution", transport=outer, retry=KIT_RETRY, api_key=TEST_KEY)
    async with client:
        outcome, raw = await run_spec(spec, client, clock=FakeClock() if spec.fake_clock else None)
    return outcome, raw, transport


@pytest.mark.anyio
@pytest.mark.parametrize("spec", OWN, ids=[s.name for s in OWN])
async def test_cassette_gives_the_expected_outcome(spec: Spec) -> None:
    outcome, _, transport = await _replay(spec)
    expected = json.loads((EXPECTED / f"{spec.name}.json").read_text(encoding="utf-8"))
    differences = json_diff(outcome, expected)
    assert not differences, "\n".join(differences)
    transport.assert_all_used()


@pytest.mark.anyio
async def test_409_on_a_retry_moves_past_the_stored_chunk() -> None:
    outcome, result, _ = await _replay(BY_SPEC["live_409_resync"])
    assert result.session.status is SessionStatus.COMPLETED
    assert result.bytes_sent == 192_044
    assert len(result.transcript.utterances) == 6
    assert outcome["events"][-1] == "done"


@pytest.mark.anyio
async def test_second_consumer_is_a_clear_error() -> None:
    _, error, transport = await _replay(BY_SPEC["live_second_consumer_refused"])
    assert isinstance(error, LiveSessionError)
    assert "another consumer is attached" in str(error)
    transport.assert_all_used()  # the event stream was requested once, never twice


@pytest.mark.anyio
async def test_cancel_midstream_ends_cancelled() -> None:
    outcome, result, _ = await _replay(BY_SPEC["live_cancel_midstream"])
    assert result.session.status is SessionStatus.CANCELLED
    assert result.session.provider_status == "cancelled"
    assert outcome["events"][-1] == "error"
    assert result.transcript.utterances  # what arrived before the cancel is kept


@pytest.mark.anyio
async def test_keepalive_cassette_holds_one_automatic_keepalive() -> None:
    cassette = load_cassette(CASSETTES / "live_keepalive.json")
    actions = [
        i.request.body.value["action"]  # type: ignore[union-attr]
        for i in cassette.interactions
        if i.request.url.endswith("/control")
    ]
    assert actions == ["keepalive", "finalize"]
    _, result, _ = await _replay(BY_SPEC["live_keepalive"])
    assert result.session.status is SessionStatus.COMPLETED


@pytest.mark.anyio
async def test_expired_session_is_reported_as_expired() -> None:
    _, error, _ = await _replay(BY_SPEC["live_session_expired"])
    assert isinstance(error, LiveSessionError)
    assert "expired" in str(error)


def test_cassettes_say_where_they_come_from() -> None:
    for spec in SPECS:
        cassette = load_cassette(CASSETTES / f"{spec.name}.json")
        assert cassette.meta["provider"] == "illocution"
        assert cassette.meta["scenario"] == spec.name
        assert "no vendor account was used" in cassette.meta["source"]
        assert cassette.meta["args"] == spec.args


@pytest.mark.anyio
async def test_the_writer_reproduces_every_fixture() -> None:
    from tests.adapters.illocution.cassette_writer import generate

    files = await generate()
    assert sorted(files) == sorted(spec.name for spec in SPECS)
    for name, (cassette, expected) in files.items():
        for folder, text in ((CASSETTES, cassette), (EXPECTED, expected)):
            on_disk = (folder / f"{name}.json").read_text(encoding="utf-8")
            assert text == on_disk, f"{folder.name}/{name}.json is out of date: run the writer"


@pytest.mark.anyio
async def test_an_unexpected_failure_of_the_reader_surfaces_instead_of_hanging() -> None:
    import attrs

    from convoport.contracts.transport import CassetteMismatch
    from convoport.live import LiveOptions

    cassette = load_cassette(CASSETTES / "live_ingest_roundtrip.json")
    without_events = attrs.evolve(
        cassette,
        interactions=tuple(
            i for i in cassette.interactions if not i.request.url.endswith("/events")
        ),
    )
    transport = ReplayTransport(without_events)
    async with connect("illocution", transport=transport, api_key=TEST_KEY) as client:
        with pytest.raises(CassetteMismatch, match="/events"):
            await client.start_live(LiveOptions(encoding="wav"))
