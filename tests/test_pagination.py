"""The pagination loop and the cursor rules of the usual paging styles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoport.errors import MalformedResponse
from convoport.pagination import Cursor, Page, next_offset, next_page_number, next_url, paginate

BASE = "https://api.vendor.test/v2/"


class Pages:
    """Serves pages by cursor and records every cursor asked for."""

    def __init__(self, pages: Mapping[Any, Page[Any]]) -> None:
        self.pages = pages
        self.cursors: list[Any] = []

    async def __call__(self, cursor: Cursor | None) -> Page[Any]:
        self.cursors.append(cursor)
        key = repr(cursor) if isinstance(cursor, dict) else cursor
        return self.pages[key]


async def collect(
    fetch: Callable[[Cursor | None], Awaitable[Page[Any]]], **kwargs: Any
) -> list[Any]:
    return [item async for item in paginate(fetch, provider="vendor", **kwargs)]


@pytest.mark.anyio
async def test_follows_cursors_until_next_is_none() -> None:
    fetch = Pages(
        {
            None: Page(items=[1, 2], next="c2"),
            "c2": Page(items=[3, 4], next="c3"),
            "c3": Page(items=[5], next=None),
        }
    )
    assert await collect(fetch) == [1, 2, 3, 4, 5]
    assert fetch.cursors == [None, "c2", "c3"]


@pytest.mark.anyio
async def test_stops_on_empty_next_string() -> None:
    fetch = Pages({None: Page(items=["a"], next="p2"), "p2": Page(items=["b"], next="")})
    assert await collect(fetch) == ["a", "b"]
    assert fetch.cursors == [None, "p2"]


@pytest.mark.anyio
async def test_stops_on_an_empty_page_even_with_a_next_cursor() -> None:
    fetch = Pages({None: Page(items=["a"], next=1), 1: Page(items=[], next=2)})
    assert await collect(fetch) == ["a"]
    assert fetch.cursors == [None, 1]


@pytest.mark.anyio
async def test_empty_first_page() -> None:
    fetch = Pages({None: Page(items=[], next="never")})
    assert await collect(fetch) == []
    assert fetch.cursors == [None]


@pytest.mark.anyio
async def test_zero_is_a_valid_cursor() -> None:
    fetch = Pages({None: Page(items=["a"], next=0), 0: Page(items=["b"], next=None)})
    assert await collect(fetch) == ["a", "b"]


@pytest.mark.anyio
async def test_a_repeated_cursor_is_malformed() -> None:
    fetch = Pages(
        {
            None: Page(items=[1], next="A"),
            "A": Page(items=[2], next="B"),
            "B": Page(items=[3], next="A"),
        }
    )
    seen: list[int] = []

    async def consume() -> None:
        async for item in paginate(fetch, provider="vendor"):
            seen.append(item)

    with pytest.raises(MalformedResponse, match="repeated the cursor 'A'") as caught:
        await consume()
    assert seen == [1, 2, 3]
    assert caught.value.provider == "vendor"
    assert fetch.cursors == [None, "A", "B"]


@pytest.mark.anyio
async def test_a_page_pointing_to_itself_is_malformed() -> None:
    fetch = Pages({None: Page(items=[1], next="A"), "A": Page(items=[2], next="A")})
    with pytest.raises(MalformedResponse):
        await collect(fetch)
    assert fetch.cursors == [None, "A"]


@pytest.mark.anyio
async def test_unhashable_cursors_are_compared_too() -> None:
    fetch = Pages(
        {
            None: Page(items=[1], next={"after": "x"}),
            repr({"after": "x"}): Page(items=[2], next={"after": "x"}),
        }
    )
    with pytest.raises(MalformedResponse):
        await collect(fetch)


@pytest.mark.anyio
async def test_items_are_deduplicated_by_key_across_pages() -> None:
    fetch = Pages(
        {
            None: Page(items=[{"id": "a"}, {"id": "b"}], next=2),
            2: Page(items=[{"id": "b"}, {"id": "c"}], next=4),
            4: Page(items=[{"id": "c"}, {"id": "c"}, {"id": "d"}], next=None),
        }
    )
    items = await collect(fetch, key=lambda item: item["id"])
    assert [item["id"] for item in items] == ["a", "b", "c", "d"]
    # Without a key, every item is yielded.
    assert len(await collect(fetch)) == 7


@pytest.mark.anyio
async def test_a_page_of_only_duplicates_does_not_end_the_listing() -> None:
    fetch = Pages(
        {
            None: Page(items=["a", "b"], next=2),
            2: Page(items=["b"], next=3),
            3: Page(items=["c"], next=None),
        }
    )
    assert await collect(fetch, key=str) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_max_pages() -> None:
    fetch = Pages(
        {None: Page(items=[0], next=1), **{n: Page(items=[n], next=n + 1) for n in range(1, 10)}}
    )
    assert await collect(fetch, max_pages=3) == [0, 1, 2]
    assert fetch.cursors == [None, 1, 2]


@pytest.mark.anyio
@given(
    total=st.integers(min_value=0, max_value=60),
    limit=st.integers(min_value=1, max_value=15),
    announce_total=st.booleans(),
)
async def test_offset_paging_yields_every_item_once(
    total: int, limit: int, announce_total: bool
) -> None:
    data = list(range(total))
    calls: list[Any] = []

    async def fetch(cursor: Cursor | None) -> Page[int]:
        calls.append(cursor)
        offset = cursor or 0
        items = data[offset : offset + limit]
        nxt = next_offset(offset, limit, len(items), total if announce_total else None)
        return Page(items=items, next=nxt)

    assert await collect(fetch) == data
    # One request per page; at most one extra request when the last page was exactly full.
    full_pages = -(-total // limit)
    assert full_pages <= len(calls) <= full_pages + 1
    if announce_total:
        assert len(calls) == max(full_pages, 1)


# -- next_offset / next_page_number ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "limit", "count", "total", "expected"),
    [
        (0, 10, 10, None, 10),
        (10, 10, 10, None, 20),
        (20, 10, 3, None, None),  # short page
        (20, 10, 0, None, None),  # empty page
        (0, 10, 10, 25, 10),
        (10, 10, 10, 25, 20),
        (0, 10, 10, 10, None),  # total reached exactly
        (0, 10, 10, 5, None),  # total smaller than what we saw
        (0, 10, 12, None, 12),  # vendor returned more than asked
    ],
)
def test_next_offset(
    offset: int, limit: int, count: int, total: int | None, expected: int | None
) -> None:
    assert next_offset(offset, limit, count, total) == expected


@pytest.mark.parametrize(
    ("page", "count", "size", "kwargs", "expected"),
    [
        (0, 20, 20, {}, 1),
        (3, 20, 20, {}, 4),
        (0, 5, 20, {}, None),  # short page
        (0, 0, 20, {}, None),  # empty page
        (0, 20, 20, {"total_pages": 2}, 1),
        (1, 20, 20, {"total_pages": 2}, None),
        (0, 20, 20, {"total_pages": 1}, None),
        (0, 20, 20, {"total_count": 40}, 1),
        (1, 20, 20, {"total_count": 40}, None),
        (1, 20, 20, {"total_count": 41}, 2),
        # 1-based numbering
        (1, 20, 20, {"first_page": 1}, 2),
        (1, 20, 20, {"first_page": 1, "total_pages": 2}, 2),
        (2, 20, 20, {"first_page": 1, "total_pages": 2}, None),
        (1, 20, 20, {"first_page": 1, "total_count": 20}, None),
        (1, 20, 20, {"first_page": 1, "total_count": 21}, 2),
        (2, 20, 20, {"first_page": 1, "total_count": 40}, None),
    ],
)
def test_next_page_number(
    page: int, count: int, size: int, kwargs: dict[str, int], expected: int | None
) -> None:
    assert next_page_number(page, count, size, **kwargs) == expected


# -- next_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (f"{BASE}sessions?offset=20", f"{BASE}sessions?offset=20"),
        ("https://API.vendor.test/v2/sessions?offset=20", f"{BASE}sessions?offset=20"),
        ("https://api.vendor.test:443/v2/x", f"{BASE}x"),
        ("/v2/sessions?offset=40", f"{BASE}sessions?offset=40"),
        ("sessions?offset=60", f"{BASE}sessions?offset=60"),
        ("?offset=80", f"{BASE}?offset=80"),
    ],
)
def test_next_url_accepts_same_origin_links(link: str, expected: str) -> None:
    assert next_url(link, base_url=BASE, provider="vendor") == expected
    assert next_url(link, base_url=httpx.URL(BASE), provider="vendor") == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.test/v2/sessions?offset=20",
        "//evil.test/v2/sessions",
        "http://api.vendor.test/v2/sessions",
        "https://api.vendor.test:8443/v2/sessions",
        "https://api.vendor.test.evil.test/v2/sessions",
    ],
)
def test_next_url_refuses_other_origins(link: str) -> None:
    with pytest.raises(MalformedResponse, match="another host") as caught:
        next_url(link, base_url=BASE, provider="vendor")
    assert caught.value.provider == "vendor"


@pytest.mark.parametrize("value", [None, ""])
def test_next_url_end(value: str | None) -> None:
    assert next_url(value, base_url=BASE, provider="vendor") is None


@pytest.mark.parametrize("value", [42, ["a"], {"href": "x"}])
def test_next_url_refuses_non_strings(value: Any) -> None:
    with pytest.raises(MalformedResponse, match="not a string"):
        next_url(value, base_url=BASE, provider="vendor")
