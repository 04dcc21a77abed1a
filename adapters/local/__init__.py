"""The ``local`` archive backend: a SQLite catalog and an fsspec media store.

``convoport.connect("local:./archive")``; see :mod:`convoport.adapters.local.adapter`.
"""

from .adapter import LocalAdapter, LocalConfig, VerifyIssue, VerifyReport

__all__ = ["LocalAdapter", "LocalConfig", "VerifyIssue", "VerifyReport"]
