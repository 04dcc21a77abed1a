"""The archive catalog's schema: one SQLAlchemy definition for SQLite and PostgreSQL.

This module is the schema's single definition; ``migrations/`` holds its numbered history
(Alembic revisions ``0001``, ``0002``... each one a schema version). A new catalog is created
by running the whole history, so both databases always go through the same steps, and a test
compares the result with these tables (Alembic's autogenerate comparison) on both.

The catalog also records its version in the one-row table ``schema_version`` (every revision
updates it): what convoport 0.1, which predates Alembic, reads to refuse a newer catalog, and
what tells this one which revision an archive written by 0.1 is at (:data:`REVISIONS`). A
catalog whose version is above :data:`LATEST` is refused with an ``ArchiveError`` asking to
upgrade convoport: an older program must never write to a schema it does not know.

Tables (every child row belongs to a session and goes with it, ``ON DELETE CASCADE``). Times
are fixed-width ISO UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``): text order is time order, on
both databases, because every text key is compared bytewise (``COLLATE "C"`` on PostgreSQL,
SQLite's default). Neutral objects are ``convoport.serde.to_json`` text (query them on
PostgreSQL as ``neutral::jsonb``).

``sessions``
    one row per archived session. ``ref`` is the archive's id of the session, the string form
    of the source's :class:`~convoport.SessionRef` (``"gladia:abc"``); ``provider``/``id`` are
    its parts (unique together); ``status`` and ``created_at`` serve the list filters;
    ``neutral`` is the :class:`~convoport.Session`; ``raw`` the vendor's whole payload for the
    session (``SessionBundle.provider_data``) as JSON.
``session_meta`` (version 3)
    one row per metadata key of a session: ``text`` is the value as Python's ``str()`` gives
    it (what :meth:`~convoport.SessionQuery.matches` compares), so the metadata filter is an
    indexed equality on either database.
``transcripts``
    several per session: the original(s) from the migration (``origin = 'commit'``,
    ``is_original`` set on the first) and the ones re-processing added (``origin =
    'reprocess'``); ``digest`` is the sha256 of ``neutral`` (an identical transcript is never
    stored twice).
``summaries``, ``participants``, ``chat_messages``
    neutral JSON, in the source's order (``position``).
``recordings``
    neutral JSON of the recording, its media ``path`` relative to the media root, ``size`` in
    bytes and ``sha256`` (hex) of the stored bytes.
``settings`` (version 2)
    key/value facts about the archive: ``media_root``, the media location it was created with.
``ledger``
    the migration ledger keyed by the source ``SessionRef`` string: ``state`` done|failed,
    ``attempts`` (runs that tried), ``reason`` of the last failure, ``updated_at`` (UTC ISO),
    ``bytes`` of media stored.
``claims`` (version 3)
    the sessions being copied right now by one of several writers (a PostgreSQL archive):
    ``holder`` names the writer, ``expires_at`` is when the claim lapses (seconds since the
    epoch, the database's clock) unless the holder renews it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from convoport.errors import ArchiveError

metadata = sa.MetaData()


def key_text() -> sa.types.TypeEngine[str]:
    """Text compared bytewise on both databases (keys, times as ISO text, refs)."""
    return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")


def pk_type() -> sa.types.TypeEngine[int]:
    """A surrogate key: SQLite's rowid alias (exactly ``INTEGER``), PostgreSQL's bigint."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _session_fk() -> sa.ForeignKey:
    return sa.ForeignKey("sessions.pk", ondelete="CASCADE")


sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("pk", pk_type(), primary_key=True, autoincrement=True),
    sa.Column("ref", key_text(), nullable=False, unique=True),
    sa.Column("provider", key_text(), nullable=False),
    sa.Column("id", key_text(), nullable=False),
    sa.Column("status", key_text(), nullable=False),
    sa.Column("created_at", key_text()),
    sa.Column("title", key_text()),
    sa.Column("neutral", sa.Text(), nullable=False),
    sa.Column("raw", sa.Text(), nullable=False, server_default="{}"),
    sa.Column("archived_at", key_text(), nullable=False),
    sa.UniqueConstraint("provider", "id"),
)
sa.Index("sessions_created", sessions.c.created_at, sessions.c.ref)
sa.Index("sessions_status", sessions.c.status)

session_meta = sa.Table(
    "session_meta",
    metadata,
    sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
    sa.Column("key", key_text(), primary_key=True),
    sa.Column("text", key_text(), nullable=False),
)
sa.Index("session_meta_value", session_meta.c.key, session_meta.c.text)

transcripts = sa.Table(
    "transcripts",
    metadata,
    sa.Column("pk", pk_type(), primary_key=True, autoincrement=True),
    sa.Column("session_pk", pk_type(), _session_fk(), nullable=False),
    sa.Column("origin", key_text(), nullable=False),
    sa.Column("is_original", sa.Integer(), nullable=False),
    sa.Column("engine", sa.Text()),
    sa.Column("created_at", key_text()),
    sa.Column("digest", key_text(), nullable=False),
    sa.Column("neutral", sa.Text(), nullable=False),
    sa.UniqueConstraint("session_pk", "digest"),
    sa.CheckConstraint("origin IN ('commit', 'reprocess')", name="transcripts_origin"),
    sa.CheckConstraint("is_original IN (0, 1)", name="transcripts_is_original"),
)
sa.Index("transcripts_session", transcripts.c.session_pk)

summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True, autoincrement=False),
    sa.Column("neutral", sa.Text(), nullable=False),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("participant_id", sa.Text(), nullable=False),
    sa.Column("neutral", sa.Text(), nullable=False),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("message_id", sa.Text(), nullable=False),
    sa.Column("sent_at", key_text()),
    sa.Column("neutral", sa.Text(), nullable=False),
)

recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("recording_id", key_text(), nullable=False),
    sa.Column("path", key_text(), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("sha256", key_text(), nullable=False),
    sa.Column("neutral", sa.Text(), nullable=False),
    sa.UniqueConstraint("session_pk", "recording_id"),
    sa.CheckConstraint("size >= 0", name="recordings_size"),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("source", key_text(), primary_key=True),
    sa.Column("state", key_text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("reason", sa.Text()),
    sa.Column("updated_at", key_text(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0"),
    sa.CheckConstraint("state IN ('done', 'failed')", name="ledger_state"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", key_text(), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("source", key_text(), primary_key=True),
    sa.Column("holder", sa.Text(), nullable=False),
    sa.Column("expires_at", sa.Float(), nullable=False),
)

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer(), nullable=False),
)

#: schema version -> the Alembic revision that brings a catalog to it.
REVISIONS: dict[int, str] = {1: "0001", 2: "0002", 3: "0003"}
#: The newest schema version this convoport knows.
LATEST: int = max(REVISIONS)
#: The tables each version added (only ``CREATE TABLE`` steps: a catalog at an older version
#: can be read as it is, with these standing in as empty tables).
TABLES_ADDED: dict[int, tuple[str, ...]] = {
    1: (
        "sessions",
        "transcripts",
        "summaries",
        "participants",
        "chat_messages",
        "recordings",
        "ledger",
    ),
    2: ("settings",),
    3: ("session_meta", "claims"),
}


def check_version(version: int, where: str) -> None:
    """Refuses a catalog written by a newer convoport."""
    if version > LATEST:
        raise ArchiveError(
            f"the archive at {where} has schema version {version}, newer than this convoport "
            f"knows ({LATEST})",
            hint="upgrade convoport (pip install -U convoport) to open it",
        )


__all__ = [
    "LATEST",
    "REVISIONS",
    "TABLES_ADDED",
    "check_version",
    "key_text",
    "metadata",
    "pk_type",
]
