"""The sync twin lists a page per trip to its event loop (no timing: the trips are counted)."""

from __future__ import annotations

from typing import Any

import convoport
from convoport import SessionQuery, SessionStatus


def _counting(client: convoport.SyncClient) -> list[int]:
    trips = [0]
    portal = client._portal
    call = portal.call

    def counted(fn: Any, *args: Any) -> Any:
        trips[0] += 1
        return call(fn, *args)

    portal.call = counted  # type: ignore[method-assign]
    return trips


def test_listing_crosses_threads_once_per_page() -> None:
    with convoport.connect_sync("gladia", sandbox=True) as client:
        expected = [s.id for s in client.list_sessions(page_size=100)]
        trips = _counting(client)
        got = [s.id for s in client.list_sessions(page_size=10)]
    assert got == expected
    assert len(got) == 36
    # 4 pages of 10, one more step that finds the end, one close of the generator
    assert trips[0] <= 4 + 2


def test_limit_and_local_filters_keep_their_meaning_per_page() -> None:
    done = SessionQuery(statuses={SessionStatus.COMPLETED})
    with convoport.connect_sync("gladia", sandbox=True) as client:
        every = [s.id for s in client.list_sessions(done, page_size=7)]
        first = [s.id for s in client.list_sessions(done, page_size=7, limit=9)]
        async_ids = client._portal.call(_async_ids, client.async_client, done)
    assert first == every[:9]
    assert every == async_ids


async def _async_ids(client: convoport.AsyncClient, query: SessionQuery) -> list[str]:
    return [s.id async for s in client.list_sessions(query, page_size=7)]


def test_leaving_early_closes_the_listing() -> None:
    with convoport.connect_sync("gladia", sandbox=True) as client:
        listing = client.list_sessions(page_size=5)
        first = next(listing)
        close = getattr(listing, "close")  # noqa: B009 (a generator)
        close()
        assert first.id == next(iter(client.list_sessions(limit=1))).id
