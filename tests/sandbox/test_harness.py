"""EmulatorHarness: the documented hooks, on a minimal emulator and on the in-tree ones."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from convoport.adapter import Adapter
from convoport.errors import ConfigError
from convoport.sandbox import EmulatorHarness, HarnessSettings, SandboxClock


class TinyEmulator(EmulatorHarness):
    """A made-up vendor: one list route, bearer auth, its own error envelope."""

    provider = "tiny"
    base_url = "https://api.tiny.example"
    sandbox_key = "tiny-key"
    credential_option = "token"
    credential_header = "authorization"
    credential_scheme = "Bearer"
    credential_query = "token"
    default_seed = 5
    default_sessions = 12

    def routes(self) -> Sequence[BaseRoute]:
        return [Route("/items", self._items, methods=["GET"])]

    def error_body(self, status: int, message: str, *, path: str = "", **extra: Any) -> Any:
        return {"error": message, "code": status, "at": path, **extra}

    async def _items(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        page = self.page_number_page(
            list(range(self.session_count)),
            page=int(request.query_params.get("page", "0")),
            limit=5,
        )
        return JSONResponse(page.body(list(page.items)) | {"now": self.now().isoformat()})


async def _get(harness: EmulatorHarness, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=harness.transport(), base_url=harness.base_url) as http:
        return await http.get(path, headers=headers)


@pytest.mark.anyio
async def test_hooks_of_a_minimal_emulator() -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    harness = TinyEmulator(clock=SandboxClock(start))
    assert harness.connect_options() == {
        "token": "tiny-key",
        "base_url": "https://api.tiny.example",
    }
    assert harness.bad_credentials() == {"token": "wrong-tiny-key"}
    assert (harness.seed, harness.session_count) == (5, 12)
    assert harness.scenario_args("get_session_completed") is None
    good = await _get(harness, "/items?page=2", authorization="Bearer tiny-key")
    assert good.status_code == 200
    assert good.json() == {"items": [10, 11], "page": 2, "page_size": 5, "total_pages": 3,
                           "total_count": 12, "now": start.isoformat()}  # fmt: skip
    by_query = await _get(harness, "/items?token=tiny-key")
    assert by_query.status_code == 200
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "tiny-key"}):
        denied = await _get(harness, "/items", **headers)
        assert denied.status_code == 401
        assert denied.json() == {"error": "Invalid or missing API key", "code": 401, "at": "/items"}
    missing = await _get(harness, "/nothing", authorization="Bearer tiny-key")
    assert (missing.status_code, missing.json()["error"]) == (404, "Not Found")
    async with httpx.AsyncClient(transport=harness.transport(), base_url=harness.base_url) as http:
        wrong = await http.post("/items")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "Method Not Allowed")


@pytest.mark.anyio
async def test_injected_faults_use_the_vendor_error_body() -> None:
    harness = TinyEmulator(settings=HarnessSettings(rate_limit=1.0, retry_after=3))
    limited = await _get(harness, "/items", authorization="Bearer tiny-key")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json() == {"error": "Too many requests", "code": 429, "at": "/items"}
    harness.faults.rate_limit_rate = 0.0
    harness.faults.fail_next = 1
    failed = await _get(harness, "/items", authorization="Bearer tiny-key")
    assert failed.json() == {"error": "Internal server error", "code": 503, "at": "/items"}
    harness.faults.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        await _get(harness, "/items", authorization="Bearer tiny-key")
    assert harness.faults.injected == {"rate_limit": 1, "error": 1, "drop": 1}


def test_settings_size_the_emulator_and_seed_its_faults() -> None:
    harness = TinyEmulator.from_settings(HarnessSettings(sessions=3, seed=9, latency_ms=5))
    assert (harness.session_count, harness.seed) == (3, 9)
    assert (harness.faults.seed, harness.faults.latency) == (9, 0.005)
    assert TinyEmulator(api_key="other").connect_options()["token"] == "other"


def test_an_emulator_without_routes_says_so() -> None:
    with pytest.raises(NotImplementedError, match="routes"):
        _ = EmulatorHarness().app


def test_sandbox_refuses_an_emulator_that_is_not_a_harness() -> None:
    class Odd(Adapter):
        name = "odd"
        emulator = "collections:OrderedDict"

    with pytest.raises(ConfigError, match="is not an EmulatorHarness"):
        Odd._sandbox_options()


def test_in_tree_emulators_are_harnesses() -> None:
    from convoport.adapters.gladia.emulator import GladiaEmulator
    from convoport.adapters.illocution.emulator import IllocutionEmulator

    for cls in (GladiaEmulator, IllocutionEmulator):
        assert issubclass(cls, EmulatorHarness)
        harness = cls.from_settings(HarnessSettings(seed=2))
        assert harness.seed == 2
        assert harness.bad_credentials() != {"api_key": harness.sandbox_key}


def test_gladia_seeds_10000_sessions_deterministically(capsys: pytest.CaptureFixture[str]) -> None:
    from convoport.adapters.gladia.emulator import GladiaEmulator

    started = time.perf_counter()
    big = GladiaEmulator(settings=HarnessSettings(sessions=10_000, seed=3))
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[10,000 Gladia sessions seeded in {elapsed:.2f} s]")
    jobs = big.jobs()
    assert len(jobs) == 10_000
    assert {j.status for j in jobs} == {"queued", "processing", "done", "error"}
    small = GladiaEmulator(settings=HarnessSettings(sessions=36, seed=3))
    assert [j.to_wire() for j in small.jobs()] == [j.to_wire() for j in jobs[:36]]
    assert [j.id for j in GladiaEmulator(jobs=36, seed=3).jobs()] == [j.id for j in small.jobs()]
