"""Gladia's own scenarios, replayed from cassettes and compared with expected/."""

from __future__ import annotations

import pytest

from convoport.contracts.transport import json_diff
from tests.adapters.gladia.scenarios import GLADIA_SCENARIOS, expected, run_cassette, scenario


@pytest.mark.parametrize("name", sorted(GLADIA_SCENARIOS))
def test_scenario_from_cassette(name: str) -> None:
    outcome, raw, transport = run_cassette(name)
    differences = json_diff(outcome, expected(name))
    assert not differences, f"{name}: outcome differs from expected/{name}.json:\n" + "\n".join(
        differences
    )
    chosen = scenario(name)
    if chosen.error is not None:
        assert outcome["error"]["type"] == chosen.error
    else:
        assert "error" not in outcome, raw
        assert chosen.check is not None
        chosen.check(raw, transport.cassette.meta["args"])
    transport.assert_all_used()


def test_delete_refused_explains_what_to_do() -> None:
    _, error, _ = run_cassette("delete_refused_403")
    assert "must be done or errored" in str(error)
    assert error.status_code == 403


def test_invalid_request_lists_validation_errors() -> None:
    _, error, _ = run_cassette("invalid_request_400")
    assert "endpointing must not be greater than 10" in str(error)
    assert error.request_id


def test_drop_and_resume_replays_two_sockets() -> None:
    outcome, raw, transport = run_cassette("live_ingest_drop_and_resume")
    assert len(transport.websocket.sessions) == 2
    assert "reconnecting" not in outcome["events"]  # phases are in the events' data, not kinds
    assert outcome["events"].count("ack") == 3
    assert raw["result"].bytes_sent == 96000
