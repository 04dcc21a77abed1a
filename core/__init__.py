"""convoport: one API over conversation sessions held by different vendors.

::

    import convoport

    async with convoport.connect("gladia", sandbox=True) as client:
        async for session in client.list_sessions(limit=5):
            transcript = await client.get_transcript(session)
            print(session.id, transcript.text[:80])

Importing convoport loads no adapter: adapters are imported on first use by ``connect`` or
``providers``. This namespace is the user API; the adapter SPI for plugin authors is the
module :mod:`convoport.spi`.
"""

import logging as _logging

from convoport import export as export
from convoport._version import __version__
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
