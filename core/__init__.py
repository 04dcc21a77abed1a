"""convoport: one API over conversation sessions held by different vendors.

::

    import convoport

    async with convoport.connect("gladia", sandbox=True) as client:
        async for session in client.list_sessions(limit=5):
            transcript = await client.get_transcript(session)
            print(session.id, transcript.text[:80])

Importing convoport loads no adapter: adapters are imported on first use by ``connect`` or
``providers``. The adapter SPI for plugin authors is documented in :mod:`convoport.adapter`.
"""

from convoport._version import __version__
from convoport.adapter import Adapter, ConnectOptions, RecordingStream
from convoport.capabilities import Capabilities, Capability, QueryFilter
from convoport.client import AsyncClient, SessionLike
from convoport.config import build_config, setting
from convoport.connect import (
    ProviderInfo,
    adapter_class,
    connect,
    connect_sync,
    create_adapter,
    providers,
)
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
from convoport.http import ErrorInfo, HttpClient, RetryPolicy, StreamedResponse
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
from convoport.migration import MigrationReport, Progress, archive_ingest, migrate
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
from convoport.pagination import Page, next_offset, next_page_number, next_url, paginate
from convoport.parsing import Payload, parse_timestamp
from convoport.registry import AdapterRegistry, hookimpl
from convoport.serde import converter, from_json, to_json
from convoport.sync import SyncClient, SyncLiveSession, SyncRecordingStream, migrate_sync

__all__ = [
    "Adapter",
    "AdapterRegistry",
    "ArchiveError",
    "AsyncClient",
    "AudioAcknowledged",
    "AuthenticationError",
    "Capabilities",
    "Capability",
    "ChatMessage",
    "ConfigError",
    "Conflict",
    "ConnectOptions",
    "ConvoportError",
    "ConvoportWarning",
    "DoneEvent",
    "ErrorEvent",
    "ErrorInfo",
    "FinalUtterance",
    "HttpClient",
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
    "Page",
    "PartialTranscript",
    "Participant",
    "Payload",
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
    "StreamedResponse",
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
    "adapter_class",
    "archive_ingest",
    "build_config",
    "connect",
    "connect_sync",
    "converter",
    "create_adapter",
    "from_json",
    "hookimpl",
    "migrate",
    "migrate_sync",
    "next_offset",
    "next_page_number",
    "next_url",
    "paginate",
    "parse_timestamp",
    "providers",
    "setting",
    "to_json",
]
