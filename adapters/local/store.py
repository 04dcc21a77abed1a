"""The archive's SQLite catalog: one :class:`Catalog` owns the connection.

The connection runs in WAL mode with ``foreign_keys=ON`` and a ``busy_timeout``; it is in
autocommit mode and every write is an explicit ``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on
any error), so a failure never leaves half a session behind.

**Reading never writes.** Opening an existing archive without ``create`` changes nothing in it:
a catalog whose schema is older than this convoport is read as it is (the tables later versions
add are read as empty) and upgraded only by the first write; a catalog this process may not
write (read-only media, a file or folder owned by another user) is opened read-only (SQLite
``mode=ro``, else ``immutable=1`` when even the WAL index cannot be created), and a write to it
is an ``ArchiveError`` saying so. A 0-byte or schema-less ``catalog.sqlite`` is not an archive:
without ``create`` it is a ``ConfigError`` (a read never creates an archive).

The methods are blocking and thread-safe (one lock per catalog: SQLite stays single-writer);
the adapter calls them from worker threads. Every ``sqlite3`` error comes out as an
``ArchiveError`` naming the catalog file and what to do.

Rows hold the neutral objects as ``convoport.serde.to_json`` text (the vendor's raw payloads
travel inside them, in each object's ``provider_data``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs

from convoport.archive import LedgerEntry, SessionBundle
from convoport.capabilities import ListOrder
from convoport.errors import ArchiveError, ConfigError, ConvoportError
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
from convoport.store.media import check_relative, session_dir

from . import schema

#: The catalog's file name inside the archive folder.
CATALOG_NAME = "catalog.sqlite"
#: How a catalog this process may not write is opened, in order (SQLite URI parameters).
READ_ONLY_MODES = ("mode=ro", "mode=ro&immutable=1")

P = ParamSpec("P")
T = TypeVar("T")

# A metadata value as ``str(value)`` gives it in Python (what SessionQuery.matches compares).
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


def _float_text(value: Any) -> str | None:
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


def _guarded(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Runs a catalog method under the catalog's lock, turning sqlite3 errors into
    ``ArchiveError``."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            self: Catalog = args[0]  # type: ignore[assignment]
            with self._lock:
                if self._conn is None:
                    raise ArchiveError(f"the archive catalog {self.path} is closed")
                try:
                    return fn(*args, **kwargs)
                except sqlite3.Error as exc:
                    raise self.error(what, exc) from exc
                except UnicodeError as exc:
                    raise ArchiveError(
                        f"could not {what} in the archive catalog {self.path}: a value is not "
                        f"valid Unicode ({exc})",
                        hint="ids and texts with lone surrogates cannot be archived",
                    ) from exc

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


class Catalog:
    """The SQLite catalog of one archive folder. Open with :meth:`open`; :meth:`close` when
    done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        #: opened read-only (this process may not write the catalog): writes are refused
        self.read_only = read_only
        #: the schema is older than :data:`schema.LATEST`; the first write upgrades it
        self._upgrade_pending = False
        self._shims: list[str] = []

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, *, create: bool, busy_timeout: float = 30.0) -> Catalog:
        """Opens (and, with ``create``, creates) the catalog of the archive at ``folder`` and
        brings its schema up to date. No archive and not ``create``: ``ConfigError``."""
        db = folder / CATALOG_NAME
        try:
            exists = db.is_file()
            if not exists:
                if not create:
                    raise ConfigError(
                        f"no archive at {folder} (no {CATALOG_NAME} there)",
                        hint="check the path, or let a migration create it (create=True)",
                    )
                if folder.exists() and not folder.is_dir():
                    raise ArchiveError(
                        f"cannot create an archive at {folder}: it is a file",
                        hint="choose a folder path for the archive",
                    )
                folder.mkdir(parents=True, exist_ok=True)
            elif db.stat().st_size == 0 and not create:
                raise ConfigError(
                    f"no archive at {folder}: its {CATALOG_NAME} is empty (0 bytes)",
                    hint="restore the catalog from a backup, or remove the empty file and let "
                    "a migration create the archive",
                )
            writable = not exists or _may_write(db)
        except OSError as exc:
            raise ArchiveError(
                f"cannot create the archive folder {folder}: {exc}",
                hint="check the path and its permissions",
            ) from exc
        if not writable:
            return cls._open_read_only(db, busy_timeout)
        try:
            conn = sqlite3.connect(
                db, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as exc:
            raise ArchiveError(
                f"cannot open the archive catalog {db}: {exc}",
                hint="check the file's permissions; run 'convoport verify' on it",
            ) from exc
        catalog = cls(db, conn)
        try:
            catalog._setup(busy_timeout, create=create)
        except BaseException:
            conn.close()
            raise
        return catalog

    @classmethod
    def _open_read_only(cls, db: Path, busy_timeout: float) -> Catalog:
        """Opens a catalog this process may not write: ``mode=ro``, else (no WAL index can
        be created next to it, as on read-only media) ``immutable=1``."""
        last: sqlite3.Error | None = None
        for flags in READ_ONLY_MODES:
            try:
                conn = sqlite3.connect(
                    f"{db.resolve().as_uri()}?{flags}",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=busy_timeout,
                )
            except sqlite3.Error as exc:
                last = exc
                continue
            catalog = cls(db, conn, read_only=True)
            try:
                catalog._setup_read_only(busy_timeout)
            except sqlite3.OperationalError as exc:
                conn.close()
                last = exc
                continue
            except BaseException:
                conn.close()
                raise
            return catalog
        raise ArchiveError(
            f"cannot open the read-only archive catalog {db}: {last}",
            hint="check that the file is readable by this user",
        )

    def _setup_read_only(self, busy_timeout: float) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.create_function("cp_float_text", 1, _float_text, deterministic=True)
        try:
            version = schema.current_version(conn)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
                raise  # the next way of opening may work
            raise self.error("open", exc) from exc
        self._check_archive(version)
        readable = version >= schema.LATEST or self._read_old_schema(version)
        conn.execute("PRAGMA query_only = ON")  # after the TEMP tables of an old schema
        if not readable:
            raise ArchiveError(
                f"the read-only archive at {self.path.parent} has schema version {version}, "
                f"older than this convoport's ({schema.LATEST}), and cannot be read without "
                "upgrading it",
                hint="open it once with write access (any write upgrades it), or read it "
                "with the convoport version that wrote it",
            )

    def _setup(self, busy_timeout: float, *, create: bool) -> None:
        conn = self._conn
        assert conn is not None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.create_function("cp_float_text", 1, _float_text, deterministic=True)
            version = schema.current_version(conn)
            if not create:
                self._check_archive(version)
                if version < schema.LATEST and self._read_old_schema(version):
                    self._upgrade_pending = True  # read as it is; the first write upgrades
                    return
            self._upgrade()
        except sqlite3.Error as exc:
            raise self.error("open", exc) from exc

    def _check_archive(self, version: int) -> None:
        """Refuses a catalog without convoport's schema (a read never creates one) and one
        written by a newer convoport."""
        if version == 0:
            raise ConfigError(
                f"no archive at {self.path.parent}: {self.path.name} holds no convoport catalog",
                hint="check the path, or let a migration create the archive (create=True)",
            )
        schema.check_version(version, str(self.path))

    def _read_old_schema(self, version: int) -> bool:
        """Makes a catalog at an older ``version`` readable without changing it: the tables
        later versions add exist as empty TEMP tables (in this connection only). False when a
        later step does more than add tables (then it cannot be read without upgrading)."""
        statements = [st for v, steps in schema.MIGRATIONS if v > version for st in steps]
        creates: list[tuple[str, str]] = []
        for statement in statements:
            text = " ".join(statement.split())
            head = text.upper()
            if head.startswith("CREATE INDEX"):
                continue
            if not head.startswith("CREATE TABLE "):
                return False
            name = text.split()[2]
            creates.append((name, "CREATE TEMP TABLE " + text[len("CREATE TABLE ") :]))
        conn = self.conn
        try:
            for name, statement in creates:
                conn.execute(statement)
                self._shims.append(name)
        except sqlite3.Error:
            self._drop_shims()
            return False
        return True

    def _drop_shims(self) -> None:
        for name in reversed(self._shims):
            self.conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
        self._shims.clear()

    def _upgrade(self) -> None:
        """WAL journaling and the schema brought to :data:`schema.LATEST` (writes)."""
        conn = self.conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ArchiveError(
                f"the archive catalog {self.path} cannot use WAL journaling (got {mode})",
                hint="keep the archive on a local disk that supports it",
            )
        schema.migrate(conn, str(self.path))

    def close(self) -> None:
        """Closes the connection (safe to call twice)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    def error(self, what: str, exc: BaseException) -> ArchiveError:
        """An ``ArchiveError`` for a failed catalog operation, with what to do about it."""
        text = str(exc)
        if "locked" in text or "busy" in text:
            hint = "another process is writing to this archive; retry when it is done"
        elif "malformed" in text or "not a database" in text or "disk I/O" in text:
            hint = "the catalog file is damaged; restore it from a backup"
        elif "readonly" in text:
            hint = "the archive folder is read-only; check its permissions"
        else:
            hint = "run 'convoport verify' on the archive"
        return ArchiveError(
            f"could not {what} in the archive catalog {self.path}: {text}", hint=hint
        )

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ArchiveError(f"the archive catalog {self.path} is closed")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); rolled back on any exception. The
        first write to a catalog with an older schema upgrades it first; a read-only catalog
        refuses every write (``ArchiveError``)."""
        if self.read_only:
            raise ArchiveError(
                f"the archive at {self.path.parent} is read-only for this process "
                "(read-only media, or files owned by another user): it cannot be written",
                hint="copy the archive somewhere writable, or run as its owner",
            )
        conn = self.conn
        if self._upgrade_pending:
            self._drop_shims()
            self._upgrade()
            self._upgrade_pending = False
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _decode(self, text: str, cls: type[T], where: str) -> T:
        try:
            return from_json(text, cls)
        except ConvoportError:
            raise
        except Exception as exc:
            raise ArchiveError(
                f"unreadable {cls.__name__} row for {where} in {self.path}: "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                hint="the catalog was changed outside convoport; restore it from a backup",
            ) from exc

    def _session_pk(self, ref: str) -> int | None:
        row = self.conn.execute("SELECT pk FROM sessions WHERE ref = ?", (ref,)).fetchone()
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

        Keyset paging: the cursor is where the page ended (``(part, created_at, ref)``), so
        each page is one range read of an index (``sessions_created`` for the sessions with a
        time, the ``ref`` index for the others: the listing runs through one part, then the
        other), never an ``OFFSET`` that re-reads every row before it."""
        where: list[str] = []
        params: list[Any] = []
        if query.created_after is not None:
            where.append("created_at >= ?")
            params.append(iso(query.created_after))
        if query.created_before is not None:
            where.append("created_at < ?")
            params.append(iso(query.created_before))
        if query.created_on is not None:
            day = date.fromisoformat(query.created_on)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            where.append("created_at >= ? AND created_at < ?")
            params += [iso(start), iso(start + timedelta(days=1))]
        if query.statuses is not None:
            if not query.statuses:
                return [], None
            statuses = sorted(s.value for s in query.statuses)
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params += statuses
        for key, value in (query.metadata or {}).items():
            where.append(
                "EXISTS (SELECT 1 FROM json_each(sessions.neutral, '$.metadata') AS m "
                f"WHERE m.key = ? AND ({_META_TEXT}) = ?)"
            )
            params += [key, value]
        if query.search is not None:
            pattern = "%" + _escape_like(query.search) + "%"
            where.append("(title LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        newest = query.order is not ListOrder.OLDEST
        parts = ("dated", "undated") if newest else ("undated", "dated")
        first = 0 if after is None else parts.index(after[0])
        sessions: list[Session] = []
        keys: list[SessionCursor] = []
        for index in range(first, len(parts)):
            part = parts[index]
            clauses = list(where)
            values = list(params)
            clauses.append("created_at IS NOT NULL" if part == "dated" else "created_at IS NULL")
            if after is not None and index == first:
                _, created, ref = after
                op = "<" if newest else ">"
                if part == "dated":  # a row value: one range of the (created_at, ref) index
                    clauses.append(f"(created_at, ref) {op} (?, ?)")
                    values += [created, ref]
                else:
                    clauses.append(f"ref {op} ?")
                    values.append(ref)
            direction = "DESC" if newest else "ASC"
            order = (
                f"created_at {direction}, ref {direction}"
                if part == "dated"
                else (f"ref {direction}")
            )
            want = limit + 1 - len(sessions)
            sql = (
                "SELECT ref, created_at, neutral FROM sessions WHERE "
                + " AND ".join(clauses)
                + f" ORDER BY {order} LIMIT ?"
            )
            rows = self.conn.execute(sql, [*values, want]).fetchall()
            for ref, created, neutral in rows:
                sessions.append(self._session(neutral, ref))
                keys.append((part, created, ref))
            if len(sessions) > limit:
                break
        if len(sessions) <= limit:
            return sessions, None
        return sessions[:limit], keys[limit - 1]

    def _session(self, text: str, where: str) -> Session:
        """A session row: read directly (json + the model's own constructor), falling back
        to the converter (and its error) for anything it does not expect."""
        try:
            return session_from_neutral(json.loads(text))
        except Exception:
            return self._decode(text, Session, where)

    @_guarded("read a session")
    def get_session(self, ref: str) -> Session | None:
        row = self.conn.execute("SELECT neutral FROM sessions WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else self._session(row[0], ref)

    @_guarded("read a session's raw payload")
    def raw_payload(self, ref: str) -> JSONDict | None:
        row = self.conn.execute("SELECT raw FROM sessions WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        if not isinstance(value, dict):
            raise ArchiveError(f"unreadable raw payload for {ref} in {self.path}")
        return value

    @_guarded("list recordings")
    def recordings(self, ref: str) -> list[RecordingRow] | None:
        """A session's recordings in the source's order; None when the session is absent."""
        pk = self._session_pk(ref)
        if pk is None:
            return None
        rows = self.conn.execute(
            "SELECT neutral, path, size, sha256 FROM recordings WHERE session_pk = ? "
            "ORDER BY position",
            (pk,),
        ).fetchall()
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
        return int(self.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    @_guarded("list every recording")
    def all_recordings(self) -> list[RecordingRow]:
        rows = self.conn.execute(
            "SELECT s.ref, r.neutral, r.path, r.size, r.sha256 FROM recordings r "
            "JOIN sessions s ON s.pk = r.session_pk ORDER BY s.ref, r.position"
        ).fetchall()
        return [self._recording_row(*row) for row in rows]

    @_guarded("list transcripts")
    def transcripts(self, ref: str, origin: str | None = None) -> list[Transcript] | None:
        """Every transcript of a session, the original first, then the others in the order
        they were stored; None when the session is absent. ``origin`` keeps only ``"commit"``
        (migrated) or ``"reprocess"`` (added by re-processing) transcripts."""
        pk = self._session_pk(ref)
        if pk is None:
            return None
        rows = self.conn.execute(
            "SELECT neutral FROM transcripts WHERE session_pk = ? "
            "AND (? IS NULL OR origin = ?) "
            "ORDER BY is_original DESC, origin = 'commit' DESC, pk",
            (pk, origin, origin),
        ).fetchall()
        return [self._transcript(row[0], ref) for row in rows]

    def _transcript(self, text: str, where: str) -> Transcript:
        """A transcript row: read directly (json + the model's constructors), falling back to
        the converter (and its error) for anything it does not expect."""
        try:
            return transcript_from_neutral(json.loads(text))
        except Exception:
            return self._decode(text, Transcript, where)

    @_guarded("read a summary")
    def summary(self, ref: str) -> tuple[bool, Summary | None]:
        """(whether the session exists, its summary or None)."""
        pk = self._session_pk(ref)
        if pk is None:
            return False, None
        row = self.conn.execute(
            "SELECT neutral FROM summaries WHERE session_pk = ?", (pk,)
        ).fetchone()
        return True, None if row is None else self._decode(row[0], Summary, ref)

    @_guarded("list participants")
    def participants(self, ref: str) -> list[Participant] | None:
        return self._children(ref, "participants", Participant)

    @_guarded("list chat messages")
    def chat(self, ref: str) -> list[ChatMessage] | None:
        return self._children(ref, "chat_messages", ChatMessage)

    def _children(self, ref: str, table: str, cls: type[T]) -> list[T] | None:
        pk = self._session_pk(ref)
        if pk is None:
            return None
        rows = self.conn.execute(
            f"SELECT neutral FROM {table} WHERE session_pk = ? ORDER BY position", (pk,)
        ).fetchall()
        return [self._decode(row[0], cls, ref) for row in rows]

    # -- ledger ---------------------------------------------------------------------------

    @_guarded("read the ledger")
    def ledger_entry(self, source: str) -> LedgerEntry | None:
        row = self.conn.execute(
            "SELECT source, state, attempts, reason, updated_at, bytes FROM ledger "
            "WHERE source = ?",
            (source,),
        ).fetchone()
        return None if row is None else _ledger(row)

    @_guarded("read the ledger")
    def ledger(self) -> list[LedgerEntry]:
        rows = self.conn.execute(
            "SELECT source, state, attempts, reason, updated_at, bytes FROM ledger ORDER BY source"
        ).fetchall()
        return [_ledger(row) for row in rows]

    @_guarded("record a failure")
    def record_failure(self, source: str, reason: str) -> None:
        """Marks ``source`` failed (attempts + 1, reason kept). A session already copied stays
        ``done``: its archived copy is complete."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO ledger (source, state, attempts, reason, updated_at, bytes) "
                "VALUES (?, 'failed', 1, ?, ?, 0) "
                "ON CONFLICT (source) DO UPDATE SET state = 'failed', "
                "attempts = ledger.attempts + 1, reason = excluded.reason, "
                "updated_at = excluded.updated_at WHERE ledger.state != 'done'",
                (source, reason, _now()),
            )

    @_guarded("check the ledger")
    def ledger_mismatches(self) -> list[tuple[str, str]]:
        """(ref, what is wrong) for each ledger ``done`` entry without its session row and
        each session row without a ``done`` entry."""
        problems: list[tuple[str, str]] = []
        for (source,) in self.conn.execute(
            "SELECT l.source FROM ledger l LEFT JOIN sessions s ON s.ref = l.source "
            "WHERE l.state = 'done' AND s.pk IS NULL ORDER BY l.source"
        ):
            problems.append((source, "the ledger says done but the session is not archived"))
        for ref, state in self.conn.execute(
            "SELECT s.ref, l.state FROM sessions s LEFT JOIN ledger l ON l.source = s.ref "
            "WHERE (l.source IS NULL OR l.state != 'done') "
            "AND s.status IN ('completed', 'failed', 'cancelled') ORDER BY s.ref"
        ):
            what = "no ledger entry" if state is None else f"the ledger says {state}"
            problems.append((ref, f"the session is archived but {what}"))
        return problems

    @_guarded("check the catalog's integrity")
    def integrity_problems(self) -> list[str]:
        rows = [str(r[0]) for r in self.conn.execute("PRAGMA quick_check")]
        problems = [r for r in rows if r != "ok"]
        problems += [
            f"foreign key violation in {r[0]} row {r[1]}"
            for r in self.conn.execute("PRAGMA foreign_key_check")
        ]
        return problems

    # -- writes ---------------------------------------------------------------------------

    @_guarded("commit a session")
    def commit(self, bundle: SessionBundle) -> list[str]:
        """Writes one session with everything in ``bundle`` and marks it done in the ledger,
        in one transaction. Committing again replaces the session's artifacts (transcripts
        added by re-processing stay). Returns the media paths the session no longer uses."""
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
        now = _now()
        with self.transaction() as conn:
            pk = self._session_pk(ref)
            old_paths: set[str] = set()
            if pk is not None:
                old_paths = {
                    r[0]
                    for r in conn.execute("SELECT path FROM recordings WHERE session_pk = ?", (pk,))
                }
            conn.execute(
                "INSERT INTO sessions (ref, provider, id, status, created_at, title, neutral, "
                "raw, archived_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (ref) DO UPDATE SET status = excluded.status, "
                "created_at = excluded.created_at, title = excluded.title, "
                "neutral = excluded.neutral, raw = excluded.raw",
                (
                    ref,
                    source.provider,
                    source.id,
                    bundle.session.status.value,
                    iso(bundle.session.created_at),
                    bundle.session.title,
                    session_json,
                    raw_json,
                    now,
                ),
            )
            pk = self._session_pk(ref)
            assert pk is not None
            self._replace_children(conn, pk, transcripts, summary, participants, chat)
            self._replace_recordings(conn, pk, media_rows)
            total = sum(m.size for m in bundle.media)
            if not bundle.complete:
                return sorted(old_paths - {m.path for m in bundle.media})
            conn.execute(
                "INSERT INTO ledger (source, state, attempts, reason, updated_at, bytes) "
                "VALUES (?, 'done', 1, NULL, ?, ?) "
                "ON CONFLICT (source) DO UPDATE SET state = 'done', "
                "attempts = CASE WHEN ledger.state = 'done' THEN ledger.attempts "
                "ELSE ledger.attempts + 1 END, "
                "reason = NULL, updated_at = excluded.updated_at, bytes = excluded.bytes",
                (ref, now, total),
            )
        return sorted(old_paths - {m.path for m in bundle.media})

    def _replace_children(
        self,
        conn: sqlite3.Connection,
        pk: int,
        transcripts: Sequence[tuple[str | None, str | None, str, str]],
        summary: str | None,
        participants: Sequence[tuple[str, str]],
        chat: Sequence[tuple[str, str | None, str]],
    ) -> None:
        conn.execute("DELETE FROM transcripts WHERE session_pk = ? AND origin = 'commit'", (pk,))
        for index, (engine, created_at, text, digest) in enumerate(transcripts):
            conn.execute(
                "INSERT INTO transcripts (session_pk, origin, is_original, engine, created_at, "
                "digest, neutral) VALUES (?, 'commit', ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_pk, digest) DO UPDATE SET origin = 'commit', "
                "is_original = excluded.is_original",
                (pk, int(index == 0), engine, created_at, digest, text),
            )
        conn.execute("DELETE FROM summaries WHERE session_pk = ?", (pk,))
        if summary is not None:
            conn.execute("INSERT INTO summaries (session_pk, neutral) VALUES (?, ?)", (pk, summary))
        conn.execute("DELETE FROM participants WHERE session_pk = ?", (pk,))
        conn.executemany(
            "INSERT INTO participants (session_pk, position, participant_id, neutral) "
            "VALUES (?, ?, ?, ?)",
            [(pk, i, pid, text) for i, (pid, text) in enumerate(participants)],
        )
        conn.execute("DELETE FROM chat_messages WHERE session_pk = ?", (pk,))
        conn.executemany(
            "INSERT INTO chat_messages (session_pk, position, message_id, sent_at, neutral) "
            "VALUES (?, ?, ?, ?, ?)",
            [(pk, i, mid, sent, text) for i, (mid, sent, text) in enumerate(chat)],
        )

    def _replace_recordings(
        self, conn: sqlite3.Connection, pk: int, rows: Sequence[tuple[str, str, int, str, str]]
    ) -> None:
        conn.execute("DELETE FROM recordings WHERE session_pk = ?", (pk,))
        conn.executemany(
            "INSERT INTO recordings (session_pk, position, recording_id, path, size, sha256, "
            "neutral) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(pk, i, *row) for i, row in enumerate(rows)],
        )

    @_guarded("add a transcript")
    def add_transcript(self, ref: str, transcript: Transcript) -> bool | None:
        """Stores a re-processed transcript beside the original. Returns None when the session
        is absent, False when an identical transcript is already there."""
        text = to_json(transcript)
        with self.transaction() as conn:
            pk = self._session_pk(ref)
            if pk is None:
                return None
            cursor = conn.execute(
                "INSERT INTO transcripts (session_pk, origin, is_original, engine, created_at, "
                "digest, neutral) VALUES (?, 'reprocess', 0, ?, ?, ?, ?) "
                "ON CONFLICT (session_pk, digest) DO NOTHING",
                (pk, transcript.engine, iso(transcript.created_at), _digest(text), text),
            )
            return cursor.rowcount > 0

    @_guarded("delete a session")
    def delete(self, ref: str) -> Removed | None:
        """Deletes a session, its artifacts (cascade) and its ledger entry (so a later
        migration copies it again). None when absent."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT pk, provider, id FROM sessions WHERE ref = ?", (ref,)
            ).fetchone()
            if row is None:
                return None
            pk, provider, ident = row
            paths = tuple(
                r[0]
                for r in conn.execute("SELECT path FROM recordings WHERE session_pk = ?", (pk,))
            )
            conn.execute("DELETE FROM sessions WHERE pk = ?", (pk,))
            conn.execute("DELETE FROM ledger WHERE source = ?", (ref,))
        return Removed(source=SessionRef(provider=provider, id=ident), paths=paths)

    @_guarded("read the schema version")
    def schema_version(self) -> int:
        return schema.current_version(self.conn)


def _may_write(db: Path) -> bool:
    """Whether this process may write the catalog and create files beside it (SQLite's
    journal, WAL and WAL index): read-only media and another user's files say no."""
    return os.access(db, os.W_OK) and os.access(db.parent, os.W_OK | os.X_OK)


#: Where a page of the session listing ended: (part, created_at text or None, ref).
SessionCursor = tuple[str, str | None, str]

_SESSION_FIELDS = frozenset(f.name for f in attrs.fields(Session))
_SESSION_TIMES = ("created_at", "started_at", "ended_at")


def session_from_neutral(data: Any) -> Session:
    """A ``Session`` from its neutral JSON (as ``to_json`` wrote it), without the converter:
    the fields go to the model's constructor (its converters and validators still run), the
    status becomes a ``SessionStatus`` and times aware datetimes. Anything unexpected
    raises; the caller then decodes through the converter, which explains the problem."""
    if not isinstance(data, dict) or not _SESSION_FIELDS.issuperset(data):
        raise TypeError("not a neutral session")
    fields = dict(data)
    fields["status"] = SessionStatus(fields["status"])
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


_WORD_FIELDS = frozenset(f.name for f in attrs.fields(Word))
_UTTERANCE_FIELDS = frozenset(f.name for f in attrs.fields(Utterance))
_TRANSCRIPT_FIELDS = frozenset(f.name for f in attrs.fields(Transcript))


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
    still convert and validate; anything unexpected raises and the caller falls back to the
    converter."""
    if not isinstance(data, dict) or not _TRANSCRIPT_FIELDS.issuperset(data):
        raise TypeError("not a neutral transcript")
    utterances = []
    for item in data.get("utterances") or ():
        if not isinstance(item, dict) or not _UTTERANCE_FIELDS.issuperset(item):
            raise TypeError("not a neutral utterance")
        fields = dict(item)
        words = fields.get("words") or ()
        for word in words:
            if not isinstance(word, dict) or not _WORD_FIELDS.issuperset(word):
                raise TypeError("not a neutral word")
        fields["words"] = tuple(Word(**word) for word in words)
        if fields.get("timestamp") is not None:
            fields["timestamp"] = _aware(fields["timestamp"])
        utterances.append(Utterance(**fields))
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


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = ["CATALOG_NAME", "Catalog", "RecordingRow", "Removed", "iso"]
