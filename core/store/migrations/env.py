"""Alembic's environment: runs the revisions on the connection the caller passes in
``config.attributes["connection"]`` (no URL, no ``alembic.ini``), one transaction per
revision."""

from __future__ import annotations

from alembic import context

from convoport.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    transaction_per_migration=True,
    render_as_batch=connection.dialect.name == "sqlite",
    # SQLite runs DDL in transactions when the driver leaves them to us (the catalog's engine
    # emits BEGIN itself), so every revision is all or nothing on both databases
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
