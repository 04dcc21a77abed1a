"""What the revisions share: column types and the ``schema_version`` bump."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def set_version(version: int) -> None:
    """Records ``version`` in ``schema_version`` (what convoport 0.1 reads)."""
    op.execute(sa.text("DELETE FROM schema_version"))
    op.execute(sa.text("INSERT INTO schema_version (version) VALUES (:v)").bindparams(v=version))
