"""The archive catalog's reads and writes, one implementation for SQLite and PostgreSQL.

A :class:`Catalog` wraps one SQLAlchemy engine. Every write is one explicit transaction
(``BEGIN IMMEDIATE`` on SQLite, so writers queue instead of failing mid-way; plain ``BEGIN`` on
PostgreSQL), rolled back on any error, so a failure never leaves half a session behind. Reads
run in their own short read transaction (one snapshot).

The statements are portable SQL (``ON CONFLICT`` upserts, row-value comparisons, ``RETURNING``)
run through SQLAlchemy; what differs by database is chosen once here: the clock, row locks
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and the integrity check. The backend that opens a
catalog (``local`` for SQLite, ``postgresql``) sets up the engine, the version guard and the
upgrade; this module never opens a database itself.

The methods are blocking and thread-safe: SQLite's single connection is used under the
catalog's lock (SQLite stays single-writer); PostgreSQL's pooled connections are not locked.
The adapters call them from worker threads. Every database error comes out as an
``ArchiveError`` naming the catalog (``where``: a file path, or a URL without its password)
and what to do.

Rows hold the neutral objects as ``convoport.serde.to_json`` text (the vendor's raw payloads
travel inside them, in each object's ``provider_data``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import attrs
import sqlalchemy as sa

from convoport.archive import ClaimLost, LedgerEntry, SessionBundle
from convoport.capabilities import ListOrder
from convoport.errors import ArchiveError, ConvoportError
from convoport.model import (
    ChatMessage,
    JSONDict,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionRef,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    Word,
)
from convoport.serde import from_json, to_json

from .media import check_relative, session_dir

P = ParamSpec("P")
T = TypeVar("T")

# A metadata value as ``str(value)`` gives it in Python, from the session's neutral JSON: the
# metadata filter of a SQLite catalog read at an older schema (no ``session_meta`` rows yet).
_META_TEXT = """
    CASE m.type
        WHEN 'text' THEN m.value
        WHEN 'integer' THEN CAST(m.value AS TEXT)
        WHEN 'real' THEN cp_float_text(m.value)
        WHEN 'true' THEN 'True'
        WHEN 'false' THEN 'False'
        WHEN 'null' THEN 'None'
    END
"""

#: The database's clock in seconds since the epoch (claims use it: one clock for every writer).
_NOW = {
    "postgresql": "extract(epoch from clock_timestamp())",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


def iso(value: datetime | None) -> str | None:
    """A UTC time as fixed-width ISO text (``2026-01-02T03:04:05.000000Z``): text order is
    time order."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _now() -> str:
    text = iso(datetime.now(UTC))
    assert text is not None
    return text


def _parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def float_text(value: Any) -> str | None:
    """``str(float(value))``: SQLite's ``cp_float_text`` function (see ``_META_TEXT``)."""
    return None if value is None else str(float(value))


@attrs.frozen(kw_only=True)
class RecordingRow:
    """A recording as the catalog holds it: the neutral recording, its media path (relative to
    the media root), its size in bytes and sha256 (hex)."""

    ref: str
    recording: Recording
    path: str
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class Removed:
    """What deleting a session left to clean up in the media store."""

    source: SessionRef
    paths: tuple[str, ...]


@attrs.frozen(kw_only=True)
class ClaimState:
    """The answer to a claim. ``state``: ``claimed`` (it is ours until ``expires_at``),
    ``held`` (another writer holds it until ``expires_at``, or is deciding it right now:
    ``expires_at`` None) or ``done`` (the ledger says copied: nothing to claim). Times are
    seconds since the epoch on the database's clock; ``now`` is that clock's reading."""

    state: str
    holder: str | None = None
    expires_at: float | None = None
    now: float = 0.0


#: bytes of row text a read on the calling thread decodes before it gives way to a worker
#: thread (about a millisecond of decoding): past it, the read starts again in a thread
INLINE_BYTES = 128 * 1024
#: seconds of SQL a read on the calling thread may take (a scan for a rare filter value, say)
#: before SQLite interrupts it and it starts again in a worker thread
INLINE_SECONDS = 0.010


class ReadElsewhere(Exception):
    """A read on the calling thread gave way before returning anything (the catalog is busy
    with a write, or its rows are large): run it again in a worker thread."""


def _guarded(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Runs a catalog method under the catalog's lock (SQLite), turning database errors into
    ``ArchiveError``."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            self: Catalog = args[0]  # type: ignore[assignment]
            with self._lock:
                if self._engine is None:
                    raise ArchiveError(f"the archive catalog {self.where} is closed")
                try:
                    return fn(*args, **kwargs)
                except ConvoportError:
                    raise
                except sa.exc.DBAPIError as exc:
                    raise self.error(what, exc.orig or exc) from exc
                except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
                    raise self.error(what, exc) from exc
                except UnicodeError as exc:
                    raise ArchiveError(
                        f"could not {what} in the archive catalog {self.where}: a value is not "
                        f"valid Unicode ({exc})",
                        hint="ids and texts with lone surrogates cannot be archived",
                    ) from exc

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


class Catalog:
    """The catalog of one archive on one engine (see the module docstring).

    ``where`` names it in messages; ``read_only`` refuses every write; ``shims`` are the
    tables that stand in, empty, for those a catalog at an older schema lacks (read as it is);
    ``upgrade`` is called (holding the lock) before the first write when ``upgrade_pending``;
    ``lock`` serialises every use (SQLite's one connection), else calls run concurrently;
    ``hint`` may give the hint of a database error's text, ``redact`` masks secrets in it;
    ``raw`` is SQLite's one driver connection (in autocommit), which reads then use directly.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        where: str,
        read_only: bool = False,
        shims: Iterable[str] = (),
        upgrade: Callable[[], None] | None = None,
        upgrade_pending: bool = False,
        lock: bool = True,
        hint: Callable[[str], str | None] | None = None,
        redact: Callable[[str], str] | None = None,
        raw: sqlite3.Connection | None = None,
    ) -> None:
        self._engine: sa.Engine | None = engine
        self.where = where
        self.dialect = engine.dialect.name
        #: opened read-only (this process may not write the catalog): writes are refused
        self.read_only = read_only
        self.shims = frozenset(shims)
        self._upgrade = upgrade
        #: the schema is older than the latest; the first write upgrades it
        self.upgrade_pending = upgrade_pending
        self._lock: Any = threading.RLock() if lock else contextlib.nullcontext()
        self._hint = hint
        self._redact = redact
        #: SQLite's one connection, for reads that skip SQLAlchemy's machinery
        self._raw = raw
        self._compiled: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._now_sql = _NOW.get(self.dialect, _NOW["sqlite"])
        self._skip_locked = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""
        self._for_update = " FOR UPDATE" if self.dialect == "postgresql" else ""
        #: bytes of row text the current read on the calling thread may still decode (None:
        #: not such a read); set and cleared under the lock
        self._budget: int | None = None
        #: whether reads may run on the calling thread (:meth:`read_now`): set by the opener
        #: for a SQLite connection whose readers never wait for a writer (WAL, immutable)
        self.inline_reads = False

    def read_now(self, fn: Callable[[Catalog], T]) -> T:
        """Runs the read ``fn`` on the calling thread, which on SQLite costs less than the hop
        to a worker thread (a point read by key is tens of microseconds; the hop is 30-300):
        only on SQLite's one connection in WAL mode or immutable (``inline_reads``: a reader
        never waits for another process's writer), only while the catalog's lock is free (no
        write of this process is under way, so nothing waits on it), only up to
        ``INLINE_BYTES`` of row text and ``INLINE_SECONDS`` of SQL. Otherwise it raises
        ``ReadElsewhere`` before returning anything; ``fn`` only reads, so running it again
        in a worker thread is safe."""
        raw = self._raw
        if raw is None or not self.inline_reads or not self._lock.acquire(blocking=False):
            raise ReadElsewhere
        deadline = time.perf_counter() + INLINE_SECONDS
        stopped: list[bool] = []

        def progress() -> int:  # SQLite calls it every 1,000 steps; non-zero interrupts
            if time.perf_counter() > deadline:
                stopped.append(True)
                return 1
            return 0

        try:
            self._budget = INLINE_BYTES
            raw.set_progress_handler(progress, 1000)
            try:
                return fn(self)
            except Exception:
                if stopped:  # the SQL ran too long here: interrupted, nothing returned
                    raise ReadElsewhere from None
                raise
        finally:
            raw.set_progress_handler(None, 1000)
            self._budget = None
            self._lock.release()

    def _affords(self, text: str, *, partial: bool) -> bool:
        """Counts ``text`` against the budget of a read on the calling thread: whether it may
        decode it too. A row over the budget ends a read that can stop early with what it
        has (``partial``: it has something; False); otherwise the read gives way to a worker
        thread (``ReadElsewhere``). Outside such a read: always True."""
        if self._budget is None:
            return True
        if len(text) > self._budget:
            if not partial:
                raise ReadElsewhere
            return False
        self._budget -= len(text)
        return True

    def defer_upgrade(self, upgrade: Callable[[], None]) -> None:
        """Reads the catalog at its older schema until the first write, which calls
        ``upgrade`` first."""
        self._upgrade = upgrade
        self.upgrade_pending = True

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            raise ArchiveError(f"the archive catalog {self.where} is closed")
        return self._engine

    def close(self) -> None:
        """Disposes of the engine (safe to call twice)."""
        with self._lock:
            engine, self._engine = self._engine, None
            if engine is not None:
                engine.dispose()

    def error(self, what: str, exc: BaseException) -> ArchiveError:
        """An ``ArchiveError`` for a failed catalog operation, with what to do about it."""
        text = " ".join(str(exc).split())
        if self._redact is not None:
            text = self._redact(text)
        hint = self._hint(text) if self._hint is not None else None
        if hint is None:
            if "locked" in text or "busy" in text:
                hint = "another process is writing to this archive; retry when it is done"
            elif "malformed" in text or "not a database" in text or "disk I/O" in text:
                hint = "the catalog file is damaged; restore it from a backup"
            elif "readonly" in text:
                hint = "the archive folder is read-only; check its permissions"
            elif "NUL" in text or "0x00" in text:
                hint = "ids and texts containing NUL characters cannot be archived here"
            else:
                hint = "run 'convoport verify' on the archive"
        return ArchiveError(
            f"could not {what} in the archive catalog {self.where}: {text}", hint=hint
        )

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """Something to run reads on (``execute(statement, params)`` with ``first()``,
        ``all()``, ``scalar_one()`` and iteration). On SQLite: the catalog's one connection
        in autocommit (used under the lock), each statement compiled once by SQLAlchemy's
        SQLite dialect and run by the driver directly — SQLAlchemy's per-statement machinery
        costs several times the read itself. Elsewhere: a pooled connection in one read
        transaction, rolled back at the end (reads never write)."""
        if self._raw is not None:
            yield _RawReader(self._raw, self.engine.dialect, self._compiled)
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Any]:
        """One write transaction like :meth:`transaction`, with what :meth:`reading` gives
        (``execute`` taking a list of parameter sets too). On SQLite: ``BEGIN IMMEDIATE`` on
        the catalog's one connection and each statement compiled once and run by the driver
        (SQLAlchemy's per-statement machinery was half of a commit's CPU); elsewhere
        :meth:`transaction` itself."""
        if self._raw is None:
            with self.transaction() as conn:
                yield conn
            return
        self._before_write()
        raw = self._raw
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield _RawReader(raw, self.engine.dialect, self._compiled)
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise

    def _before_write(self) -> None:
        """Refuses a write to a read-only catalog; upgrades an older schema first."""
        if self.read_only:
            raise ArchiveError(
                f"the archive at {self.where} is read-only for this process "
                "(read-only media, or files owned by another user): it cannot be written",
                hint="copy the archive somewhere writable, or run as its owner",
            )
        if self.upgrade_pending and self._upgrade is not None:
            self._upgrade()
            self.upgrade_pending = False
            self.shims = frozenset()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One write transaction; rolled back on any exception. The first write to a catalog
        with an older schema upgrades it first; a read-only catalog refuses every write
        (``ArchiveError``)."""
        self._before_write()
        with (
            self.engine.connect().execution_options(convoport_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    def _decode(self, text: str, cls: type[T], where: str) -> T:
        self._affords(text, partial=False)
        return self._convert(text, cls, where)

    def _convert(self, text: str, cls: type[T], where: str) -> T:
        """``text`` through the converter; anything it refuses is ``ArchiveError``."""
        try:
            return from_json(text, cls)
        except ConvoportError:
            raise
        except Exception as exc:
            raise ArchiveError(
                f"unreadable {cls.__name__} row for {where} in {self.where}: "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                hint="the catalog was changed outside convoport; restore it from a backup",
            ) from exc

    @staticmethod
    def _session_pk(conn: Any, ref: str) -> int | None:
        row = conn.execute(_PK, {"ref": ref}).first()
        return None if row is None else int(row[0])

    # -- reads ----------------------------------------------------------------------------

    @_guarded("list sessions")
    def list_sessions(
        self, query: SessionQuery, after: SessionCursor | None, limit: int
    ) -> tuple[list[Session], SessionCursor | None]:
        """One page of sessions matching ``query`` in ``query.order`` and the cursor of the
        next page (None: this was the last): newest first (by ``created_at``, then ref
        descending; sessions without a time last) unless ``oldest`` is asked for (the exact
        reverse).

        A read on the calling thread (:meth:`read_now`) ends its page early, with a cursor,
        where the budget runs out; a first row over the budget goes to a worker thread.

        Keyset paging: the cursor is where the page ended (``(part, created_at, ref)``), so
        each page is one range read of an index (``sessions_created`` for the sessions with a
        time, the ``ref`` index for the others: the listing runs through one part, then the
        other), never an ``OFFSET`` that re-reads every row before it."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if query.created_after is not None:
            where.append("created_at >= :after")
            params["after"] = iso(query.created_after)
        if query.created_before is not None:
            where.append("created_at < :before")
            params["before"] = iso(query.created_before)
        if query.created_on is not None:
            day = date.fromisoformat(query.created_on)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            where.append("created_at >= :day_start AND created_at < :day_end")
            params["day_start"] = iso(start)
            params["day_end"] = iso(start + timedelta(days=1))
        if query.statuses is not None:
            if not query.statuses:
                return [], None
            names = []
            for i, status in enumerate(sorted(s.value for s in query.statuses)):
                names.append(f":status{i}")
                params[f"status{i}"] = status
            where.append(f"status IN ({', '.join(names)})")
        for i, (key, value) in enumerate((query.metadata or {}).items()):
            params[f"mk{i}"] = key
            params[f"mv{i}"] = value
            if "session_meta" in self.shims:  # an older catalog, read as it is
                where.append(
                    "EXISTS (SELECT 1 FROM json_each(sessions.neutral, '$.metadata') AS m "
                    f"WHERE m.key = :mk{i} AND ({_META_TEXT}) = :mv{i})"
                )
            else:
                where.append(
                    "EXISTS (SELECT 1 FROM session_meta m WHERE m.session_pk = sessions.pk "
                    f"AND m.key = :mk{i} AND m.text = :mv{i})"
                )
        if query.search is not None:
            params["pattern"] = "%" + _escape_like(query.search.translate(_ASCII_LOWER)) + "%"
            where.append(
                "(lower(title) LIKE :pattern ESCAPE '\\' OR lower(id) LIKE :pattern ESCAPE '\\')"
            )
        newest = query.order is not ListOrder.OLDEST
        parts = ("dated", "undated") if newest else ("undated", "dated")
        first = 0 if after is None else parts.index(after[0])
        sessions: list[Session] = []
        last: SessionCursor | None = None
        more = False
        with self.reading() as conn:
            for index in range(first, len(parts)):
                part = parts[index]
                clauses = list(where)
                values = dict(params)
                clauses.append(
                    "created_at IS NOT NULL" if part == "dated" else "created_at IS NULL"
                )
                if after is not None and index == first:
                    _, created, ref = after
                    op = "<" if newest else ">"
                    if part == "dated":  # a row value: one range of the (created_at, ref) index
                        clauses.append(f"(created_at, ref) {op} (:c_at, :c_ref)")
                        values.update(c_at=created, c_ref=ref)
                    else:
                        clauses.append(f"ref {op} :c_ref")
                        values["c_ref"] = ref
                direction = "DESC" if newest else "ASC"
                order = (
                    f"created_at {direction}, ref {direction}"
                    if part == "dated"
                    else f"ref {direction}"
                )
                values["want"] = limit + 1 - len(sessions)
                sql = (
                    "SELECT ref, created_at, neutral FROM sessions WHERE "
                    + " AND ".join(clauses)
                    + f" ORDER BY {order} LIMIT :want"
                )
                # rows are fetched as they are decoded: a page the budget ends early has
                # not fetched the rows it leaves for the next one
                rows = _iterate(conn, sa.text(sql), values)
                try:
                    for ref, created, neutral in rows:
                        if len(sessions) == limit or not self._affords(
                            neutral, partial=bool(sessions)
                        ):
                            more = True  # a row beyond the page (or the inline read's budget)
                            break
                        sessions.append(self._session_row(neutral, ref))
                        last = (part, created, ref)
                finally:
                    rows.close()
                if more:
                    break
        return sessions, last if more else None

    def _session(self, text: str, where: str) -> Session:
        """A session row: read directly (json + the model's own constructor), falling back
        to the converter (and its error) for anything it does not expect."""
        self._affords(text, partial=False)
        return self._session_row(text, where)

    def _session_row(self, text: str, where: str) -> Session:
        try:
            return session_from_neutral(json.loads(text))
        except Exception:
            return self._convert(text, Session, where)  # counted by the caller

    @_guarded("read a session")
    def get_session(self, ref: str) -> Session | None:
        with self.reading() as conn:
            row = conn.execute(_SESSION, {"ref": ref}).first()
        return None if row is None else self._session(row[0], ref)

    @_guarded("read a session's raw payload")
    def raw_payload(self, ref: str) -> JSONDict | None:
        with self.reading() as conn:
            row = conn.execute(_RAW, {"ref": ref}).first()
        if row is None:
            return None
        self._affords(row[0], partial=False)
        value = json.loads(row[0])
        if not isinstance(value, dict):
            raise ArchiveError(f"unreadable raw payload for {ref} in {self.where}")
        return value

    @_guarded("list recordings")
    def recordings(self, ref: str) -> list[RecordingRow] | None:
        """A session's recordings in the source's order; None when the session is absent."""
        with self.reading() as conn:
            pk = self._session_pk(conn, ref)
            if pk is None:
                return None
            rows = conn.execute(_RECORDINGS, {"pk": pk}).all()
        return [self._recording_row(ref, *row) for row in rows]

    def _recording_row(
        self, ref: str, neutral: str, path: str, size: int, sha256: str
    ) -> RecordingRow:
        return RecordingRow(
            ref=ref,
            recording=self._decode(neutral, Recording, ref),
            path=check_relative(path),
            size=int(size),
            sha256=sha256,
        )

    @_guarded("count the sessions")
    def session_count(self) -> int:
        """How many sessions the catalog holds."""
        with self.reading() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM sessions")).scalar_one())

    @_guarded("list every recording")
    def all_recordings(self) -> list[RecordingRow]:
        with self.reading() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT s.ref, r.neutral, r.path, r.size, r.sha256 FROM recordings r "
                    "JOIN sessions s ON s.pk = r.session_pk ORDER BY s.ref, r.position"
                )
            ).all()
        return [self._recording_row(*row) for row in rows]

    @_guarded("list transcripts")
    def transcripts(self, ref: str, origin: str | None = None) -> list[Transcript] | None:
        """Every transcript of a session, the original first, then the others in the order
        they were stored; None when the session is absent. ``origin`` keeps only ``"commit"``
        (migrated) or ``"reprocess"`` (added by re-processing) transcripts."""
        with self.reading() as conn:
            pk = self._session_pk(conn, ref)
            if pk is None:
                return None
            rows = conn.execute(_TRANSCRIPTS, {"pk": pk, "origin": origin}).all()
        return [self._transcript(row[0], ref) for row in rows]

    @_guarded("read a transcript")
    def first_transcript(self, ref: str) -> tuple[bool, Transcript | None]:
        """(whether the session exists, the first of :meth:`transcripts` or None), in one
        statement."""
        with self.reading() as conn:
            row = conn.execute(_FIRST_TRANSCRIPT, {"ref": ref}).first()
        if row is None:
            return False, None
        return True, None if row[0] is None else self._transcript(row[0], ref)

    def _transcript(self, text: str, where: str) -> Transcript:
        """A transcript row: read directly (json + the model's constructors), falling back to
        the converter (and its error) for anything it does not expect."""
        self._affords(text, partial=False)
        try:
            return transcript_from_neutral(json.loads(text))
        except Exception:
            return self._convert(text, Transcript, where)  # counted above

    @_guarded("read a summary")
    def summary(self, ref: str) -> tuple[bool, Summary | None]:
        """(whether the session exists, its summary or None)."""
        with self.reading() as conn:
            pk = self._session_pk(conn, ref)
            if pk is None:
                return False, None
            row = conn.execute(
                sa.text("SELECT neutral FROM summaries WHERE session_pk = :pk"), {"pk": pk}
            ).first()
        return True, None if row is None else self._decode(row[0], Summary, ref)

    @_guarded("list participants")
    def participants(self, ref: str) -> list[Participant] | None:
        return self._children(ref, "participants", Participant)

    @_guarded("list chat messages")
    def chat(self, ref: str) -> list[ChatMessage] | None:
        return self._children(ref, "chat_messages", ChatMessage)

    def _children(self, ref: str, table: str, cls: type[T]) -> list[T] | None:
        with self.reading() as conn:
            pk = self._session_pk(conn, ref)
            if pk is None:
                return None
            rows = conn.execute(
                sa.text(f"SELECT neutral FROM {table} WHERE session_pk = :pk ORDER BY position"),
                {"pk": pk},
            ).all()
        return [self._decode(row[0], cls, ref) for row in rows]

    @_guarded("read a setting")
    def setting(self, key: str) -> str | None:
        """A value of the ``settings`` table (None when unset)."""
        with self.reading() as conn:
            row = conn.execute(
                sa.text("SELECT value FROM settings WHERE key = :key"), {"key": key}
            ).first()
        return None if row is None else str(row[0])

    @_guarded("write a setting")
    def set_default(self, key: str, value: str) -> str:
        """Sets ``key`` unless it is set already; returns the value it has."""
        with self.transaction() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO settings (key, value) VALUES (:key, :value) "
                    "ON CONFLICT (key) DO NOTHING"
                ),
                {"key": key, "value": value},
            )
            return str(
                conn.execute(
                    sa.text("SELECT value FROM settings WHERE key = :key"), {"key": key}
                ).scalar_one()
            )

    # -- ledger ---------------------------------------------------------------------------

    @_guarded("read the ledger")
    def ledger_entry(self, source: str) -> LedgerEntry | None:
        with self.reading() as conn:
            row = conn.execute(
                sa.text(f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE source = :source"),
                {"source": source},
            ).first()
        return None if row is None else _ledger(tuple(row))

    @_guarded("read the ledger")
    def ledger_entries(self, sources: Sequence[str]) -> dict[str, LedgerEntry]:
        """The ledger entries of ``sources`` that exist, by source (one query)."""
        if not sources:
            return {}
        with self.engine.connect() as conn:  # an expanding IN list: SQLAlchemy renders it
            rows = conn.execute(
                sa.text(
                    f"SELECT {_LEDGER_COLUMNS} FROM ledger WHERE source IN :sources"
                ).bindparams(sa.bindparam("sources", expanding=True)),
                {"sources": list(sources)},
            ).all()
        return {row[0]: _ledger(tuple(row)) for row in rows}

    @_guarded("read the ledger")
    def ledger(self) -> list[LedgerEntry]:
        with self.reading() as conn:
            rows = conn.execute(
                sa.text(f"SELECT {_LEDGER_COLUMNS} FROM ledger ORDER BY source")
            ).all()
        return [_ledger(tuple(row)) for row in rows]

    @_guarded("record a failure")
    def record_failure(self, source: str, reason: str, holder: str | None = None) -> None:
        """Marks ``source`` failed (attempts + 1, reason kept) and gives up ``holder``'s claim
        on it. A session already copied stays ``done``: its archived copy is complete."""
        with self.transaction() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO ledger (source, state, attempts, reason, updated_at, bytes) "
                    "VALUES (:source, 'failed', 1, :reason, :now, 0) "
                    "ON CONFLICT (source) DO UPDATE SET state = 'failed', "
                    "attempts = ledger.attempts + 1, reason = excluded.reason, "
                    "updated_at = excluded.updated_at WHERE ledger.state != 'done'"
                ),
                {"source": source, "reason": reason, "now": _now()},
            )
            if holder is not None:
                conn.execute(_RELEASE, {"source": source, "holder": holder})

    @_guarded("check the ledger")
    def ledger_mismatches(self) -> list[tuple[str, str]]:
        """(ref, what is wrong) for each ledger ``done`` entry without its session row and
        each session row without a ``done`` entry."""
        problems: list[tuple[str, str]] = []
        with self.reading() as conn:
            for (source,) in conn.execute(
                sa.text(
                    "SELECT l.source FROM ledger l LEFT JOIN sessions s ON s.ref = l.source "
                    "WHERE l.state = 'done' AND s.pk IS NULL ORDER BY l.source"
                )
            ):
                problems.append((source, "the ledger says done but the session is not archived"))
            for ref, state in conn.execute(
                sa.text(
                    "SELECT s.ref, l.state FROM sessions s LEFT JOIN ledger l "
                    "ON l.source = s.ref WHERE (l.source IS NULL OR l.state != 'done') "
                    "AND s.status IN ('completed', 'failed', 'cancelled') ORDER BY s.ref"
                )
            ):
                what = "no ledger entry" if state is None else f"the ledger says {state}"
                problems.append((ref, f"the session is archived but {what}"))
        return problems

    @_guarded("check the catalog's integrity")
    def integrity_problems(self) -> list[str]:
        """SQLite's ``quick_check`` and foreign-key check; PostgreSQL checks both as it
        writes (nothing to report)."""
        if self.dialect != "sqlite":
            return []
        with self.reading() as conn:
            rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check")]
            problems = [r for r in rows if r != "ok"]
            problems += [
                f"foreign key violation in {r[0]} row {r[1]}"
                for r in conn.exec_driver_sql("PRAGMA foreign_key_check")
            ]
        return problems

    # -- claims (several writers) ---------------------------------------------------------

    @_guarded("claim a session")
    def claim(
        self,
        source: str,
        holder: str,
        lease: float,
        *,
        take_from: str | None = None,
        again: bool = False,
    ) -> ClaimState:
        """Claims ``source`` for ``holder`` for ``lease`` seconds: taken when nobody holds it,
        when ``holder`` does already, or when the holder's claim lapsed (a writer that died).
        A session the ledger says is done is not claimed. The claim row is read with ``FOR
        UPDATE SKIP LOCKED``: a writer deciding the same session at this instant makes this
        one see it ``held`` instead of waiting. ``take_from`` names a holder known to be dead
        (a process of this machine that is gone): its claim is taken over before it lapses.
        ``again`` claims a session the ledger says is done (a repair copies it again)."""
        with self.transaction() as conn:
            now = float(conn.execute(sa.text(f"SELECT {self._now_sql}")).scalar_one())
            # the claim row first: a writer committing this session holds it locked until its
            # commit, so the ledger read below sees that commit (never a copy made twice)
            conn.execute(
                sa.text(
                    "INSERT INTO claims (source, holder, expires_at) VALUES (:source, :holder, 0) "
                    "ON CONFLICT (source) DO NOTHING"
                ),
                {"source": source, "holder": holder},
            )
            row = conn.execute(
                sa.text(
                    "SELECT holder, expires_at FROM claims WHERE source = :source"
                    + self._skip_locked
                ),
                {"source": source},
            ).first()
            if row is None:
                return ClaimState(state="held", now=now)
            current, expires = str(row[0]), float(row[1])
            if current not in (holder, take_from) and expires > now:
                return ClaimState(state="held", holder=current, expires_at=expires, now=now)
            done = conn.execute(
                sa.text("SELECT state FROM ledger WHERE source = :source"), {"source": source}
            ).first()
            if not again and done is not None and done[0] == "done":
                conn.execute(_RELEASE, {"source": source, "holder": current})
                return ClaimState(state="done", now=now)
            conn.execute(
                sa.text(
                    "UPDATE claims SET holder = :holder, expires_at = :expires "
                    "WHERE source = :source"
                ),
                {"source": source, "holder": holder, "expires": now + lease},
            )
            return ClaimState(state="claimed", holder=holder, expires_at=now + lease, now=now)

    @_guarded("renew claims")
    def renew(self, sources: Sequence[str], holder: str, lease: float) -> set[str]:
        """Extends ``holder``'s claims on ``sources`` by ``lease`` seconds from now; returns
        the sources whose claim it no longer holds (taken over after lapsing)."""
        if not sources:
            return set()
        with self.transaction() as conn:
            kept = {
                row[0]
                for row in conn.execute(
                    sa.text(
                        f"UPDATE claims SET expires_at = {self._now_sql} + :lease "
                        "WHERE holder = :holder AND source IN :sources RETURNING source"
                    ).bindparams(sa.bindparam("sources", expanding=True)),
                    {"lease": lease, "holder": holder, "sources": list(sources)},
                )
            }
        return set(sources) - kept

    @_guarded("release a claim")
    def release(self, source: str, holder: str) -> None:
        """Gives up ``holder``'s claim on ``source`` (nothing when it holds none)."""
        with self.transaction() as conn:
            conn.execute(_RELEASE, {"source": source, "holder": holder})

    @_guarded("list claims")
    def claims(self) -> list[tuple[str, str, float]]:
        """(source, holder, expires_at) of every claim, by source."""
        with self.reading() as conn:
            rows = conn.execute(
                sa.text("SELECT source, holder, expires_at FROM claims ORDER BY source")
            ).all()
        return [(str(s), str(h), float(e)) for s, h, e in rows]

    # -- writes ---------------------------------------------------------------------------

    @_guarded("commit a session")
    def commit(self, bundle: SessionBundle, holder: str | None = None) -> list[str]:
        """Writes one session with everything in ``bundle`` and marks it done in the ledger,
        in one transaction. Committing again replaces the session's artifacts (transcripts
        added by re-processing stay). With ``holder``, the session must still be claimed by
        it (``ClaimLost`` otherwise, and nothing is written) and the claim ends with the
        commit. Returns the media paths the session no longer uses."""
        source = bundle.source
        ref = str(source)
        folder = session_dir(source) + "/"
        for media in bundle.media:
            check_relative(media.path)
            if not media.path.startswith(folder):
                raise ArchiveError(
                    f"the media of {ref} must be stored under {folder}, got {media.path}",
                    hint="store recordings with _store_media for the same session",
                )
        session_json = to_json(bundle.session)
        raw_json = to_json(bundle.provider_data)
        transcripts = [
            (t.engine, iso(t.created_at), text, _digest(text))
            for t, text in ((t, to_json(t)) for t in bundle.transcripts)
        ]
        summary = None if bundle.summary is None else to_json(bundle.summary)
        participants = [(p.id, to_json(p)) for p in bundle.participants]
        chat = [(m.id, iso(m.sent_at), to_json(m)) for m in bundle.chat]
        media_rows = [
            (m.recording.id, m.path, m.size, m.sha256, to_json(m.recording)) for m in bundle.media
        ]
        meta = [(key, str(value)) for key, value in bundle.session.metadata.items()]
        now = _now()
        with self.writing() as conn:
            if holder is not None:
                self._check_claim(conn, ref, holder)
            existing = self._session_pk(conn, ref)
            old_paths: set[str] = set()
            if existing is not None:
                old_paths = {
                    row[0]
                    for row in conn.execute(
                        sa.text("SELECT path FROM recordings WHERE session_pk = :pk"),
                        {"pk": existing},
                    )
                }
            pk = int(
                conn.execute(
                    _UPSERT_SESSION,
                    {
                        "ref": ref,
                        "provider": source.provider,
                        "id": source.id,
                        "status": bundle.session.status.value,
                        "created_at": iso(bundle.session.created_at),
                        "title": bundle.session.title,
                        "neutral": session_json,
                        "raw": raw_json,
                        "now": now,
                    },
                ).scalar_one()
            )
            fresh = existing is None  # a new session: no rows of it to replace
            self._replace_children(
                conn, pk, transcripts, summary, participants, chat, meta, fresh=fresh
            )
            self._replace_recordings(conn, pk, media_rows, fresh=fresh)
            total = sum(m.size for m in bundle.media)
            if bundle.complete:
                conn.execute(_LEDGER_DONE, {"source": ref, "now": now, "bytes": total})
            if holder is not None:
                conn.execute(_RELEASE, {"source": ref, "holder": holder})
        return sorted(old_paths - {m.path for m in bundle.media})

    def _check_claim(self, conn: Any, ref: str, holder: str) -> None:
        row = conn.execute(
            sa.text("SELECT holder FROM claims WHERE source = :source" + self._for_update),
            {"source": ref},
        ).first()
        if row is None or row[0] != holder:
            other = "nobody" if row is None else str(row[0])
            raise ClaimLost(
                f"the claim on {ref} lapsed and is now held by {other}: this copy was not "
                "committed",
                hint="raise the claim lease (--lease) if copies take longer than it",
            )

    def _replace_children(
        self,
        conn: Any,
        pk: int,
        transcripts: Sequence[tuple[str | None, str | None, str, str]],
        summary: str | None,
        participants: Sequence[tuple[str, str]],
        chat: Sequence[tuple[str, str | None, str]],
        meta: Sequence[tuple[str, str]] = (),
        *,
        fresh: bool = False,
    ) -> None:
        key = {"pk": pk}
        delete = (lambda sql: None) if fresh else (lambda sql: conn.execute(sa.text(sql), key))
        delete("DELETE FROM transcripts WHERE session_pk = :pk AND origin = 'commit'")
        if transcripts:
            conn.execute(
                _INSERT_TRANSCRIPT,
                [
                    {
                        "pk": pk,
                        "is_original": int(index == 0),
                        "engine": engine,
                        "created_at": created_at,
                        "digest": digest,
                        "neutral": text,
                    }
                    for index, (engine, created_at, text, digest) in enumerate(transcripts)
                ],
            )
        delete("DELETE FROM summaries WHERE session_pk = :pk")
        if summary is not None:
            conn.execute(
                sa.text("INSERT INTO summaries (session_pk, neutral) VALUES (:pk, :neutral)"),
                {"pk": pk, "neutral": summary},
            )
        delete("DELETE FROM participants WHERE session_pk = :pk")
        if participants:
            conn.execute(
                sa.text(
                    "INSERT INTO participants (session_pk, position, participant_id, neutral) "
                    "VALUES (:pk, :position, :pid, :neutral)"
                ),
                [
                    {"pk": pk, "position": i, "pid": pid, "neutral": text}
                    for i, (pid, text) in enumerate(participants)
                ],
            )
        delete("DELETE FROM chat_messages WHERE session_pk = :pk")
        if chat:
            conn.execute(
                sa.text(
                    "INSERT INTO chat_messages (session_pk, position, message_id, sent_at, "
                    "neutral) VALUES (:pk, :position, :mid, :sent, :neutral)"
                ),
                [
                    {"pk": pk, "position": i, "mid": mid, "sent": sent, "neutral": text}
                    for i, (mid, sent, text) in enumerate(chat)
                ],
            )
        if "session_meta" not in self.shims:
            delete("DELETE FROM session_meta WHERE session_pk = :pk")
            if meta:
                conn.execute(
                    sa.text(
                        "INSERT INTO session_meta (session_pk, key, text) VALUES (:pk, :key, :text)"
                    ),
                    [{"pk": pk, "key": k, "text": v} for k, v in meta],
                )

    def _replace_recordings(
        self,
        conn: Any,
        pk: int,
        rows: Sequence[tuple[str, str, int, str, str]],
        *,
        fresh: bool = False,
    ) -> None:
        if not fresh:
            conn.execute(sa.text("DELETE FROM recordings WHERE session_pk = :pk"), {"pk": pk})
        if rows:
            conn.execute(
                sa.text(
                    "INSERT INTO recordings (session_pk, position, recording_id, path, size, "
                    "sha256, neutral) VALUES (:pk, :position, :rid, :path, :size, :sha256, "
                    ":neutral)"
                ),
                [
                    {
                        "pk": pk,
                        "position": i,
                        "rid": rid,
                        "path": path,
                        "size": size,
                        "sha256": sha,
                        "neutral": text,
                    }
                    for i, (rid, path, size, sha, text) in enumerate(rows)
                ],
            )

    @_guarded("add a transcript")
    def add_transcript(self, ref: str, transcript: Transcript) -> bool | None:
        """Stores a re-processed transcript beside the original. Returns None when the session
        is absent, False when an identical transcript is already there."""
        text = to_json(transcript)
        with self.transaction() as conn:
            pk = self._session_pk(conn, ref)
            if pk is None:
                return None
            result = conn.execute(
                sa.text(
                    "INSERT INTO transcripts (session_pk, origin, is_original, engine, "
                    "created_at, digest, neutral) VALUES (:pk, 'reprocess', 0, :engine, "
                    ":created_at, :digest, :neutral) ON CONFLICT (session_pk, digest) DO NOTHING"
                ),
                {
                    "pk": pk,
                    "engine": transcript.engine,
                    "created_at": iso(transcript.created_at),
                    "digest": _digest(text),
                    "neutral": text,
                },
            )
            return bool(result.rowcount > 0)

    @_guarded("delete a session")
    def delete(self, ref: str) -> Removed | None:
        """Deletes a session, its artifacts (cascade) and its ledger entry (so a later
        migration copies it again). None when absent."""
        with self.transaction() as conn:
            row = conn.execute(
                sa.text("SELECT pk, provider, id FROM sessions WHERE ref = :ref"), {"ref": ref}
            ).first()
            if row is None:
                return None
            pk, provider, ident = row
            paths = tuple(
                r[0]
                for r in conn.execute(
                    sa.text("SELECT path FROM recordings WHERE session_pk = :pk"), {"pk": pk}
                )
            )
            conn.execute(sa.text("DELETE FROM sessions WHERE pk = :pk"), {"pk": pk})
            conn.execute(sa.text("DELETE FROM ledger WHERE source = :ref"), {"ref": ref})
        return Removed(source=SessionRef(provider=provider, id=ident), paths=paths)

    @_guarded("read the schema version")
    def schema_version(self) -> int:
        from .upgrade import current_version

        with self.engine.connect() as conn:
            return current_version(conn)


class _Rows:
    """The rows of one read, with the few result methods the catalog uses."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _RawReader:
    """Statements on SQLite's driver connection (the reads, and the writes of
    :meth:`Catalog.writing`): each ``text()`` statement is compiled once by SQLAlchemy (its
    qmark form and the order of its parameters) and run by ``sqlite3``."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        dialect: sa.Dialect,
        cache: dict[str, tuple[str, tuple[str, ...]]],
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._cache = cache

    def execute(
        self,
        statement: sa.TextClause,
        params: dict[str, Any] | list[dict[str, Any]] | None = None,
    ) -> _Rows:
        """Runs ``statement`` once with ``params``, or once per parameter set of a list."""
        sql, names = self._compile(statement)
        if isinstance(params, list):
            self._conn.executemany(sql, [[values[n] for n in names] for values in params])
            return _Rows([])
        values = params or {}
        return _Rows(self._conn.execute(sql, [values[n] for n in names]).fetchall())

    def _compile(self, statement: sa.TextClause) -> tuple[str, tuple[str, ...]]:
        key = statement.text
        compiled = self._cache.get(key)
        if compiled is None:
            done = statement.compile(dialect=self._dialect)
            compiled = (done.string, tuple(done.positiontup or ()))
            self._cache[key] = compiled
        return compiled

    def exec_driver_sql(self, sql: str) -> _Rows:
        return _Rows(self._conn.execute(sql).fetchall())

    def iterate(
        self, statement: sa.TextClause, params: dict[str, Any] | None = None
    ) -> Generator[Any, None, None]:
        """The rows of ``statement``, fetched a few at a time as they are taken; close it
        (the cursor goes with it) when done."""
        sql, names = self._compile(statement)
        values = params or {}
        cursor = self._conn.execute(sql, [values[n] for n in names])
        try:
            while batch := cursor.fetchmany(16):
                yield from batch
        finally:
            cursor.close()


def _iterate(
    conn: Any, statement: sa.TextClause, params: dict[str, Any]
) -> Generator[Any, None, None]:
    """The rows of a read, fetched as they are taken (on SQLite a few at a time); close it when
    done."""
    if isinstance(conn, _RawReader):
        yield from conn.iterate(statement, params)
        return
    result = conn.execute(statement, params)
    try:
        yield from result
    finally:
        result.close()


_PK = sa.text("SELECT pk FROM sessions WHERE ref = :ref")
_SESSION = sa.text("SELECT neutral FROM sessions WHERE ref = :ref")
_RAW = sa.text("SELECT raw FROM sessions WHERE ref = :ref")
_RECORDINGS = sa.text(
    "SELECT neutral, path, size, sha256 FROM recordings WHERE session_pk = :pk ORDER BY position"
)
_TRANSCRIPTS = sa.text(
    "SELECT neutral FROM transcripts WHERE session_pk = :pk "
    "AND (CAST(:origin AS TEXT) IS NULL OR origin = :origin) "
    "ORDER BY is_original DESC, origin = 'commit' DESC, pk"
)
_FIRST_TRANSCRIPT = sa.text(
    "SELECT t.neutral FROM sessions s LEFT JOIN transcripts t ON t.session_pk = s.pk "
    "WHERE s.ref = :ref ORDER BY t.is_original DESC, t.origin = 'commit' DESC, t.pk LIMIT 1"
)
_LEDGER_COLUMNS = "source, state, attempts, reason, updated_at, bytes"
_RELEASE = sa.text("DELETE FROM claims WHERE source = :source AND holder = :holder")
_UPSERT_SESSION = sa.text(
    "INSERT INTO sessions (ref, provider, id, status, created_at, title, neutral, raw, "
    "archived_at) VALUES (:ref, :provider, :id, :status, :created_at, :title, :neutral, :raw, "
    ":now) ON CONFLICT (ref) DO UPDATE SET status = excluded.status, "
    "created_at = excluded.created_at, title = excluded.title, neutral = excluded.neutral, "
    "raw = excluded.raw RETURNING pk"
)
_INSERT_TRANSCRIPT = sa.text(
    "INSERT INTO transcripts (session_pk, origin, is_original, engine, created_at, digest, "
    "neutral) VALUES (:pk, 'commit', :is_original, :engine, :created_at, :digest, :neutral) "
    "ON CONFLICT (session_pk, digest) DO UPDATE SET origin = 'commit', "
    "is_original = excluded.is_original"
)
_LEDGER_DONE = sa.text(
    "INSERT INTO ledger (source, state, attempts, reason, updated_at, bytes) "
    "VALUES (:source, 'done', 1, NULL, :now, :bytes) "
    "ON CONFLICT (source) DO UPDATE SET state = 'done', "
    "attempts = CASE WHEN ledger.state = 'done' THEN ledger.attempts "
    "ELSE ledger.attempts + 1 END, "
    "reason = NULL, updated_at = excluded.updated_at, bytes = excluded.bytes"
)

#: Where a page of the session listing ended: (part, created_at text or None, ref).
SessionCursor = tuple[str, str | None, str]

_SESSION_FIELDS = frozenset(f.name for f in attrs.fields(Session))
_STATUSES = {status.value: status for status in SessionStatus}
_SESSION_TIMES = ("created_at", "started_at", "ended_at")


def session_from_neutral(data: Any) -> Session:
    """A ``Session`` from its neutral JSON (as ``to_json`` wrote it), without the converter:
    the fields go to the model's constructor (its converters and validators still run), the
    status becomes a ``SessionStatus`` and times aware datetimes. Anything unexpected
    raises; the caller then decodes through the converter, which explains the problem."""
    if not isinstance(data, dict) or not _SESSION_FIELDS.issuperset(data):
        raise TypeError("not a neutral session")
    fields = dict(data)
    status = _STATUSES.get(fields.get("status"))  # type: ignore[arg-type]
    if status is None:
        raise ValueError(f"not a session status: {fields.get('status')!r}")
    fields["status"] = status
    for name in _SESSION_TIMES:
        value = fields.get(name)
        if value is not None:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError(f"timestamp without a timezone: {value!r}")
            fields[name] = parsed
    for name in ("provider", "id"):
        if not isinstance(fields.get(name), str):
            raise TypeError(f"{name} is not a string")
    return Session(**fields)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {value!r}")
    return parsed


def transcript_from_neutral(data: Any) -> Transcript:
    """A ``Transcript`` from its neutral JSON without the converter (as
    :func:`session_from_neutral`): utterances and words go to the model's constructors, which
    still convert and validate (and refuse a key they do not know); anything unexpected
    raises and the caller falls back to the converter."""
    if not isinstance(data, dict):
        raise TypeError("not a neutral transcript")
    utterances = []
    for item in data.get("utterances") or ():
        words = item.get("words")
        timestamp = item.get("timestamp")
        if words or timestamp is not None:
            item = dict(item)
            item["words"] = tuple([Word(**word) for word in words or ()])
            item["timestamp"] = _aware(timestamp)
        utterances.append(Utterance(**item))
    fields = dict(data)
    fields["utterances"] = tuple(utterances)
    if fields.get("created_at") is not None:
        fields["created_at"] = _aware(fields["created_at"])
    return Transcript(**fields)


def _ledger(row: tuple[Any, ...]) -> LedgerEntry:
    source, state, attempts, reason, updated_at, size = row
    return LedgerEntry(
        source=SessionRef.parse(source),
        state=state,
        attempts=int(attempts),
        reason=reason,
        updated_at=_parse_iso(updated_at),
        bytes=int(size),
    )


#: Lower-cases ASCII letters only (what SQLite's ``lower()`` and PostgreSQL's on "C" text do).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = [
    "Catalog",
    "ClaimLost",
    "ClaimState",
    "RecordingRow",
    "Removed",
    "SessionCursor",
    "float_text",
    "iso",
    "session_from_neutral",
    "transcript_from_neutral",
]
