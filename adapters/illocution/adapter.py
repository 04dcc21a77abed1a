"""The Illocution adapter: live capture (sequenced chunks + one SSE consumer) and batch analyze.

Illocution has **no read-back API**: no endpoint lists, fetches or deletes conversations, and
none serves recordings or transcripts afterwards (``shared/vendors/illocution.md`` §7). So the
adapter declares only ``live.ingest`` and ``batch.ingest``; catalog, transcript, summary and
recording operations raise ``UnsupportedOperation`` before any I/O, and the contract kit skips
their scenarios with the capability as the reason. What a live session returns is everything
its event stream delivered — persist it (for example into a ``local`` archive) if you need it
later.

Live capture (``start_live``)
    ``POST /analyze/live/start`` (JSON ``filename``, ``ttl_seconds`` 60..3600 checked before
    sending, ``goal`` and anything else through ``LiveOptions.provider_options``, deep-merged),
    then the event stream is attached before the first chunk, and audio goes up in numbered
    multipart chunks of ``chunk_size`` bytes. The handle is
    :class:`~convoport.adapters.illocution.live.IllocutionLiveSession` (retries, 409 resync,
    keepalive, expiry: see its module).

    ``filename`` is ``LiveOptions.filename``, else derived from ``encoding``: ``pcm``/``wav``/
    ``alaw``/``ulaw`` -> ``live.wav`` (raw PCM gets a streaming WAV header), ``mp3`` ->
    ``live.mp3``, ``opus``/``ogg`` -> ``live.ogg``, ``webm``, ``mp4``, ``m4a``, ``aac`` alike.
    A ``suffix`` in ``provider_options`` replaces the derived filename.

Events
    ``status`` -> ``StatusEvent`` (phase kept as an open string; waiting_media/ingesting/
    processing/completed -> PENDING/ACTIVE/PROCESSING/COMPLETED), ``partial_transcript`` ->
    ``PartialTranscript``, ``final_transcript`` -> ``FinalUtterance`` (seconds),
    ``summary_update`` -> ``SummaryEvent`` (markdown; the last wins), ``error`` -> fatal
    ``ErrorEvent``, ``done`` -> ``DoneEvent``; ``emotion``/``cognitive``/``transition``/
    ``moment`` and unknown events -> ``VendorEvent`` with ``*_ms`` in seconds and ``speaker``
    unified (see :mod:`.translate`).

Result
    ``Session`` (id = the live ``session_id``; COMPLETED on done, CANCELLED after our cancel,
    FAILED on error or a lost stream; ``provider_data``: ``conversation_id``, the start answer,
    the done payload, errors and every vendor event), the ``Transcript`` of the final
    transcripts (each utterance joined with its emotion/cognitive data), the last ``Summary``.
    Illocution gives no timestamps besides ``expires_at``, so ``created_at``/``ended_at`` are
    this machine's clock at the start and the end, listed as such in ``provider_data``
    (``"client_observed": ["created_at", "ended_at"]``): archived captures are then found by
    date filters like every other session.

Batch (``analyze``)
    ``POST /analyze`` multipart with the ``file`` part streamed from the media source (never
    read whole into memory; ``content-length`` sent when the size is known); the
    AnalysisResponse becomes a COMPLETED ``Session`` (id = ``conversation_id``), the timeline
    as the ``Transcript``, the ``Summary``, and the extras in ``provider_data``. Scalar
    ``provider_options`` (``goal``, ``context``) are sent as form fields. Not retried: the body
    is a stream and the POST creates a conversation.

Errors
    FastAPI ``detail`` as string, list (``loc``/``msg``) or object; 404 on the start route ->
    "live capture is not enabled on this deployment (ENABLE_LIVE_STREAMING)"; 409 on the event
    stream -> ``LiveSessionError`` (another consumer); 409 on a chunk -> ``Conflict`` naming the
    expected and sent sequence numbers (or, after a lost answer, moved past); 404/410 on chunk or
    control -> ``LiveSessionError`` (expired).

Configuration: ``api_key`` (``ILLOCUTION_API_KEY``), ``base_url`` (``ILLOCUTION_BASE_URL``,
default ``https://api.illocution.ai``), ``keepalive_margin`` (seconds, default 60,
``ILLOCUTION_KEEPALIVE_MARGIN``), ``result_timeout`` (seconds ``done`` may take after
``finalize``, default 300, ``ILLOCUTION_RESULT_TIMEOUT``), ``chunk_size`` (bytes, default 65536,
``ILLOCUTION_CHUNK_SIZE``; the vendor recommends 32-128 kB).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx

from convoport.adapter import Adapter
from convoport.capabilities import Capabilities, Capability
from convoport.config import setting
from convoport.http import HttpClient
from convoport.live import IngestResult, LiveOptions
from convoport.media import MediaSource
from convoport.multipart import FilePart, MultipartWriter

from . import translate, wire
from .live import IllocutionLiveSession, LiveTuning, wav_header_for

#: Read timeout for ``POST /analyze`` (processing time grows with the media's length).
ANALYZE_TIMEOUT = httpx.Timeout(60.0, read=900.0)


#: Content types by file suffix (fixed, so requests do not depend on the host's mime tables).
_MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}


def _positive_float(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"keepalive_margin must be a number of seconds >= 0, got {value!r}")
    return number


def _timeout_seconds(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"result_timeout must be a number of seconds > 0, got {value!r}")
    return number


def _chunk_size(value: Any) -> int:
    number = int(value)
    if not 1024 <= number <= 8 << 20:
        raise ValueError(f"chunk_size must be within 1024..8388608 bytes, got {value!r}")
    return number


@attrs.frozen(kw_only=True)
class IllocutionConfig:
    """Settings of the Illocution adapter (keyword arguments, else environment variables)."""

    api_key: str = setting(env="ILLOCUTION_API_KEY", secret=True, help="an Illocution API key")
    base_url: str = setting(
        default=wire.DEFAULT_BASE_URL,
        env="ILLOCUTION_BASE_URL",
        help="the deployment's base URL",
    )
    keepalive_margin: float = setting(
        default=60.0,
        env="ILLOCUTION_KEEPALIVE_MARGIN",
        converter=_positive_float,
        help="seconds before expires_at at which a silent live session sends keepalive",
    )
    result_timeout: float = setting(
        default=300.0,
        env="ILLOCUTION_RESULT_TIMEOUT",
        converter=_timeout_seconds,
        help="seconds to wait, after finalize, for the live session's done event",
    )
    chunk_size: int = setting(
        default=wire.CHUNK_SIZE_DEFAULT,
        env="ILLOCUTION_CHUNK_SIZE",
        converter=_chunk_size,
        help="bytes per live chunk upload (the vendor recommends 32-128 kB)",
    )


class IllocutionAdapter(Adapter):
    """Illocution live capture and batch analysis (see the module docstring).

    No catalog and no recordings: Illocution has no read-back API.
    """

    name = wire.PROVIDER
    display_name = "Illocution live capture"
    capabilities = Capabilities(ports={Capability.LIVE_INGEST, Capability.BATCH_INGEST})
    config_class = IllocutionConfig
    emulator = "convoport.adapters.illocution.emulator:IllocutionEmulator"

    def __init__(self, config: Any, options: Any = None) -> None:
        super().__init__(config, options)
        self.http: HttpClient = self.make_http(
            base_url=config.base_url,
            credentials={wire.KEY_HEADER: config.api_key},
            error_parser=translate.error_info_from_wire,
        )
        #: Clock (monotonic seconds), sleep and keepalive poll interval of live sessions;
        #: tests replace them.
        self.clock = time.monotonic
        self.sleep = asyncio.sleep
        self.keepalive_poll = 1.0

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- live -------------------------------------------------------------------------------

    def _tuning(self) -> LiveTuning:
        return LiveTuning(
            chunk_size=self.config.chunk_size,
            keepalive_margin=self.config.keepalive_margin,
            keepalive_poll=self.keepalive_poll,
            retry=self.http.retry,
            clock=self.clock,
            sleep=self.sleep,
            result_timeout=self.config.result_timeout,
        )

    async def _start_live(self, options: LiveOptions) -> IllocutionLiveSession:
        ttl = translate.ttl_to_wire(options)
        data = await self.http.json(
            "POST", wire.START_PATH, json=translate.live_start_to_wire(options, ttl), retry=False
        )
        start = translate.live_start_from_wire(data)
        handle = IllocutionLiveSession(
            http=self.http, start=start, options=options, ttl=ttl, tuning=self._tuning()
        )
        try:
            await handle.attach()
        except BaseException:
            await handle._close()
            raise
        return handle

    # -- batch ------------------------------------------------------------------------------

    async def _analyze(self, media: MediaSource, options: LiveOptions) -> IngestResult:
        filename = options.filename or media.filename or "audio" + _suffix(options.encoding)
        suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
        content_type = media.media_type or _MEDIA_TYPES.get(suffix, "application/octet-stream")
        fields = {
            str(k): str(v)
            for k, v in options.provider_options.items()
            if isinstance(v, (str, int, float)) and not isinstance(v, bool)
        }
        chunks = media.chunks()
        first = await anext(chunks, b"")
        prefix = b""
        if first and not first.startswith(b"RIFF"):
            prefix = wav_header_for(options, data_size=media.size) or b""
        body = MultipartWriter.from_fields(
            fields,
            [
                FilePart(
                    name="file",
                    filename=filename,
                    content_type=content_type,
                    content=_prepend(prefix + first, chunks),
                    size=None if media.size is None else media.size + len(prefix),
                )
            ],
        )
        headers = body.headers()
        content: Any = body.stream()  # an async iterator: httpx streams it (never bytes)
        response = await self.http.request(
            "POST",
            wire.ANALYZE_PATH,
            content=content,
            headers=headers,
            retry=False,
            timeout=ANALYZE_TIMEOUT,
        )
        return translate.analysis_from_wire(
            self.http.parse_json(response), bytes_sent=body.sent - len(prefix)
        )


def _suffix(encoding: str) -> str:
    name = wire.FILENAMES.get(encoding.lower(), "live.mp4")
    return name[name.rindex(".") :]


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``first``, then the chunks of ``rest`` as they are read."""
    if first:
        yield first
    async for chunk in rest:
        yield chunk


__all__ = ["IllocutionAdapter", "IllocutionConfig"]
