"""Pagination helpers for the three styles the vendors use.

Each helper takes the full, filtered and sorted list of items and the page the client asked
for, and returns that page with the vendor's paging fields. They are pure: validate the query
first (an emulator answers a bad ``limit`` with the vendor's 400); called with impossible
arguments they raise ``ConfigError``.

===============================  ==============================  ===============================
style                            vendor                          helper
===============================  ==============================  ===============================
offset/limit + ``next`` link     Gladia ``GET /v2/live``          :func:`offset_link_page`
0-based page numbers             Syllable ``GET /sessions/``      :func:`page_number_page`
page_no/per_page + total_count   RealtimeKit ``GET /sessions``    :func:`offset_total_page`
===============================  ==============================  ===============================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

import attrs

from convoport.errors import ConfigError

T = TypeVar("T")


def _check(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"pagination helper: {name} must be a whole number >= {minimum}")


# -- offset/limit with links (Gladia) ---------------------------------------------------------


@attrs.frozen(kw_only=True)
class LinkPage(Generic[T]):
    """One page of an offset/limit listing with absolute links: ``first``, ``current``, and
    ``next`` (None on the last page: when ``offset + limit`` reaches the total)."""

    items: Sequence[T]
    first: str
    current: str
    next: str | None
    total: int


def offset_link_page(
    items: Sequence[T],
    *,
    offset: int,
    limit: int,
    base_url: str,
    params: Sequence[tuple[str, str]] = (),
) -> LinkPage[T]:
    """``items[offset:offset + limit]`` with links to ``base_url`` carrying ``offset``,
    ``limit`` and then ``params`` (the client's filters, in its order) as the query."""
    _check("offset", offset, 0)
    _check("limit", limit, 1)

    def link(at: int) -> str:
        return base_url + "?" + urlencode([("offset", at), ("limit", limit), *params])

    following = offset + limit
    return LinkPage(
        items=items[offset:following],
        first=link(0),
        current=link(offset),
        next=link(following) if following < len(items) else None,
        total=len(items),
    )


# -- 0-based page numbers (Syllable) ---------------------------------------------------------

Totals = Literal["present", "null", "absent"]


@attrs.frozen(kw_only=True)
class NumberedPage(Generic[T]):
    """One page of a 0-based page-number listing (Syllable's ``ListResponse``): page ``page``
    covers ``[page * page_size, (page + 1) * page_size)``; ``page_size`` echoes the requested
    limit (also on a short last page); ``total_pages``/``total_count`` may be None."""

    items: Sequence[T]
    page: int
    page_size: int
    total_pages: int | None
    total_count: int | None
    totals: Totals = "present"

    def body(self, items: list[Any]) -> dict[str, Any]:
        """The JSON object with ``items`` (the page's items rendered by the caller); the
        totals are left out when ``totals="absent"``, null when ``"null"``."""
        out: dict[str, Any] = {"items": items, "page": self.page, "page_size": self.page_size}
        if self.totals != "absent":
            out["total_pages"] = self.total_pages
            out["total_count"] = self.total_count
        return out

    @staticmethod
    def is_last(items: Sequence[Any], *, page: int, limit: int, total_pages: int | None) -> bool:
        """Syllable's end-of-pages rule (reference §3.4): no items, or ``page + 1 >=
        total_pages`` when totals are given, or fewer items than ``limit``."""
        return (
            not items or (total_pages is not None and page + 1 >= total_pages) or len(items) < limit
        )


def page_number_page(
    items: Sequence[T], *, page: int, limit: int, totals: Totals = "present"
) -> NumberedPage[T]:
    """Page ``page`` (0-based) of ``limit`` items. ``totals`` chooses how the optional totals
    appear (``"present"``; ``"null"`` or ``"absent"`` exercise a client's fallback to
    :meth:`NumberedPage.is_last`). A page past the end is empty."""
    _check("page", page, 0)
    _check("limit", limit, 1)
    start = page * limit
    count = len(items)
    known = totals == "present"
    return NumberedPage(
        items=items[start : start + limit],
        page=page,
        page_size=limit,
        total_pages=-(-count // limit) if known else None,
        total_count=count if known else None,
        totals=totals,
    )


# -- page_no/per_page with total_count (RealtimeKit) ----------------------------------------


@attrs.frozen(kw_only=True)
class CountedPage(Generic[T]):
    """One page of a listing that reports ``paging {total_count, start_offset, end_offset}``
    (RealtimeKit): the offsets are the 1-based, inclusive positions of the page's first and
    last item. An empty page (past the end) reports both offsets equal to ``total_count``."""

    items: Sequence[T]
    total_count: int
    start_offset: int
    end_offset: int

    def paging(self) -> dict[str, int]:
        """The ``paging`` object."""
        return {
            "total_count": self.total_count,
            "start_offset": self.start_offset,
            "end_offset": self.end_offset,
        }

    @staticmethod
    def is_last(items: Sequence[Any], *, paging: dict[str, Any] | None, per_page: int) -> bool:
        """The end-of-pages rule of the reference: ``end_offset >= total_count``, or an empty
        page, or fewer items than ``per_page`` (paging may be missing)."""
        if not items or len(items) < per_page:
            return True
        if (
            paging
            and paging.get("end_offset") is not None
            and paging.get("total_count") is not None
        ):
            return bool(paging["end_offset"] >= paging["total_count"])
        return False


def offset_total_page(
    items: Sequence[T], *, page_no: int, per_page: int, first_page: int = 1
) -> CountedPage[T]:
    """Page ``page_no`` of ``per_page`` items, pages numbered from ``first_page`` (the
    reference leaves the base UNCONFIRMED: 1 by default, 0 to emulate the other reading)."""
    _check("first_page", first_page, 0)
    _check("page_no", page_no, first_page)
    _check("per_page", per_page, 1)
    offset = (page_no - first_page) * per_page
    page = items[offset : offset + per_page]
    total = len(items)
    if not page:
        return CountedPage(items=page, total_count=total, start_offset=total, end_offset=total)
    return CountedPage(
        items=page, total_count=total, start_offset=offset + 1, end_offset=offset + len(page)
    )


__all__ = [
    "CountedPage",
    "LinkPage",
    "NumberedPage",
    "Totals",
    "offset_link_page",
    "offset_total_page",
    "page_number_page",
]
