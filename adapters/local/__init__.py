"""The ``local`` archive backend: a SQLite catalog and an fsspec media store.

``convoport.connect("local:./archive")``; see :mod:`convoport.adapters.local.adapter`.
"""

from convoport.archive import VerifyIssue, VerifyReport

from .adapter import LocalAdapter, LocalConfig

__all__ = ["LocalAdapter", "LocalConfig", "VerifyIssue", "VerifyReport"]
