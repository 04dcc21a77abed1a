"""Every RealtimeKit answer — recorded in the cassettes, or crawled from the emulator over every
route, parameter and error — follows the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convoport.adapters.realtimekit.emulator import ACCOUNT_ID, APP_ID, RealtimeKitEmulator
from convoport.contracts.cassette import JsonBody
from convoport.sandbox import Faults
from tests.adapters.realtimekit.openapi import DOCUMENT, response_errors, spec, template_for
from tests.adapters.realtimekit.scenarios import CASSETTES, SCENARIOS
from tests.support import cassettes as recorded
from tests.support.cassettes import Exchange
from tests.support.checked import CheckedClient

pytest.importorskip("jsonschema")

CASSETTE_FILES = recorded.cassette_files(CASSETTES)
APP = f"/client/v4/accounts/{ACCOUNT_ID}/realtime/kit/{APP_ID}"
TOKEN = {"authorization": "Bearer sandbox-token"}


def test_every_scenario_has_a_cassette() -> None:
    recorded.assert_one_cassette_each(CASSETTE_FILES, SCENARIOS.applicable())


def _json_on_a_route(exchange: Exchange) -> list[str]:
    """Every answer of the API host is JSON, on a route of the document."""
    assert isinstance(exchange.response.body, JsonBody), f"{exchange.where}: not JSON"
    assert template_for(exchange.url.path) is not None, exchange.url.path
    return []


def _storage(exchange: Exchange) -> None:
    """The storage host is the only other one, and never sees the API token."""
    assert exchange.url.netloc == "realtimekit-storage.example", exchange.url.netloc
    assert "authorization" not in {k.lower() for k in exchange.request.headers}


@recorded.each_cassette(CASSETTE_FILES)
def test_cassette_follows_the_document(path: Path) -> None:
    cassette = recorded.load_vendor_cassette(path, provider="realtimekit")
    problems = recorded.cassette_problems(
        cassette, DOCUMENT, host="api.cloudflare.com", check=_json_on_a_route, elsewhere=_storage
    )
    assert not problems, "\n".join(problems)


def _crawl_requests(harness: RealtimeKitEmulator) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, params) over every route, with the seeded data."""
    ended = harness.top_level("ENDED")
    live = harness.top_level("LIVE")
    yield "GET", "/sessions", {}
    yield "GET", "/sessions", {"page_no": 2, "per_page": 7, "sort_order": "ASC"}
    yield "GET", "/sessions", {"page_no": 99, "per_page": 10}
    yield "GET", "/sessions", {"status": "LIVE", "sort_by": "minutesConsumed"}
    yield "GET", "/sessions", {"search": "sync", "participants": "2:3"}
    yield "GET", "/sessions", {"start_time": "2026-09-02T00:00:00Z", "end_time": "2026-09-05"}
    yield "GET", "/sessions", {"associated_id": ended[0].raw["associated_id"]}
    for seeded in [*ended, *live]:
        sid = seeded.id
        yield "GET", f"/sessions/{sid}", {"include_breakout_rooms": "true"}
        yield "GET", f"/sessions/{sid}", {}
        yield "GET", f"/sessions/{sid}/participants", {"include_peer_events": "true"}
        yield "GET", f"/sessions/{sid}/participants", {"view": "consolidated", "per_page": 1}
        yield "GET", f"/sessions/{sid}/participants", {"sort_by": "duration", "search": "a"}
        first = seeded.participants[0]["id"]
        yield "GET", f"/sessions/{sid}/participants/{first}", {"include_peer_events": "true"}
        yield "GET", f"/sessions/peer-report/{first}", {"filters": "device_info"}
        yield "GET", f"/sessions/{sid}/chat", {}
        for fmt in ("CSV", "JSON", "SRT", "VTT"):
            yield "GET", f"/sessions/{sid}/transcript", {"format": fmt}
        yield "GET", f"/sessions/{sid}/summary", {}
        yield "POST", f"/sessions/{sid}/summary", {}
        for room in seeded.breakout:
            yield "GET", f"/sessions/{room}", {}
    yield "GET", "/recordings", {}
    yield "GET", "/recordings", {"per_page": 3, "page_no": 2, "status": "UPLOADED,ERRORED"}
    yield "GET", "/recordings", {"expired": "true", "search": "sync", "sort_by": "invokedTime"}
    for rec in list(harness.recordings)[:12]:
        yield "GET", f"/recordings/{rec}", {}
    # errors in RealtimeKit's envelope
    yield "GET", "/sessions/00000000-0000-4000-8000-000000000000", {}
    yield "GET", "/sessions", {"per_page": "500"}
    yield "GET", "/sessions", {"status": "OPEN"}
    yield "GET", "/recordings/00000000-0000-4000-8000-000000000000", {}
    yield "GET", "/sessions/peer-report/nobody", {}


def test_every_emulator_answer_follows_the_document() -> None:
    harness = RealtimeKitEmulator()

    async def crawl() -> list[str]:
        checked = CheckedClient(
            harness.transport(), DOCUMENT, base_url="https://api.cloudflare.com"
        )
        async with checked as c:
            count = 0
            for method, path, params in _crawl_requests(harness):
                await c.request(method, APP + path, params=params, headers=TOKEN)
                count += 1
            # the gateway's envelope: auth, routes, the global block
            for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic x"}):
                answer = await c.get(APP + "/sessions", headers=headers)
                assert answer.status_code in (400, 401)
            other = "/client/v4/accounts/0000/realtime/kit/x/sessions"
            for path in (other, APP + "/nothing-here"):
                answer = await c.get(path, headers=TOKEN)
                assert answer.status_code == 404
            harness.global_block_next = 1
            answer = await c.get(APP + "/sessions", headers=TOKEN)
            assert answer.status_code == 429
            assert answer.headers["retry-after"] == "300"
            assert count > 300
        assert len(checked.answered) == count + 6
        return checked.problems

    import asyncio

    problems = asyncio.run(crawl())
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("status", [429, 503])
def test_injected_faults_use_realtimekit_envelope(status: int) -> None:
    faults = Faults(rate_limit_next=1) if status == 429 else Faults(fail_next=1)
    harness = RealtimeKitEmulator(faults=faults)

    async def one() -> httpx.Response:
        async with httpx.AsyncClient(transport=harness.transport()) as c:
            return await c.get("https://api.cloudflare.com" + APP + "/sessions", headers=TOKEN)

    import asyncio

    answer = asyncio.run(one())
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == status
    assert not response_errors("GET", APP + "/sessions", status, answer.json())


def test_the_document_is_the_shared_one() -> None:
    shared = Path(__file__).resolve().parents[4] / "shared/vendor-specs"
    copy = shared / "realtimekit-sessions.openapi.json"
    if not copy.is_file():
        pytest.skip("shared/ is not beside the repository")
    import json

    assert json.loads(copy.read_text(encoding="utf-8")) == spec()
