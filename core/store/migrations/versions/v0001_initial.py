"""Schema version 1: sessions, their artifacts, recordings and the migration ledger.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from convoport.store.migrations._common import set_version
from convoport.store.schema import key_text, pk_type

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _session_fk() -> sa.ForeignKey:
    return sa.ForeignKey("sessions.pk", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table("schema_version", sa.Column("version", sa.Integer(), nullable=False))
    op.create_table(
        "sessions",
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
    op.create_index("sessions_created", "sessions", ["created_at", "ref"])
    op.create_index("sessions_status", "sessions", ["status"])
    op.create_table(
        "transcripts",
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
    op.create_index("transcripts_session", "transcripts", ["session_pk"])
    op.create_table(
        "summaries",
        sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True, autoincrement=False),
        sa.Column("neutral", sa.Text(), nullable=False),
    )
    op.create_table(
        "participants",
        sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("participant_id", sa.Text(), nullable=False),
        sa.Column("neutral", sa.Text(), nullable=False),
    )
    op.create_table(
        "chat_messages",
        sa.Column("session_pk", pk_type(), _session_fk(), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("sent_at", key_text()),
        sa.Column("neutral", sa.Text(), nullable=False),
    )
    op.create_table(
        "recordings",
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
    op.create_table(
        "ledger",
        sa.Column("source", key_text(), primary_key=True),
        sa.Column("state", key_text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reason", sa.Text()),
        sa.Column("updated_at", key_text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("state IN ('done', 'failed')", name="ledger_state"),
    )
    set_version(1)


def downgrade() -> None:
    raise NotImplementedError("the catalog's history only goes forward")
