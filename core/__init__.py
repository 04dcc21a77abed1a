"""convoport: one API over conversation sessions held by different vendors.

::

    import convoport

    async with convoport.connect("gladia", sandbox=True) as client:
        async for session in client.list_sessions(limit=5):
            transcript = await client.get_transcript(session)
            print(session.id, transcript.text[:80])

Importing convoport is cheap: it loads no adapter (adapters are imported on first use by
``connect`` or ``providers``), and the names below are imported on first access (PEP 562), so
``import convoport`` costs less than ``import httpx`` (``python bench/import_time.py``).
This namespace is the user API; the adapter SPI for plugin authors is the module
:mod:`convoport.spi`.
"""

import logging as _logging
import sys as _sys
import types as _types
from typing import TYPE_CHECKING

from convoport._version import __version__

if TYPE_CHECKING:
    from convoport import export as export
    from convoport.adapter import RecordingStream
    from convoport.capabilities import Capabilities, Capability, QueryFilter
    from convoport.client import AsyncClient, SessionLike
    from convoport.connect import ProviderInfo, connect, connect_sync, providers
    from convoport.errors import (
        ArchiveError,
        AuthenticationError,
        ConfigError,
        Conflict,
        ConvoportError,
        ConvoportWarning,
        InvalidRequest,
        LiveSessionError,
        MalformedResponse,
        NotFound,
        PermissionDenied,
        PluginWarning,
        ProviderError,
        ProviderUnavailable,
        RateLimited,
        UnsupportedOperation,
    )
    from convoport.http import RetryPolicy
    from convoport.live import (
        AudioAcknowledged,
        DoneEvent,
        ErrorEvent,
        FinalUtterance,
        IngestResult,
        LiveEvent,
        LiveOptions,
        LiveSessionBase,
        PartialTranscript,
        SpeechEvent,
        StatusEvent,
        SummaryEvent,
        VendorEvent,
    )
    from convoport.media import MediaInput, MediaSource
    from convoport.migration import MigrationReport, Progress, archive_ingest, migrate, migrate_sync
    from convoport.model import (
        ChatMessage,
        Participant,
        Recording,
        Session,
        SessionQuery,
        SessionRef,
        SessionStatus,
        Summary,
        Transcript,
        Turn,
        Utterance,
        Word,
    )
    from convoport.serde import converter, from_json, to_json
    from convoport.sync import SyncClient, SyncLiveSession, SyncRecordingStream

#: public name -> the module it lives in (imported on first access)
_LAZY: dict[str, str] = {
    "export": "convoport.export",
    "RecordingStream": "convoport.adapter",
    "Capabilities": "convoport.capabilities",
    "Capability": "convoport.capabilities",
    "QueryFilter": "convoport.capabilities",
    "AsyncClient": "convoport.client",
    "SessionLike": "convoport.client",
    "ProviderInfo": "convoport.connect",
    "connect": "convoport.connect",
    "connect_sync": "convoport.connect",
    "providers": "convoport.connect",
    "ArchiveError": "convoport.errors",
    "AuthenticationError": "convoport.errors",
    "ConfigError": "convoport.errors",
    "Conflict": "convoport.errors",
    "ConvoportError": "convoport.errors",
    "ConvoportWarning": "convoport.errors",
    "InvalidRequest": "convoport.errors",
    "LiveSessionError": "convoport.errors",
    "MalformedResponse": "convoport.errors",
    "NotFound": "convoport.errors",
    "PermissionDenied": "convoport.errors",
    "PluginWarning": "convoport.errors",
    "ProviderError": "convoport.errors",
    "ProviderUnavailable": "convoport.errors",
    "RateLimited": "convoport.errors",
    "UnsupportedOperation": "convoport.errors",
    "RetryPolicy": "convoport.http",
    "AudioAcknowledged": "convoport.live",
    "DoneEvent": "convoport.live",
    "ErrorEvent": "convoport.live",
    "FinalUtterance": "convoport.live",
    "IngestResult": "convoport.live",
    "LiveEvent": "convoport.live",
    "LiveOptions": "convoport.live",
    "LiveSessionBase": "convoport.live",
    "PartialTranscript": "convoport.live",
    "SpeechEvent": "convoport.live",
    "StatusEvent": "convoport.live",
    "SummaryEvent": "convoport.live",
    "VendorEvent": "convoport.live",
    "MediaInput": "convoport.media",
    "MediaSource": "convoport.media",
    "MigrationReport": "convoport.migration",
    "Progress": "convoport.migration",
    "archive_ingest": "convoport.migration",
    "migrate": "convoport.migration",
    "migrate_sync": "convoport.migration",
    "ChatMessage": "convoport.model",
    "Participant": "convoport.model",
    "Recording": "convoport.model",
    "Session": "convoport.model",
    "SessionQuery": "convoport.model",
    "SessionRef": "convoport.model",
    "SessionStatus": "convoport.model",
    "Summary": "convoport.model",
    "Transcript": "convoport.model",
    "Turn": "convoport.model",
    "Utterance": "convoport.model",
    "Word": "convoport.model",
    "converter": "convoport.serde",
    "from_json": "convoport.serde",
    "to_json": "convoport.serde",
    "SyncClient": "convoport.sync",
    "SyncLiveSession": "convoport.sync",
    "SyncRecordingStream": "convoport.sync",
}


class _Package(_types.ModuleType):
    """The package's module type: a function that shares its name with a submodule
    (``convoport.connect``) stays the function when that submodule is imported (the import
    system sets a submodule as an attribute of its package once it has run)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _KEEP and isinstance(value, _types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


#: names that are both a public function and a submodule
_KEEP = frozenset({"connect"})

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        import importlib
        import importlib.util

        module_name = _LAZY.get(name)
        if module_name is None:
            # a submodule the eager package used to import as a side effect (convoport.model)
            if name.startswith("_") or importlib.util.find_spec(f"convoport.{name}") is None:
                raise AttributeError(f"module 'convoport' has no attribute {name!r}")
            return importlib.import_module(f"convoport.{name}")
        module = importlib.import_module(module_name)
        value = module if name == "export" else getattr(module, name)  # export: the module
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_sys.modules[__name__].__class__ = _Package

# A library logs but never decides where logs go: without this, an app that configured no
# logging would get convoport's retry warnings on its stderr through logging's last resort.
_logging.getLogger("convoport").addHandler(_logging.NullHandler())

__all__ = [
    "ArchiveError",
    "AsyncClient",
    "AudioAcknowledged",
    "AuthenticationError",
    "Capabilities",
    "Capability",
    "ChatMessage",
    "ConfigError",
    "Conflict",
    "ConvoportError",
    "ConvoportWarning",
    "DoneEvent",
    "ErrorEvent",
    "FinalUtterance",
    "IngestResult",
    "InvalidRequest",
    "LiveEvent",
    "LiveOptions",
    "LiveSessionBase",
    "LiveSessionError",
    "MalformedResponse",
    "MediaInput",
    "MediaSource",
    "MigrationReport",
    "NotFound",
    "PartialTranscript",
    "Participant",
    "PermissionDenied",
    "PluginWarning",
    "Progress",
    "ProviderError",
    "ProviderInfo",
    "ProviderUnavailable",
    "QueryFilter",
    "RateLimited",
    "Recording",
    "RecordingStream",
    "RetryPolicy",
    "Session",
    "SessionLike",
    "SessionQuery",
    "SessionRef",
    "SessionStatus",
    "SpeechEvent",
    "StatusEvent",
    "Summary",
    "SummaryEvent",
    "SyncClient",
    "SyncLiveSession",
    "SyncRecordingStream",
    "Transcript",
    "Turn",
    "UnsupportedOperation",
    "Utterance",
    "VendorEvent",
    "Word",
    "__version__",
    "archive_ingest",
    "connect",
    "connect_sync",
    "converter",
    "export",
    "from_json",
    "migrate",
    "migrate_sync",
    "providers",
    "to_json",
]
