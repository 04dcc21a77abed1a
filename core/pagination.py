"""The generic pagination loop and the cursor rules of the usual paging styles.

An adapter's ``_list_sessions_page(query, cursor, page_size)`` fetches one page and returns a
:class:`Page` whose ``next`` is the cursor of the following page (``None`` on the last page).
The loop in :func:`paginate` stops on the vendor's end marker **and** on an empty page, refuses
a cursor that repeats (a vendor bug would otherwise loop forever), and drops items it has
already yielded (offset paging over a list that grows shifts items onto later pages).

The helpers compute ``next`` for each style:

* offset/limit (Gladia): :func:`next_offset`
* page number (Syllable 0-based, RealtimeKit 1-based): :func:`next_page_number`
* next URL (Gladia's ``next``): :func:`next_url`, which refuses another host
* opaque cursor: the vendor's token itself (``None`` or ``""`` ends)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import attrs
import httpx

from convoport.errors import MalformedResponse

T = TypeVar("T")

#: A page cursor: an offset, a page number, a URL, or a vendor token.
Cursor = Any


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next one (``None``: this is the last)."""

    items: Sequence[T]
    next: Cursor | None = None


async def paginate(
    fetch: Callable[[Cursor | None], Awaitable[Page[T]]],
    *,
    provider: str,
    key: Callable[[T], Hashable] | None = None,
    max_pages: int = 1_000_000,
) -> AsyncIterator[T]:
    """Yields every item of every page, starting with cursor ``None``.

    Stops when a page is empty, when its ``next`` is ``None``/``""``, or after ``max_pages``.
    ``key`` identifies items for de-duplication across pages (items seen before are skipped).
    """
    async for items in paginate_pages(fetch, provider=provider, key=key, max_pages=max_pages):
        for item in items:
            yield item


async def paginate_pages(
    fetch: Callable[[Cursor | None], Awaitable[Page[T]]],
    *,
    provider: str,
    key: Callable[[T], Hashable] | None = None,
    max_pages: int = 1_000_000,
) -> AsyncIterator[list[T]]:
    """:func:`paginate` a page at a time: yields the new items of each page (possibly an
    empty list, when every item was seen before), with the same stopping rules. The next page
    is fetched only when the caller asks for it. (The sync twin crosses threads once per page
    with it, not once per item.)"""
    cursor: Cursor | None = None
    seen_cursors: set[Any] = set()
    seen_keys: set[Hashable] = set()
    for _ in range(max_pages):
        page = await fetch(cursor)
        if not page.items:
            return
        if key is None:
            yield list(page.items)
        else:
            fresh: list[T] = []
            for item in page.items:
                k = key(item)
                if k not in seen_keys:
                    seen_keys.add(k)
                    fresh.append(item)
            yield fresh
        nxt = page.next
        if nxt is None or nxt == "":
            return
        marker = _hashable(nxt)
        if marker in seen_cursors or (cursor is not None and marker == _hashable(cursor)):
            raise MalformedResponse(
                f"pagination repeated the cursor {str(nxt)[:80]!r}",
                provider=provider,
                hint="the vendor's listing is looping; narrow the query or report it",
            )
        seen_cursors.add(marker)
        cursor = nxt


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def next_offset(offset: int, limit: int, count: int, total: int | None = None) -> int | None:
    """The next offset, or ``None`` when this page (``count`` items at ``offset``) was last:
    a short page, or ``total`` reached."""
    if count == 0 or count < limit:
        return None
    following = offset + count
    if total is not None and following >= total:
        return None
    return following


def next_page_number(
    page: int,
    count: int,
    page_size: int,
    *,
    total_pages: int | None = None,
    total_count: int | None = None,
    first_page: int = 0,
) -> int | None:
    """The next page number, or ``None`` when ``page`` was last: empty or short page,
    ``total_pages`` reached, or ``total_count`` items covered."""
    if count == 0 or count < page_size:
        return None
    index = page - first_page
    if total_pages is not None and index + 1 >= total_pages:
        return None
    if total_count is not None and (index + 1) * page_size >= total_count:
        return None
    return page + 1


def next_url(value: Any, *, base_url: str | httpx.URL, provider: str) -> str | None:
    """Validates a vendor's absolute ``next`` link: ``None``/empty ends; a link to another
    scheme, host or port than ``base_url`` is refused, so credentials never leave the vendor."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"pagination link is not a string: {value!r}", provider=provider)
    base = httpx.URL(str(base_url))
    try:
        url = base.join(value)
    except httpx.InvalidURL as exc:  # control characters, over 65,536 characters, ...
        raise MalformedResponse(
            f"pagination link is not a valid URL ({exc}): {value[:80]!r}",
            provider=provider,
            hint="the vendor's API may have changed; please report this",
        ) from None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        raise MalformedResponse(
            f"pagination link points to another host ({url.host}); refusing to follow it",
            provider=provider,
            hint="check the configured base URL",
        )
    return str(url)


__all__ = [
    "Cursor",
    "Page",
    "next_offset",
    "next_page_number",
    "next_url",
    "paginate",
    "paginate_pages",
]
