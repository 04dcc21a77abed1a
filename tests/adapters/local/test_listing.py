"""Filters in SQL and offset pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest

import convoport
from convoport import SessionQuery, SessionStatus
from convoport.adapters.local.adapter import LocalAdapter
from convoport.model import Session

from ._helpers import BASE, archive_session, make_session

pytestmark = pytest.mark.anyio

STATUSES = [SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.CANCELLED]


async def _fill(adapter: LocalAdapter, count: int = 12) -> list[Session]:
    sessions = []
    for i in range(count):
        metadata: dict[str, Any] = {"team": "a" if i % 2 else "b", "n": i, "flag": i % 3 == 0}
        if i == 5:
            metadata = {}
        session = make_session(
            f"s{i:02d}",
            provider="gladia" if i % 4 else "illocution",
            day=i,
            status=STATUSES[i % 3],
            title=f"Call {i} with 50%_off" if i % 5 == 0 else f"Call {i}",
            metadata=metadata,
        )
        sessions.append(session)
    # commit out of order: listing order comes from created_at, not insertion
    for session in reversed(sessions):
        await archive_session(adapter, session)
    return sessions


async def _ids(client: convoport.AsyncClient, query: SessionQuery | None = None) -> list[str]:
    """The ids listed oldest first (these tests are about filters, not the default order)."""
    return [s.id async for s in client.list_sessions(query, order="oldest")]


async def test_ordered_by_created_at(adapter: LocalAdapter, client: convoport.AsyncClient) -> None:
    sessions = await _fill(adapter)
    # newest first by default, like the vendors; oldest first is the exact reverse
    assert [s async for s in client.list_sessions()] == sessions[::-1]
    assert [s async for s in client.list_sessions(order="newest", page_size=5)] == sessions[::-1]
    assert [s async for s in client.list_sessions(order="oldest", page_size=5)] == sessions
    oldest = SessionQuery(order="oldest")
    assert [s async for s in client.list_sessions(oldest)] == sessions


async def test_sessions_without_a_time_come_last_when_newest_first(
    adapter: LocalAdapter, client: convoport.AsyncClient
) -> None:
    sessions = await _fill(adapter, count=3)
    timeless = attrs.evolve(make_session("zz", day=0), created_at=None)
    await archive_session(adapter, timeless)
    listed = [s.id async for s in client.list_sessions()]
    assert listed == [s.id for s in sessions[::-1]] + ["zz"]
    assert [s.id async for s in client.list_sessions(order="oldest")] == listed[::-1]


@pytest.mark.parametrize(
    "query",
    [
        SessionQuery(created_after=BASE + timedelta(days=3, minutes=3)),
        SessionQuery(created_before=BASE + timedelta(days=3, minutes=3)),
        SessionQuery(
            created_after=BASE + timedelta(days=2), created_before=BASE + timedelta(days=6)
        ),
        SessionQuery(created_on=(BASE + timedelta(days=4)).date().isoformat()),
        SessionQuery(statuses={SessionStatus.FAILED}),
        SessionQuery(statuses={SessionStatus.FAILED, SessionStatus.CANCELLED}),
        SessionQuery(statuses=set()),
        SessionQuery(metadata={"team": "a"}),
        SessionQuery(metadata={"team": "a", "n": "3"}),
        SessionQuery(metadata={"flag": "True"}),
        SessionQuery(metadata={"missing": "x"}),
        SessionQuery(statuses={SessionStatus.COMPLETED}, metadata={"team": "b"}),
    ],
)
async def test_filters_match_the_neutral_semantics(
    adapter: LocalAdapter, client: convoport.AsyncClient, query: SessionQuery
) -> None:
    sessions = await _fill(adapter)
    expected = [s.id for s in sessions if query.matches(s)]
    assert await _ids(client, query) == expected


async def test_filters_are_applied_in_sql(adapter: LocalAdapter) -> None:
    await _fill(adapter)
    page = await adapter._list_sessions_page(SessionQuery(metadata={"team": "a"}), None, 100)
    assert [s.id for s in page.items] == [f"s{i:02d}" for i in range(11, 0, -2) if i != 5]


async def test_search_title_and_id(adapter: LocalAdapter, client: convoport.AsyncClient) -> None:
    await _fill(adapter)
    assert await _ids(client, SessionQuery(search="call 1")) == ["s01", "s10", "s11"]
    assert await _ids(client, SessionQuery(search="s0")) == [f"s0{i}" for i in range(10)]
    # LIKE wildcards in the search text are literal
    assert await _ids(client, SessionQuery(search="50%_")) == ["s00", "s05", "s10"]
    assert await _ids(client, SessionQuery(search="%")) == ["s00", "s05", "s10"]
    assert await _ids(client, SessionQuery(search="nothing")) == []


async def test_pagination_across_pages(
    adapter: LocalAdapter, client: convoport.AsyncClient
) -> None:
    sessions = await _fill(adapter, 11)
    pages: list[int] = []
    original = adapter._list_sessions_page

    async def spy(query: SessionQuery, cursor: Any, size: int) -> Any:
        page = await original(query, cursor, size)
        pages.append(len(page.items))
        return page

    adapter._list_sessions_page = spy  # type: ignore[method-assign,assignment]
    got = [s async for s in client.list_sessions(page_size=3)]
    assert got == sessions[::-1]
    assert pages == [3, 3, 3, 2]
    pages.clear()
    assert len([s async for s in client.list_sessions(page_size=3, limit=4)]) == 4
    assert pages == [3, 3]


async def test_exact_pages_end_without_an_empty_fetch(adapter: LocalAdapter) -> None:
    await _fill(adapter, 6)
    first = await adapter._list_sessions_page(SessionQuery(), None, 3)
    assert first.next is not None  # a keyset cursor: where the page ended
    assert len(first.items) == 3
    second = await adapter._list_sessions_page(SessionQuery(), first.next, 3)
    assert len(second.items) == 3
    assert second.next is None


async def test_empty_archive_lists_nothing(client: convoport.AsyncClient) -> None:
    assert await _ids(client) == []
