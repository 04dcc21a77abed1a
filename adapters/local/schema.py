"""The archive catalog's schema: numbered migration steps and the version guard.

The catalog records its version in the one-row table ``schema_version``. Opening an archive
applies every step above that version, each step in its own transaction together with the
version bump, so an interrupted upgrade leaves the catalog at the previous version. An archive
written by a newer convoport (a version above :data:`LATEST`) is refused with an
``ArchiveError`` asking to upgrade convoport: an older program must never write to a schema it
does not know.

Version 1 (every child row belongs to a session and goes with it, ``ON DELETE CASCADE``):

``sessions``
    one row per archived session. ``ref`` is the archive's id of the session, the string form
    of the source's :class:`~convoport.SessionRef` (``"gladia:abc"``); ``provider``/``id`` are
    its parts (unique together); ``status`` and ``created_at`` (fixed-width ISO UTC,
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, so text order is time order) serve the list filters;
    ``neutral`` is the :class:`~convoport.Session` as ``convoport.serde.to_json``; ``raw`` the
    vendor's whole payload for the session (``SessionBundle.provider_data``) as JSON.
``transcripts``
    several per session: the original(s) from the migration (``origin = 'commit'``,
    ``is_original`` set on the first) and the ones re-processing added (``origin =
    'reprocess'``); ``engine``/``created_at`` from the neutral transcript; ``digest`` is the
    sha256 of ``neutral`` (an identical transcript is never stored twice).
``summaries``, ``participants``, ``chat_messages``
    neutral JSON, in the source's order (``position``).
``recordings``
    neutral JSON of the recording, its media ``path`` relative to the media root, ``size`` in
    bytes and ``sha256`` (hex) of the stored bytes.
``settings`` (version 2)
    key/value facts about the archive: ``media_root``, the media location it was created with
    (so reopening ``local:PATH`` finds media kept elsewhere, on s3:// for instance).
``ledger``
    the migration ledger keyed by the source ``SessionRef`` string: ``state`` done|failed,
    ``attempts`` (runs that tried), ``reason`` of the last failure, ``updated_at`` (UTC ISO),
    ``bytes`` of media stored.
"""

from __future__ import annotations

import sqlite3

from convoport.errors import ArchiveError

#: (version, statements): applied in order; never edit a released step, add a new one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """
            CREATE TABLE sessions (
                pk          INTEGER PRIMARY KEY,
                ref         TEXT NOT NULL UNIQUE,
                provider    TEXT NOT NULL,
                id          TEXT NOT NULL,
                status      TEXT NOT NULL,
                created_at  TEXT,
                title       TEXT,
                neutral     TEXT NOT NULL,
                raw         TEXT NOT NULL DEFAULT '{}',
                archived_at TEXT NOT NULL,
                UNIQUE (provider, id)
            )
            """,
            "CREATE INDEX sessions_created ON sessions (created_at, ref)",
            "CREATE INDEX sessions_status ON sessions (status)",
            """
            CREATE TABLE transcripts (
                pk          INTEGER PRIMARY KEY,
                session_pk  INTEGER NOT NULL REFERENCES sessions (pk) ON DELETE CASCADE,
                origin      TEXT NOT NULL CHECK (origin IN ('commit', 'reprocess')),
                is_original INTEGER NOT NULL CHECK (is_original IN (0, 1)),
                engine      TEXT,
                created_at  TEXT,
                digest      TEXT NOT NULL,
                neutral     TEXT NOT NULL,
                UNIQUE (session_pk, digest)
            )
            """,
            "CREATE INDEX transcripts_session ON transcripts (session_pk)",
            """
            CREATE TABLE summaries (
                session_pk  INTEGER PRIMARY KEY REFERENCES sessions (pk) ON DELETE CASCADE,
                neutral     TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE participants (
                session_pk     INTEGER NOT NULL REFERENCES sessions (pk) ON DELETE CASCADE,
                position       INTEGER NOT NULL,
                participant_id TEXT NOT NULL,
                neutral        TEXT NOT NULL,
                PRIMARY KEY (session_pk, position)
            )
            """,
            """
            CREATE TABLE chat_messages (
                session_pk  INTEGER NOT NULL REFERENCES sessions (pk) ON DELETE CASCADE,
                position    INTEGER NOT NULL,
                message_id  TEXT NOT NULL,
                sent_at     TEXT,
                neutral     TEXT NOT NULL,
                PRIMARY KEY (session_pk, position)
            )
            """,
            """
            CREATE TABLE recordings (
                session_pk   INTEGER NOT NULL REFERENCES sessions (pk) ON DELETE CASCADE,
                position     INTEGER NOT NULL,
                recording_id TEXT NOT NULL,
                path         TEXT NOT NULL UNIQUE,
                size         INTEGER NOT NULL CHECK (size >= 0),
                sha256       TEXT NOT NULL,
                neutral      TEXT NOT NULL,
                PRIMARY KEY (session_pk, position),
                UNIQUE (session_pk, recording_id)
            )
            """,
            """
            CREATE TABLE ledger (
                source      TEXT PRIMARY KEY,
                state       TEXT NOT NULL CHECK (state IN ('done', 'failed')),
                attempts    INTEGER NOT NULL DEFAULT 0,
                reason      TEXT,
                updated_at  TEXT NOT NULL,
                bytes       INTEGER NOT NULL DEFAULT 0
            )
            """,
        ),
    ),
    (
        2,
        (
            """
            CREATE TABLE settings (
                key    TEXT PRIMARY KEY,
                value  TEXT NOT NULL
            )
            """,
        ),
    ),
)

#: The newest schema version this convoport knows.
LATEST: int = MIGRATIONS[-1][0]


def current_version(conn: sqlite3.Connection) -> int:
    """The catalog's schema version (0 for an empty database)."""
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if row is None:
        return 0
    version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    return int(version or 0)


def check_version(version: int, where: str) -> None:
    """Refuses a catalog written by a newer convoport."""
    if version > LATEST:
        raise ArchiveError(
            f"the archive at {where} has schema version {version}, newer than this convoport "
            f"knows ({LATEST})",
            hint="upgrade convoport (pip install -U convoport) to open it",
        )


def migrate(conn: sqlite3.Connection, where: str) -> int:
    """Brings the catalog to :data:`LATEST`, one transaction per step; returns the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``): the transactions here are
    explicit.
    """
    version = current_version(conn)
    check_version(version, where)
    for target, statements in MIGRATIONS:
        if target <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have migrated between our read and the lock
            version = current_version(conn)
            check_version(version, where)
            if target > version:
                if version == 0:
                    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                for statement in statements:
                    conn.execute(statement)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
                version = target
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version


__all__ = ["LATEST", "MIGRATIONS", "check_version", "current_version", "migrate"]
