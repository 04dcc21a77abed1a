"""The adapter SPI: everything a plugin author needs to write a backend, in one place.

``convoport`` (the top-level namespace) is the user API; this module is the other surface,
for adapter and archive authors::

    from convoport.spi import Adapter, HttpClient, Page, Payload, hookimpl, setting

What is here, by job (the details are in each class's docstring and in
``docs/adapter-guide.md``):

* the base classes and their options: :class:`Adapter` (primitives, class attributes,
  ``_session_for``), :class:`ArchiveAdapter` (the archive port), :class:`LiveSessionBase` (the
  live handle, with :class:`ConnectionDropped`/:class:`ConnectionClosed` for its reconnect
  loop and :class:`ReadBack` for a vendor's view of the ended session), :class:`ResultSink`,
  :class:`RecordingStream`, :class:`ConnectOptions`, the :data:`PRIMITIVES`
  table;
* configuration: :func:`setting` (a config field with its environment variable), and
  :func:`build_config`;
* HTTP: :class:`HttpClient` (``Adapter.make_http`` builds one), :class:`ErrorInfo`,
  :data:`ErrorParser`, :class:`RetryPolicy`, :class:`StreamedResponse`, :func:`error_message`,
  :func:`quote_segment` (every id put in a URL path);
* reading payloads: :class:`Payload`, :func:`malformed`, :func:`parse_timestamp`;
* pages: :class:`Page`, :data:`Cursor`, :func:`next_offset`, :func:`next_page_number`,
  :func:`next_url`;
* the archive sink's values: :class:`SessionBundle`, :class:`StoredMedia`,
  :class:`LedgerEntry`, :class:`VerifyReport`, :class:`VerifyIssue`;
* secrets: :class:`Redactor` (``Adapter.redactor`` is the adapter's; every string that may
  have touched a credential goes through one);
* registration: :func:`hookimpl` and :class:`AdapterRegistry` (the
  ``convoport_register_adapters`` hook of the ``convoport.adapters`` entry-point group).

Helpers an adapter may need live in their own public modules: ``convoport.signed``
(pre-signed download links), ``convoport.multipart``, ``convoport.sse``, the CSV reader
``convoport.csvreader``, and ``convoport.sandbox`` for emulators. ``_``-prefixed modules are
private to core.
"""

from __future__ import annotations

from convoport.adapter import PRIMITIVES, Adapter, ConnectOptions, RecordingStream
from convoport.archive import (
    ArchiveAdapter,
    LedgerEntry,
    SessionBundle,
    StoredMedia,
    VerifyIssue,
    VerifyReport,
)
from convoport.config import build_config, setting
from convoport.http import (
    ErrorInfo,
    ErrorParser,
    HttpClient,
    RetryPolicy,
    StreamedResponse,
    error_message,
    quote_segment,
)
from convoport.live import (
    ConnectionClosed,
    ConnectionDropped,
    LiveSessionBase,
    ReadBack,
    ResultSink,
    merge_provider_options,
)
from convoport.pagination import Cursor, Page, next_offset, next_page_number, next_url
from convoport.parsing import Payload, malformed, parse_timestamp
from convoport.redact import Redactor
from convoport.registry import AdapterRegistry, hookimpl

__all__ = [
    "PRIMITIVES",
    "Adapter",
    "AdapterRegistry",
    "ArchiveAdapter",
    "ConnectOptions",
    "ConnectionClosed",
    "ConnectionDropped",
    "Cursor",
    "ErrorInfo",
    "ErrorParser",
    "HttpClient",
    "LedgerEntry",
    "LiveSessionBase",
    "Page",
    "Payload",
    "ReadBack",
    "RecordingStream",
    "Redactor",
    "ResultSink",
    "RetryPolicy",
    "SessionBundle",
    "StoredMedia",
    "StreamedResponse",
    "VerifyIssue",
    "VerifyReport",
    "build_config",
    "error_message",
    "hookimpl",
    "malformed",
    "merge_provider_options",
    "next_offset",
    "next_page_number",
    "next_url",
    "parse_timestamp",
    "quote_segment",
    "setting",
]
