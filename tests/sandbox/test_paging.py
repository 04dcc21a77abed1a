"""The three pagination helpers: every page, the vendors' end-of-pages rules, bad arguments."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from convoport.errors import ConfigError
from convoport.sandbox import (
    CountedPage,
    EmulatorHarness,
    NumberedPage,
    offset_link_page,
    offset_total_page,
    page_number_page,
)

ITEMS = list(range(23))


def test_offset_link_pages_walk_every_item_and_keep_the_filters_in_order() -> None:
    seen: list[int] = []
    offset, pages = 0, 0
    while True:
        page = offset_link_page(
            ITEMS,
            offset=offset,
            limit=5,
            base_url="http://h:1/v2/live",
            params=[("status", "done"), ("status", "error")],
        )
        seen += page.items
        pages += 1
        assert page.total == 23
        assert page.first == "http://h:1/v2/live?offset=0&limit=5&status=done&status=error"
        assert parse_qsl(urlsplit(page.current).query)[0] == ("offset", str(offset))
        if page.next is None:
            break
        query = parse_qsl(urlsplit(page.next).query)
        assert query == [("offset", str(offset + 5)), ("limit", "5"), *[("status", "done"),
                         ("status", "error")]]  # fmt: skip
        offset = int(query[0][1])
    assert seen == ITEMS
    assert pages == 5


def test_offset_link_page_edges() -> None:
    exact = offset_link_page(list(range(10)), offset=5, limit=5, base_url="http://h/x")
    assert exact.items == [5, 6, 7, 8, 9]
    assert exact.next is None  # offset + limit reaches the total
    past = offset_link_page(ITEMS, offset=100, limit=5, base_url="http://h/x")
    assert (list(past.items), past.next) == ([], None)
    empty = offset_link_page(list[int](), offset=0, limit=20, base_url="http://h/x")
    assert (list(empty.items), empty.next, empty.total) == ([], None, 0)


def test_page_numbers_start_at_zero_and_end_by_the_syllable_rule() -> None:
    seen: list[int] = []
    page_no = 0
    while True:
        page = page_number_page(ITEMS, page=page_no, limit=5)
        assert page.page == page_no
        assert page.page_size == 5  # echoes the limit, also on the short last page
        assert (page.total_pages, page.total_count) == (5, 23)
        assert page.items == ITEMS[page_no * 5 : page_no * 5 + 5]
        seen += page.items
        if NumberedPage.is_last(page.items, page=page_no, limit=5, total_pages=page.total_pages):
            break
        page_no += 1
    assert seen == ITEMS
    assert page_no == 4
    body = page_number_page(ITEMS, page=4, limit=5).body([{"n": 20}])
    assert body == {"items": [{"n": 20}], "page": 4, "page_size": 5, "total_pages": 5,
                    "total_count": 23}  # fmt: skip


@pytest.mark.parametrize("totals", ["null", "absent"])
def test_page_numbers_without_totals_still_end(totals: str) -> None:
    seen: list[int] = []
    page_no = 0
    while True:
        page = page_number_page(list(range(10)), page=page_no, limit=5, totals=totals)  # type: ignore[arg-type]
        body = page.body(list(page.items))
        if totals == "absent":
            assert "total_pages" not in body
            assert "total_count" not in body
        else:
            assert body["total_pages"] is None
            assert body["total_count"] is None
        seen += page.items
        # 10 items, limit 5: page 1 is full, so only the empty page 2 ends the loop
        if NumberedPage.is_last(page.items, page=page_no, limit=5, total_pages=None):
            break
        page_no += 1
    assert seen == list(range(10))
    assert page_no == 2


def test_page_number_edges() -> None:
    assert page_number_page([], page=0, limit=5).total_pages == 0
    assert list(page_number_page(ITEMS, page=9, limit=5).items) == []
    assert NumberedPage.is_last([1, 2], page=0, limit=5, total_pages=None)
    assert NumberedPage.is_last([1] * 5, page=2, limit=5, total_pages=3)
    assert not NumberedPage.is_last([1] * 5, page=1, limit=5, total_pages=3)


def test_offset_total_pages_report_1_based_inclusive_offsets() -> None:
    pages = [offset_total_page(ITEMS, page_no=n, per_page=10) for n in (1, 2, 3)]
    assert [p.paging() for p in pages] == [
        {"total_count": 23, "start_offset": 1, "end_offset": 10},
        {"total_count": 23, "start_offset": 11, "end_offset": 20},
        {"total_count": 23, "start_offset": 21, "end_offset": 23},
    ]
    assert [x for p in pages for x in p.items] == ITEMS
    assert [CountedPage.is_last(p.items, paging=p.paging(), per_page=10) for p in pages] == [
        False,
        False,
        True,
    ]
    zero_based = offset_total_page(ITEMS, page_no=0, per_page=10, first_page=0)
    assert zero_based.paging()["start_offset"] == 1
    past = offset_total_page(ITEMS, page_no=9, per_page=10)
    assert (list(past.items), past.paging()) == (
        [],
        {"total_count": 23, "start_offset": 23, "end_offset": 23},
    )
    assert CountedPage.is_last(past.items, paging=past.paging(), per_page=10)
    # a full page without paging goes on; an exact last page ends by end_offset
    assert not CountedPage.is_last([1] * 10, paging=None, per_page=10)
    exact = offset_total_page(list(range(20)), page_no=2, per_page=10)
    assert CountedPage.is_last(exact.items, paging=exact.paging(), per_page=10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: offset_link_page(ITEMS, offset=-1, limit=5, base_url="x"),
        lambda: offset_link_page(ITEMS, offset=0, limit=0, base_url="x"),
        lambda: page_number_page(ITEMS, page=-1, limit=5),
        lambda: page_number_page(ITEMS, page=0, limit=0),
        lambda: offset_total_page(ITEMS, page_no=0, per_page=5),  # pages start at 1
        lambda: offset_total_page(ITEMS, page_no=1, per_page=0),
    ],
)
def test_impossible_arguments_are_config_errors(call: object) -> None:
    with pytest.raises(ConfigError, match="pagination helper"):
        call()  # type: ignore[operator]


def test_the_harness_offers_the_helpers() -> None:
    assert EmulatorHarness.offset_link_page is offset_link_page
    assert EmulatorHarness.page_number_page is page_number_page
    assert EmulatorHarness.offset_total_page is offset_total_page
