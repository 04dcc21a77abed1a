"""The ``postgresql`` archive backend: a team archive's catalog on PostgreSQL, its media on any
fsspec store (S3 and S3-compatible servers included).

``convoport.connect("postgresql://user:password@host:5432/db", media_root="s3://bucket/x")``;
see :mod:`convoport.adapters.postgresql.adapter`.
"""
