"""The catalog's migration history: Alembic revisions, one per schema version.

Run by :func:`convoport.store.upgrade.upgrade`; there is no ``alembic.ini``. A new version is a
new file in ``versions/`` whose ``down_revision`` is the last one; it ends by writing its
version into ``schema_version``, and :data:`convoport.store.schema.REVISIONS` and
``TABLES_ADDED`` gain its entry. A released revision is never edited.
"""
