"""One listing order across backends: declared data, newest first by default wherever a backend
can give it, an order it cannot give refused before any I/O."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from convoport import (
    AsyncClient,
    Capabilities,
    ConfigError,
    SessionQuery,
    UnsupportedOperation,
    connect,
    migrate,
)
from convoport.capabilities import ListOrder
from convoport.cli import cli
from tests.fakes import FakeAdapter, FakeConfig

pytestmark = pytest.mark.anyio


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests[request.url.path] += 1
        return await self.inner.handle_async_request(request)


def test_the_default_order_is_newest_where_declared() -> None:
    assert Capabilities(orders={"newest", "oldest"}).default_order is ListOrder.NEWEST
    assert Capabilities(orders={"oldest"}).default_order is ListOrder.OLDEST
    assert Capabilities().default_order is None
    assert Capabilities(orders={"oldest"}).as_dict()["orders"] == ["oldest"]


async def test_gladia_lists_newest_first_and_refuses_oldest_before_any_io() -> None:
    from convoport.adapters.gladia.emulator import GladiaEmulator

    harness = GladiaEmulator()
    counting = Counting(harness.transport())
    async with connect("gladia", transport=counting, **harness.connect_options()) as client:
        assert client.capabilities.orders == {ListOrder.NEWEST}
        listed = [s async for s in client.list_sessions()]
        times = [s.created_at for s in listed]
        assert times == sorted(times, reverse=True)  # type: ignore[type-var]
        counting.requests.clear()
        with pytest.raises(UnsupportedOperation, match="order oldest") as caught:
            [s async for s in client.list_sessions(order="oldest")]
        assert "lists newest" in str(caught.value)
        assert sum(counting.requests.values()) == 0


async def test_an_undeclared_order_is_the_vendors_and_cannot_be_asked_for() -> None:
    client = AsyncClient(FakeAdapter(FakeConfig(api_key="k")))
    assert [s.id async for s in client.list_sessions()]  # the vendor's own order
    with pytest.raises(UnsupportedOperation, match="only the vendor's own order"):
        [s async for s in client.list_sessions(order="newest")]
    assert client.adapter.calls == ["list:None:3", "list:3:3", "list:6:3"]  # type: ignore[attr-defined]


async def test_bad_and_contradicting_orders_are_config_errors(tmp_path: Path) -> None:
    client = AsyncClient(FakeAdapter(FakeConfig(api_key="k")))
    with pytest.raises(ConfigError, match="order must be newest or oldest"):
        [s async for s in client.list_sessions(order="sideways")]
    with pytest.raises(ValueError, match="sideways"):
        SessionQuery(order="sideways")
    async with connect(f"local:{tmp_path / 'a'}", create=True) as archive:
        query = SessionQuery(order=ListOrder.OLDEST)
        with pytest.raises(ConfigError, match="contradicts"):
            [s async for s in archive.list_sessions(query, order="newest")]


async def test_an_archive_lists_like_its_vendor_by_default(tmp_path: Path) -> None:
    """Code that swaps gladia for its archive sees the same order."""
    archive = f"local:{tmp_path / 'a'}"
    await migrate("gladia", archive, sandbox=True, backoff_base=0)
    async with connect("gladia", sandbox=True) as source, connect(archive) as local:
        vendor = [s.id async for s in source.list_sessions() if s.status.terminal]
        archived = [s.id async for s in local.list_sessions()]
        assert archived == vendor
        oldest = [s.id async for s in local.list_sessions(order="oldest")]
        assert oldest == archived[::-1]


def test_cli_order_option(tmp_path: Path) -> None:
    runner = CliRunner()
    archive = f"local:{tmp_path / 'a'}"
    assert runner.invoke(cli, ["migrate", "gladia", archive, "--sandbox", "--json"]).exit_code == 0
    newest = runner.invoke(cli, ["--json", "sessions", "list", archive])
    oldest = runner.invoke(cli, ["--json", "sessions", "list", archive, "--order", "oldest"])
    assert newest.exit_code == 0
    assert oldest.exit_code == 0
    ids = [s["id"] for s in json.loads(newest.output)]
    assert [s["id"] for s in json.loads(oldest.output)] == ids[::-1]
    refused = runner.invoke(cli, ["sessions", "list", "gladia", "--sandbox", "--order", "oldest"])
    assert refused.exit_code == 3
    assert refused.output.strip().startswith("convoport: error:")
    assert "order oldest" in refused.output
