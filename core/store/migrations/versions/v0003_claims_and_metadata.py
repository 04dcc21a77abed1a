"""Schema version 3: ``claims`` (several writers) and ``session_meta`` (the metadata filter as
an indexed equality on any database), filled from the sessions already archived.

Revision ID: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from convoport.store.migrations._common import set_version
from convoport.store.schema import key_text, pk_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("source", key_text(), primary_key=True),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    meta = op.create_table(
        "session_meta",
        sa.Column(
            "session_pk",
            pk_type(),
            sa.ForeignKey("sessions.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", key_text(), primary_key=True),
        sa.Column("text", key_text(), nullable=False),
    )
    op.create_index("session_meta_value", "session_meta", ["key", "text"])
    bind = op.get_bind()
    rows = []
    for pk, neutral in bind.execute(sa.text("SELECT pk, neutral FROM sessions")):
        found = json.loads(neutral).get("metadata") or {}
        rows += [{"session_pk": pk, "key": k, "text": str(v)} for k, v in found.items()]
    if rows:
        op.bulk_insert(meta, rows)
    set_version(3)


def downgrade() -> None:
    raise NotImplementedError("the catalog's history only goes forward")
