"""The archive port: what a migration, a live session's persistence and the CLI write through.

An archive backend (the embedded ``local`` archive; a team archive on another database) is a
subclass of :class:`ArchiveAdapter`. Besides the read ports every adapter may serve, it
implements this port, and nothing in core reaches an archive any other way: no attribute
probing, no special case for a backend's name.

**The writer claim.** ``claim_writer()`` / ``release_writer()`` / ``writer_claimed``: a
migration claims the archive before it copies anything and releases the claim when it ends.
What a claim means is the backend's (the SQLite archive: one OS-locked writer process at a
time, a second one fails at once; a database that allows several writers may make it cheap).

**The sink primitives**, called by the migration in this order for each source session:

1. ``_ledger_entry(ref)`` — has this session been copied already (and with which checksums)?
2. ``_store_media(ref, recording, chunks)`` — stream one recording's bytes into the media store
   (constant memory), returning its size and sha256. The bytes land under a final name only
   when complete; a file whose session is never committed is an orphan that ``verify`` reports
   and a rerun overwrites.
3. ``_commit_session(bundle)`` — in **one transaction**: the session, its artifacts, the raw
   vendor payloads, the media rows and the ledger entry marking the session done (unless the
   bundle is an incomplete snapshot). A run killed before this commit leaves no trace in the
   catalog; after it, the session is complete.
4. ``_record_failure(ref, reason)`` — a session that kept failing is written to the ledger as
   failed (with its reason) so the run can go on and a rerun retries it.

**Several writers.** An archive that several processes or machines may write at once (a
PostgreSQL archive: many migrations, or the workers of one) sets ``multi_writer`` and
implements ``_claim(ref)``: before copying a session the migration claims it, and copies it
only when the answer is ``claimed``. The claim lasts a lease (renewed by the backend while it
is held), ends with the session's commit or its recorded failure, and a claim whose holder died
lapses at the end of its lease, so another writer takes it over. The commit of a claimed
session checks the claim is still its own (a copy whose lease lapsed is not committed twice).
A single-writer archive answers ``claimed`` at once: its writer claim already excludes others.

Re-processing adds ``_add_transcript(ref, transcript)``: a new transcript stored beside the
original ones of the same session.

**Reading back what only an archive has**: ``list_transcripts(session)`` (every transcript,
the original first), ``verify()`` (a :class:`VerifyReport`; nothing is changed), and
``ingest(result)`` — what a live session or a batch analysis produced, stored in one commit
(implemented here once, on top of the primitives).

Inside an archive, sessions are keyed by their source's reference (``"gladia:abc"``).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from convoport.adapter import Adapter
from convoport.capabilities import Capability
from convoport.errors import ArchiveError, ConfigError, UnsupportedOperation
from convoport.media import MediaInput, MediaSource
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

if TYPE_CHECKING:
    from convoport.live import IngestResult


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


@attrs.frozen(kw_only=True)
class Claim:
    """The answer to a session claim. ``state``: ``claimed`` (copy it), ``done`` (the ledger
    says it is copied already) or ``held`` (another writer is copying it: ``holder`` names it
    when known, ``wait`` is the seconds until its claim lapses unless renewed)."""

    state: str
    holder: str | None = None
    wait: float | None = None


class ClaimLost(ArchiveError):
    """A session's claim lapsed and another writer took the session over before this one
    committed it: nothing was written (the other writer copies it)."""


@attrs.frozen(kw_only=True)
class VerifyIssue:
    """One problem ``verify`` found. ``ref`` is the session (``"gladia:abc"``) when known,
    ``path`` the media path relative to the media root when it concerns a file."""

    detail: str
    ref: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = ": ".join(x for x in (self.ref, self.path) if x)
        return f"{where}: {self.detail}" if where else self.detail


@attrs.define(kw_only=True)
class VerifyReport:
    """What ``verify`` found.

    ``missing``: recordings whose file is absent; ``corrupt``: files whose size or sha256
    differ from the catalog (and catalog integrity problems); ``orphans``: files under the
    media root no recording row names (including leftovers of interrupted runs);
    ``ledger_mismatches``: ledger ``done`` entries without their session and sessions without
    a ``done`` entry. ``sessions`` counts sessions in the catalog, ``checked`` recordings
    checked, ``checked_bytes`` bytes re-hashed.
    """

    missing: list[VerifyIssue] = attrs.field(factory=list)
    corrupt: list[VerifyIssue] = attrs.field(factory=list)
    orphans: list[VerifyIssue] = attrs.field(factory=list)
    ledger_mismatches: list[VerifyIssue] = attrs.field(factory=list)
    sessions: int = 0
    checked: int = 0
    checked_bytes: int = 0

    @property
    def ok(self) -> bool:
        """Whether the archive is whole: nothing missing, corrupt, orphaned or mismatched."""
        return not (self.missing or self.corrupt or self.orphans or self.ledger_mismatches)

    @property
    def issues(self) -> list[tuple[str, VerifyIssue]]:
        """Every problem with its kind (``missing``, ``corrupt``, ``orphan``, ``ledger``)."""
        return [
            *(("missing", i) for i in self.missing),
            *(("corrupt", i) for i in self.corrupt),
            *(("orphan", i) for i in self.orphans),
            *(("ledger", i) for i in self.ledger_mismatches),
        ]


class ArchiveAdapter(Adapter, abc.ABC):
    """Base class of every archive backend (see the module docstring for the port).

    A subclass declares ``Capability.ARCHIVE_SINK`` in its capabilities and implements every
    abstract method below; instantiating one that does not is a ``TypeError`` naming them.
    """

    #: Whether several processes may write at once (then sessions are claimed one by one).
    multi_writer: ClassVar[bool] = False

    #: The config option a migration sets to create a missing destination archive (a source
    #: archive must exist, so a mistyped path never becomes a new empty archive).
    create_option: ClassVar[str | None] = "create"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name and Capability.ARCHIVE_SINK not in cls.capabilities.ports:
            raise TypeError(
                f"{cls.__name__} is an ArchiveAdapter but does not declare archive.sink"
            )

    @classmethod
    def destination_options(cls, *, create: bool) -> dict[str, Any]:
        """Config options for opening this archive as a migration's destination."""
        return {cls.create_option: create} if cls.create_option else {}

    # -- the writer claim -----------------------------------------------------------------

    @property
    @abc.abstractmethod
    def writer_claimed(self) -> bool:
        """Whether this connection holds the writer claim."""

    @abc.abstractmethod
    async def claim_writer(self) -> None:
        """Claims the archive for writing (idempotent on one connection). Another writer
        holding it: ``ArchiveError`` at once, naming the holder where known."""

    @abc.abstractmethod
    async def release_writer(self) -> None:
        """Gives the claim up (idempotent). ``aclose`` releases it too."""

    # -- reading back ---------------------------------------------------------------------

    @abc.abstractmethod
    async def list_transcripts(
        self, session: str | SessionRef, *, reprocessed: bool | None = None
    ) -> list[Transcript]:
        """Every transcript of an archived session: the original first, then the ones
        re-processing added, in the order they were stored. ``reprocessed=True`` keeps only
        those added by re-processing, ``False`` only the migrated ones. Absent session:
        ``NotFound``."""

    @abc.abstractmethod
    async def verify(self) -> VerifyReport:
        """Re-hashes every media file (streamed), checks the catalog against the media and
        the ledger against the catalog. Nothing is changed."""

    async def media_checksums(self) -> dict[str, tuple[tuple[str, int, str], ...]]:
        """Every archived recording as the catalog records it: ``(recording id, size in
        bytes, sha256 hex)`` in the source's order, by session reference (``"gladia:abc"``).
        What ``convoport archive copy`` compares between two archives (``verify`` proves the
        files match these). An archive that cannot tell: ``UnsupportedOperation``."""
        raise UnsupportedOperation("list media checksums", self.name)

    async def _remove_orphan(self, path: str) -> None:
        """Removes one media file that no recording names (``verify``'s orphans: what a run
        interrupted between storing media and committing it leaves behind); ``migrate
        --repair`` calls it. An archive that cannot remove files: ``UnsupportedOperation``."""
        raise UnsupportedOperation("remove orphan media", self.name)

    # -- the sink primitives --------------------------------------------------------------

    async def _claim(self, source: SessionRef, *, again: bool = False) -> Claim:
        """Claims one source session for copying (see "Several writers" in the module);
        ``again``: even though the ledger says it is done (a repair copies it again). A
        single-writer archive: ``claimed``."""
        return Claim(state="claimed")

    @abc.abstractmethod
    async def _ledger_entry(self, source: SessionRef) -> LedgerEntry | None: ...

    @abc.abstractmethod
    async def _store_media(
        self, source: SessionRef, recording: Recording, chunks: AsyncIterator[bytes]
    ) -> StoredMedia: ...

    @abc.abstractmethod
    async def _commit_session(self, bundle: SessionBundle) -> None: ...

    @abc.abstractmethod
    async def _record_failure(self, source: SessionRef, reason: str) -> None: ...

    @abc.abstractmethod
    async def _add_transcript(self, source: SessionRef, transcript: Transcript) -> None: ...

    # -- ingest ---------------------------------------------------------------------------

    async def ingest(
        self,
        result: IngestResult,
        *,
        media: MediaInput | MediaSource | None = None,
        filename: str | None = None,
        media_type: str | None = None,
    ) -> SessionRef:
        """Stores what a live session or a batch analysis produced — the session, its
        transcript, its summary and, when given, the audio that was sent (streamed) — keyed
        by the session's reference, in one commit. A session that has not ended is stored as
        an incomplete snapshot (the ledger does not mark it done). Storing it again replaces
        it. Returns the reference."""
        session = result.session
        ref = session.ref
        stored: list[StoredMedia] = []
        if media is not None:
            source = MediaSource.of(media, filename=filename, media_type=media_type)
            recording = Recording(
                id="audio",
                session_id=session.id,
                media_type=source.media_type or media_type or "application/octet-stream",
                filename=source.filename or filename or f"{session.id}.bin",
                size=source.size,
            )
            stored.append(await self._store_media(ref, recording, source.chunks()))
        transcript = attrs.evolve(result.transcript, session_id=session.id)
        await self._commit_session(
            SessionBundle(
                source=ref,
                session=session,
                transcripts=(transcript,) if transcript.utterances else (),
                summary=result.summary,
                media=tuple(stored),
                provider_data=result.provider_data,
                complete=session.status.terminal,
            )
        )
        return ref


def as_archive(adapter: Adapter) -> ArchiveAdapter:
    """``adapter`` as an archive, or a ``ConfigError`` saying it is not one."""
    if not isinstance(adapter, ArchiveAdapter):
        raise ConfigError(
            f"{adapter.name} is not an archive",
            hint="use an archive backend such as local:PATH",
        )
    return adapter


__all__ = [
    "ArchiveAdapter",
    "Claim",
    "ClaimLost",
    "LedgerEntry",
    "SessionBundle",
    "StoredMedia",
    "VerifyIssue",
    "VerifyReport",
    "as_archive",
]
