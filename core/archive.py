"""The archive-sink port: what a migration writes through.

A backend that declares ``Capability.ARCHIVE_SINK`` (the ``local`` archive) implements these
primitives. The migration calls them in this order for each source session:

1. ``_ledger_entry(ref)`` — has this session been copied already (and with which checksums)?
2. ``_store_media(ref, recording, chunks)`` — stream one recording's bytes into the media store
   (constant memory), returning its size and sha256. The bytes land under a final name only
   when complete; a file whose session is never committed is an orphan that ``verify`` reports
   and a rerun overwrites.
3. ``_commit_session(bundle)`` — in **one transaction**: the session, its artifacts, the raw
   vendor payloads, the media rows and the ledger entry marking the session done. A run killed
   before this commit leaves no trace in the catalog; after it, the session is complete.
4. ``_record_failure(ref, reason)`` — a session that kept failing is written to the ledger as
   failed (with its reason) so the run can go on and a rerun retries it.

Re-processing adds ``_add_transcript(ref, transcript)``: a new transcript stored beside the
original ones of the same session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from convoport.model import (
    ChatMessage,
    JSONDict,
    Participant,
    Recording,
    Session,
    SessionRef,
    Summary,
    Transcript,
    _json_dict,
    _utc,
)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class StoredMedia:
    """One recording's bytes in the media store. ``size`` is bytes; ``sha256`` hex; ``path``
    is relative to the media root."""

    recording: Recording
    path: str
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class SessionBundle:
    """Everything copied for one session, committed together. ``source`` is the session's
    reference at its origin (the ledger key)."""

    source: SessionRef
    session: Session
    transcripts: tuple[Transcript, ...] = attrs.field(default=(), converter=_tuple)
    summary: Summary | None = None
    participants: tuple[Participant, ...] = attrs.field(default=(), converter=_tuple)
    chat: tuple[ChatMessage, ...] = attrs.field(default=(), converter=_tuple)
    media: tuple[StoredMedia, ...] = attrs.field(default=(), converter=_tuple)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)
    #: False for a snapshot of a session still running (a live session persisted as it goes):
    #: it is stored, but the ledger does not mark it done, so a later migration copies it.
    complete: bool = True


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """The ledger's word on one source session. ``state`` is ``"done"`` or ``"failed"``;
    ``attempts`` counts runs that tried it; ``updated_at`` is UTC."""

    source: SessionRef
    state: str
    attempts: int = 0
    reason: str | None = None
    updated_at: datetime | None = attrs.field(default=None, converter=_utc)
    bytes: int = 0


__all__ = ["LedgerEntry", "SessionBundle", "StoredMedia"]
