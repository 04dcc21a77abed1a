"""The storage archive backends share: the media store and the SQL catalog.

* :mod:`convoport.store.media`: recordings as files under an fsspec media root (a folder,
  ``s3://bucket/prefix``...), streamed in constant memory with their sha256;
* :mod:`convoport.store.schema`: the catalog's tables, one SQLAlchemy definition for SQLite
  and PostgreSQL, and their numbered migration history (Alembic, in ``migrations/``);
* :mod:`convoport.store.catalog`: the catalog's reads and writes on either database;
* :mod:`convoport.store.sqlarchive`: the archive port served on top of both, which the
  ``local`` (SQLite) and ``postgresql`` backends specialise.

Nothing here is imported by ``import convoport``: an archive backend loads it when it opens.
"""
