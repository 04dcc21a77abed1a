"""Closer looks at Gladia's own scenarios (the kit replays them and compares them with
expected/: see tests/contracts/test_gladia.py)."""

from __future__ import annotations

from typing import Any

from tests.adapters.gladia.scenarios import GLADIA_SCENARIOS, SCENARIOS


def test_own_scenarios_run_through_the_kit() -> None:
    """The kit runs Gladia's own scenarios (tests/contracts/test_gladia.py): no runner here."""
    from tests.contracts.test_gladia import TestGladiaCassettes

    for name in GLADIA_SCENARIOS:
        assert callable(getattr(TestGladiaCassettes, f"test_{name}"))
        assert TestGladiaCassettes._own[name] is GLADIA_SCENARIOS[name]


def test_three_pages_is_exactly_three_requests_of_two() -> None:
    replayed = SCENARIOS.replay("list_sessions_three_pages")
    raw: Any = replayed.raw
    transport: Any = replayed.transport
    assert (len(raw) + 1) // 2 == 3, "expected 3 pages of 2"
    assert len(transport.cassette.interactions) == 3
    transport.assert_all_used()


def test_delete_refused_explains_what_to_do() -> None:
    error: Any = SCENARIOS.replay("delete_refused_403").raw
    assert "must be done or errored" in str(error)
    assert error.status_code == 403


def test_invalid_request_lists_validation_errors() -> None:
    error: Any = SCENARIOS.replay("invalid_request_400").raw
    assert "endpointing must not be greater than 10" in str(error)
    assert error.request_id


def test_drop_and_resume_replays_two_sockets() -> None:
    replayed = SCENARIOS.replay("live_ingest_drop_and_resume")
    outcome, raw = replayed.outcome, replayed.raw
    transport: Any = replayed.transport
    assert len(transport.websocket.sessions) == 2
    assert "reconnecting" not in outcome["events"]  # phases are in the events' data, not kinds
    assert outcome["events"].count("ack") == 3
    assert raw["result"].bytes_sent == 96000
