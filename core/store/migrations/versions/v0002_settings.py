"""Schema version 2: the ``settings`` table (the media root an archive was created with).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from convoport.store.migrations._common import set_version
from convoport.store.schema import key_text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", key_text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    set_version(2)


def downgrade() -> None:
    raise NotImplementedError("the catalog's history only goes forward")
