"""The local archive's backend-neutral tests, run against the PostgreSQL archive: both are
``SqlArchive``s on one catalog implementation, and these prove the catalog behaves the same on
both databases (listing order and keyset paging, every filter, round trips, the ledger, the
sink's refusals, concurrent commits, hostile input)."""

from __future__ import annotations

import pytest

from ..local.test_hostile_ids import (
    test_invalid_unicode_is_an_archive_error,
    test_store_media_for_a_hostile_recording_id,
)
from ..local.test_listing import (
    test_empty_archive_lists_nothing,
    test_exact_pages_end_without_an_empty_fetch,
    test_filters_are_applied_in_sql,
    test_filters_match_the_neutral_semantics,
    test_ordered_by_created_at,
    test_pagination_across_pages,
    test_search_title_and_id,
    test_sessions_without_a_time_come_last_when_newest_first,
)
from ..local.test_roundtrip import (
    test_sessions_of_several_providers,
)
from ..local.test_sink import (
    test_commit_refuses_media_of_another_session,
    test_commit_refuses_missing_media,
    test_concurrent_commits,
    test_interrupted_store_leaves_no_file,
    test_ledger_states,
    test_missing_session_is_not_found_everywhere,
    test_no_summary_is_not_found,
    test_only_reprocessed_transcripts,
)
from ..local.test_verify import test_clean_archive_is_ok, test_empty_archive_is_ok

pytestmark = pytest.mark.anyio

__all__ = [
    "test_clean_archive_is_ok",
    "test_commit_refuses_media_of_another_session",
    "test_commit_refuses_missing_media",
    "test_concurrent_commits",
    "test_empty_archive_is_ok",
    "test_empty_archive_lists_nothing",
    "test_exact_pages_end_without_an_empty_fetch",
    "test_filters_are_applied_in_sql",
    "test_filters_match_the_neutral_semantics",
    "test_interrupted_store_leaves_no_file",
    "test_invalid_unicode_is_an_archive_error",
    "test_ledger_states",
    "test_missing_session_is_not_found_everywhere",
    "test_no_summary_is_not_found",
    "test_only_reprocessed_transcripts",
    "test_ordered_by_created_at",
    "test_pagination_across_pages",
    "test_search_title_and_id",
    "test_sessions_of_several_providers",
    "test_sessions_without_a_time_come_last_when_newest_first",
    "test_store_media_for_a_hostile_recording_id",
]
