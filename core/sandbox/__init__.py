"""``convoport.sandbox``: the runtime emulator harness.

An *emulator* speaks one vendor's documented API from seeded state, in-process (behind
``convoport.connect(..., sandbox=True)``, the contract kit's emulator mode and the tests) or
over a real socket (``convoport emulate NAME``). This package is what every emulator is built
from. It is runtime code: it never imports pytest or :mod:`convoport.contracts`.

Writing an emulator
===================

Subclass :class:`EmulatorHarness` in the adapter's ``emulator.py`` and point the adapter's
``emulator`` class attribute at it (``"package.emulator:MyEmulator"``)::

    class MurmurEmulator(EmulatorHarness):
        provider = "murmur"
        base_url = "https://api.murmur.example"
        sandbox_key = "sandbox-token"
        credential_option = "api_token"
        credential_header = "authorization"
        credential_scheme = "Bearer"
        default_sessions = 7

        def routes(self):
            return [Route("/v1/calls", self._list), ...]

        async def _list(self, request):
            if (denied := self.check_auth(request)) is not None:
                return denied
            ...

        def error_body(self, status, message, *, path="", **extra):
            return {"error": {"type": "invalid", "message": message}}

The hooks
=========

======================================  ==========================================================
hook                                    what it is
======================================  ==========================================================
``sandbox_key``                         the placeholder credential the emulator accepts (the
                                        class attribute; ``api_key=`` overrides it per instance);
                                        ``credential_option`` names the config option carrying it
``connect_options()``                   the config options that reach the emulator: the
                                        credential and ``base_url``
``bad_credentials()``                   options with a credential it rejects with 401 (the kit's
                                        ``auth_failure`` scenario)
``clock`` / ``now()``                   a :class:`SandboxClock`; ``now()`` is the emulator's time
                                        (aware UTC). A test freezes it (``SandboxClock(start=…)``,
                                        ``clock.freeze(at, step=…)``) and steps it
                                        (``clock.advance(seconds)``)
``check_auth(request)``                 the auth check every route calls first: None, or the
                                        vendor's 401 to return (``presented_credential`` and
                                        ``auth_failure_message`` refine it)
``error_body(status, message, ...)``    the vendor's error envelope (a JSON value), used by the
                                        routes through ``error_response(...)`` and by injected
                                        faults (with ``fault_message(status)``) alike
``transport()``                         an in-process ``httpx`` transport on :attr:`app`
``scenario_args(scenario)``             the arguments of a kit scenario from the seeded data, or
                                        None (the kit's emulator mode then skips it)
``routes()``                            the Starlette routes; ``not_found(request)`` and
                                        ``method_not_allowed(request)`` answer the rest;
                                        ``wrap(app)`` adds middleware (faults by default)
``offset_link_page(...)``               pagination, offset/limit with absolute ``first``/
                                        ``current``/``next`` links (Gladia)
``page_number_page(...)``               pagination, 0-based page numbers with optional
                                        ``total_pages``/``total_count`` (Syllable)
``offset_total_page(...)``              pagination, ``page_no``/``per_page`` with ``paging
                                        {total_count, start_offset, end_offset}`` (RealtimeKit)
``settings`` / ``from_settings(s)``     a :class:`HarnessSettings`: ``sessions`` (seeded count,
                                        ``session_count``), ``seed``, ``latency_ms``,
                                        ``error_rate``, ``drop_rate``, ``rate_limit``,
                                        ``retry_after``
``faults``                              the :class:`Faults` applied by :class:`FaultMiddleware`
======================================  ==========================================================

Settings come from code (``HarnessSettings(sessions=200)``), from a string
(``HarnessSettings.parse("sessions=200,latency_ms=20,error_rate=0.05")``) or from the
``CONVOPORT_SANDBOX`` environment variable (``HarnessSettings.from_env()``, what
``connect(..., sandbox=True)`` reads; ``connect(..., sandbox=HarnessSettings(...))`` passes
them directly). A bad key or value is a ``ConfigError`` naming it.

Building blocks
===============

* transport — :class:`InProcessTransport` / :func:`emulator_transport`: HTTP with streamed
  request and response bodies (an SSE stream stays open while other requests go on), and
  WebSockets through httpx-ws; :func:`is_websocket_request`;
* faults — :class:`Faults` (latency, 5xx, 429 with ``Retry-After``, dropped responses, dropped
  WebSockets), :class:`FaultMiddleware`, :class:`DroppedConnection`, :func:`send_json`;
  over a real socket :class:`SocketDrops` turns a dropped response into a connection closed
  mid-answer (:func:`quiet_dropped_connections` keeps those out of the server log);
* audio — :func:`tone_pcm` and :func:`make_wav` generate real PCM/WAV; :func:`wav_info` and
  :class:`PcmFeed` read WAV with convoport's one WAV reader; :func:`channel_bytes`,
  :func:`seconds_of` and :func:`voiced_span` cut audio up;
* words — :class:`SpeechScript`: the one audio-to-words rule every emulator uses (the words it
  "hears" are a hash of the audio, so recordings replay exactly);
* pagination — :func:`offset_link_page`, :func:`page_number_page`, :func:`offset_total_page`
  and their page types.
"""

from convoport.sandbox._audio import (
    DEFAULT_FORMAT,
    PcmFeed,
    SpeechScript,
    WavFormat,
    channel_bytes,
    make_wav,
    seconds_of,
    tone_pcm,
    voiced_span,
    wav_info,
)
from convoport.sandbox._clock import SandboxClock
from convoport.sandbox._faults import (
    DroppedConnection,
    ErrorBody,
    FaultMiddleware,
    Faults,
    SocketDrops,
    quiet_dropped_connections,
    send_json,
)
from convoport.sandbox._harness import EmulatorHarness
from convoport.sandbox._paging import (
    CountedPage,
    LinkPage,
    NumberedPage,
    offset_link_page,
    offset_total_page,
    page_number_page,
)
from convoport.sandbox._settings import SANDBOX_ENV, HarnessSettings
from convoport.sandbox._transport import (
    InProcessTransport,
    emulator_transport,
    is_websocket_request,
)

__all__ = [
    "DEFAULT_FORMAT",
    "SANDBOX_ENV",
    "CountedPage",
    "DroppedConnection",
    "EmulatorHarness",
    "ErrorBody",
    "FaultMiddleware",
    "Faults",
    "HarnessSettings",
    "InProcessTransport",
    "LinkPage",
    "NumberedPage",
    "PcmFeed",
    "SandboxClock",
    "SocketDrops",
    "SpeechScript",
    "WavFormat",
    "channel_bytes",
    "emulator_transport",
    "is_websocket_request",
    "make_wav",
    "offset_link_page",
    "offset_total_page",
    "page_number_page",
    "quiet_dropped_connections",
    "seconds_of",
    "send_json",
    "tone_pcm",
    "voiced_span",
    "wav_info",
]
