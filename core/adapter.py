"""The adapter SPI: what a backend implements.

An adapter is a subclass of :class:`Adapter` that declares, in its class body, its ``name``, its
``capabilities`` and its ``config_class``, and implements the primitives for the capabilities it
declares. Nothing else: argument checks, capability checks, pagination, retries, error mapping
and the sync twin all live in core (:class:`convoport.AsyncClient`).

Primitives (all ``async``). Artifact primitives receive the :class:`~convoport.Session` the
caller passed, or the one ``_get_session`` returned when the caller gave an id, so an adapter
can reuse what a list page or a get already carried in ``session.provider_data`` instead of
fetching the same object again (an adapter without ``catalog.get`` receives a reference-only
session: ``status`` ``PENDING``, empty ``provider_data``). ``session_id`` is the vendor's id as
a string.

=====================================  =====================  ===================================
primitive                              capability             returns
=====================================  =====================  ===================================
``_list_sessions_page(q, cursor, n)``  ``catalog.list``       ``Page[Session]`` (``cursor`` None
                                                              on the first call; ``n`` page size)
``_get_session(session_id)``           ``catalog.get``        ``Session``
``_delete_session(session_id)``        ``catalog.delete``     ``None``
``_list_recordings(session)``          ``recordings``         ``list[Recording]``
``_open_recording(session, rec)``      ``recordings``         async context manager of
                                                              ``RecordingStream``
``_get_transcript(session)``           ``transcripts``        ``Transcript``
``_get_summary(session)``              ``summaries``          ``Summary``
``_list_participants(session)``        ``participants``       ``list[Participant]``
``_list_chat(session)``                ``chat``               ``list[ChatMessage]``
``_start_live(options)``               ``live.ingest``        a started ``LiveSessionBase``
``_analyze(media, options)``           ``batch.ingest``       ``IngestResult``
``_ledger_entry`` … ``_add_transcript``  ``archive.sink``     see :class:`convoport.archive.
                                                              ArchiveAdapter`
=====================================  =====================  ===================================

Hooks with defaults: ``_sandbox_options(cls)`` (the options that wire the adapter to its
in-process emulator), ``_session_extras(session)`` (vendor-only data a migration archives
raw beside the session), ``aclose()``. Class attributes: see :class:`Adapter`.

Vendor-only operations (no neutral meaning) are public methods of the adapter class named
``ex_<operation>`` as the vendor names the operation (Libcloud's convention; Gladia's
``ex_update_post_session_metadata``), listed in the adapter module's docstring under
"Extensions"; users reach them as ``client.adapter.ex_<operation>(...)``. Every other public
name of an adapter class is the base class's.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import httpx

from convoport.capabilities import Capabilities, Capability
from convoport.config import secret_values
from convoport.http import ErrorParser, HttpClient, RetryPolicy
from convoport.live import IngestResult, LiveOptions, LiveSessionBase
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
)
from convoport.pagination import Cursor, Page
from convoport.redact import Redactor

if TYPE_CHECKING:
    from convoport.media import MediaSource
    from convoport.sandbox import HarnessSettings


def load_object(target: str) -> Any:
    """Imports ``"package.module:Attribute"`` (attribute paths may be dotted)."""
    import importlib

    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class RecordingStream(abc.ABC):
    """An open recording: its metadata and its bytes, read in chunks."""

    recording: Recording

    @abc.abstractmethod
    def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The media bytes in chunks of at most ``chunk_size`` bytes."""


@attrs.frozen(kw_only=True)
class ConnectOptions:
    """Options every adapter accepts besides its own config.

    ``transport``/``client`` inject the HTTP machinery (tests, proxies, the emulators);
    ``timeout`` is seconds; ``retry`` the retry policy.
    """

    transport: httpx.AsyncBaseTransport | None = None
    client: httpx.AsyncClient | None = None
    timeout: float | None = None
    retry: RetryPolicy | None = None
    sandbox: bool = False
    extra: dict[str, Any] = attrs.field(factory=dict)


#: Which primitive serves each capability (the kit checks declared ones are implemented).
PRIMITIVES: dict[Capability, tuple[str, ...]] = {
    Capability.CATALOG_LIST: ("_list_sessions_page",),
    Capability.CATALOG_GET: ("_get_session",),
    Capability.CATALOG_DELETE: ("_delete_session",),
    Capability.RECORDINGS: ("_list_recordings", "_open_recording"),
    Capability.TRANSCRIPTS: ("_get_transcript",),
    Capability.SUMMARIES: ("_get_summary",),
    Capability.PARTICIPANTS: ("_list_participants",),
    Capability.CHAT: ("_list_chat",),
    Capability.LIVE_INGEST: ("_start_live",),
    Capability.BATCH_INGEST: ("_analyze",),
    Capability.ARCHIVE_SINK: (
        "_ledger_entry",
        "_store_media",
        "_commit_session",
        "_record_failure",
        "_add_transcript",
    ),
}


class Adapter:
    """Base class of every backend adapter.

    Class attributes a subclass sets:

    * ``name`` — the provider name users pass to ``connect`` (``"gladia"``);
    * ``display_name`` — for tables (``"Gladia live v2"``);
    * ``capabilities`` — a :class:`Capabilities` value;
    * ``config_class`` — an attrs class built with :func:`convoport.config.setting`;
    * ``default_page_size`` — items per page when the caller does not say;
    * ``target_option`` — the config field set by ``connect("name:TARGET")`` (``local:PATH``).
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    config_class: ClassVar[type[Any]]
    default_page_size: ClassVar[int] = 50
    max_page_size: ClassVar[int] = 100
    target_option: ClassVar[str | None] = None
    #: ``"module:Class"`` of the emulator behind ``sandbox=True``, the kit's emulator mode
    #: and ``convoport emulate``: a :class:`convoport.sandbox.EmulatorHarness` subclass
    #: (its hooks are documented in :mod:`convoport.sandbox`), or None.
    emulator: ClassVar[str | None] = None

    #: Whether a listed ``Session`` carries everything ``_get_session`` would (its
    #: ``provider_data`` is the vendor's whole object): a migration then copies it without
    #: fetching it again.
    listed_sessions_complete: ClassVar[bool] = False

    def __init__(self, config: Any, options: ConnectOptions | None = None) -> None:
        self.config = config
        self.options = options or ConnectOptions()
        self.redactor = Redactor(secret_values(config))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def make_http(
        self,
        *,
        base_url: str,
        credentials: dict[str, str] | None = None,
        error_parser: ErrorParser | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> HttpClient:
        """An :class:`HttpClient` wired to the injected transport/client and retry policy."""
        return HttpClient(
            provider=self.name,
            base_url=base_url,
            credentials=credentials,
            client=self.options.client,
            transport=self.options.transport,
            timeout=self.options.timeout or timeout,
            retry=self.options.retry or retry,
            error_parser=error_parser,
            redactor=self.redactor,
        )

    @classmethod
    def _sandbox_options(cls, settings: HarnessSettings | None = None) -> dict[str, Any]:
        """Config options and ``transport`` that connect to a fresh in-process emulator (the
        ``emulator`` harness), seeded with demo data and sized and degraded by ``settings``
        (default: the ``CONVOPORT_SANDBOX`` environment variable)."""
        from convoport.errors import ConfigError
        from convoport.sandbox import EmulatorHarness, HarnessSettings

        if cls.emulator is None:
            raise ConfigError(
                f"{cls.name} has no sandbox emulator", hint="connect without sandbox=True"
            )
        harness_class = load_object(cls.emulator)
        if not (isinstance(harness_class, type) and issubclass(harness_class, EmulatorHarness)):
            raise ConfigError(
                f"{cls.name}'s emulator {cls.emulator} is not an EmulatorHarness",
                hint="subclass convoport.sandbox.EmulatorHarness in the emulator module",
            )
        harness = harness_class.from_settings(settings or HarnessSettings.from_env())
        return {**harness.connect_options(), "transport": harness.transport()}

    async def aclose(self) -> None:
        """Releases connections."""

    async def _session_extras(self, session: Session) -> dict[str, Any]:
        """Vendor-only data of ``session`` that a migration archives raw beside it (a JSON
        object: extension name -> the vendor's payload, e.g. Syllable's latency, timeline and
        labels). Default: none. A ``NotFound`` for one part should leave that part out (and
        may name it under ``"missing"``); other errors fail the session's copy, to be retried."""
        return {}

    async def _session_for(self, session_id: str) -> Session:
        """The session artifact primitives receive when the caller gave only an id: the one
        ``_get_session`` returns when ``catalog.get`` is declared, else a reference-only
        session (``PENDING``, no ``provider_data``). An adapter whose primitives need only the
        id may override this to skip the read."""
        if Capability.CATALOG_GET in self.capabilities.ports:
            return await self._get_session(session_id)
        return Session(provider=self.name, id=session_id, status=SessionStatus.PENDING)

    # -- primitives (override what the capabilities declare) --------------------------------

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Cursor | None, page_size: int
    ) -> Page[Session]:
        raise NotImplementedError

    async def _get_session(self, session_id: str) -> Session:
        raise NotImplementedError

    async def _delete_session(self, session_id: str) -> None:
        raise NotImplementedError

    async def _list_recordings(self, session: Session) -> list[Recording]:
        raise NotImplementedError

    def _open_recording(
        self, session: Session, recording: Recording
    ) -> AbstractAsyncContextManager[RecordingStream]:
        raise NotImplementedError

    async def _get_transcript(self, session: Session) -> Transcript:
        raise NotImplementedError

    async def _get_summary(self, session: Session) -> Summary:
        raise NotImplementedError

    async def _list_participants(self, session: Session) -> list[Participant]:
        raise NotImplementedError

    async def _list_chat(self, session: Session) -> list[ChatMessage]:
        raise NotImplementedError

    async def _start_live(self, options: LiveOptions) -> LiveSessionBase:
        raise NotImplementedError

    async def _analyze(self, media: MediaSource, options: LiveOptions) -> IngestResult:
        raise NotImplementedError

    @classmethod
    def implemented(cls, capability: Capability) -> bool:
        """Whether the class overrides every primitive the capability needs."""
        for primitive in PRIMITIVES[capability]:
            mine: Callable[..., Any] | None = getattr(cls, primitive, None)
            base: Callable[..., Any] | None = getattr(Adapter, primitive, None)
            if mine is None or mine is base or getattr(mine, "__isabstractmethod__", False):
                return False
        return True


__all__ = ["PRIMITIVES", "Adapter", "ConnectOptions", "RecordingStream", "load_object"]
