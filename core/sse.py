"""Server-sent events (``text/event-stream``) as neutral live events, for any adapter.

httpx-sse does the framing (lines split on CR, LF or CRLF across network reads, ``data:``
lines joined with ``\\n``, comment lines starting with ``:`` ignored). On top of it:

* an event with no data is not dispatched (the SSE spec); an event without ``event:`` is
  named ``message``;
* the data is parsed as JSON (:func:`parse_event_data`: blank data is ``{}``; nesting deeper
  than ``max_depth`` and integers longer than ``MAX_INT_DIGITS`` digits are refused) and
  handed to the adapter's :data:`Translate` callable with the event name;
* data that is not JSON, too deep or too large, or a payload the translator cannot read
  (``ValueError``, ``TypeError``, ``LookupError``, ``OverflowError``, ``RecursionError`` or a
  ``ConvoportError``), becomes a non-fatal :class:`~convoport.live.ErrorEvent` with code
  ``malformed_event`` carrying the event name and the raw text (at most
  ``MAX_RAW_CHARS`` characters of it), so one bad event never ends a session.

An adapter writes only its translation::

    async for event in sse.live_events(response, my_translate, provider="acme"):
        ...
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import httpx
from httpx_sse import EventSource, ServerSentEvent

from convoport.errors import ConvoportError
from convoport.live import ErrorEvent, LiveEvent
from convoport.parsing import MAX_INT_DIGITS as _MAX_INT_DIGITS
from convoport.parsing import loads_json

logger = logging.getLogger("convoport.sse")

#: How deep the JSON of one event may nest (arrays and objects), by default.
MAX_DEPTH: Final = 64
#: The longest integer literal accepted in event data, in digits.
MAX_INT_DIGITS: Final = _MAX_INT_DIGITS
#: How much of a malformed event's raw data its ``ErrorEvent`` keeps, in characters.
MAX_RAW_CHARS: Final = 64 * 1024

#: An adapter's translation: ``(event name, parsed JSON data) -> neutral event``. It may raise
#: ``ValueError``/``TypeError``/``LookupError``/``ConvoportError`` for a payload it cannot read.
Translate = Callable[[str, Any], LiveEvent]

_UNREADABLE = (
    ValueError,
    TypeError,
    LookupError,
    OverflowError,
    RecursionError,
    ConvoportError,
)


async def server_sent_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """The dispatched events of a streamed SSE response (empty-data events skipped)."""
    source = EventSource(response)
    async for sse in source.aiter_sse():
        if sse.data == "":
            continue
        yield sse


def parse_event_data(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """An SSE ``data`` field (already joined across lines) as JSON; blank data is ``{}``.

    Raises ``ValueError`` when it is not JSON, nests deeper than ``max_depth``, or holds an
    integer longer than :data:`MAX_INT_DIGITS` digits (never ``RecursionError``): the rules
    of :func:`convoport.parsing.loads_json`.
    """
    if not text.strip():
        return {}
    return loads_json(text, max_depth=max_depth, max_int_digits=MAX_INT_DIGITS)


def to_event(
    sse: ServerSentEvent,
    translate: Translate,
    *,
    provider: str,
    max_depth: int = MAX_DEPTH,
) -> LiveEvent:
    """One dispatched SSE event as a neutral event. Never raises for vendor data: what cannot
    be read is a non-fatal ``ErrorEvent(code="malformed_event")``."""
    name = sse.event or "message"
    try:
        data = parse_event_data(sse.data, max_depth=max_depth)
        return translate(name, data)
    except _UNREADABLE as exc:
        reason = f"{type(exc).__name__}" if isinstance(exc, RecursionError) else str(exc)
        reason = reason[:300]
        logger.warning("%s: unreadable %s event: %s", provider, name, reason)
        raw = sse.data if len(sse.data) <= MAX_RAW_CHARS else sse.data[:MAX_RAW_CHARS] + "…"
        return ErrorEvent(
            message=f"unreadable {name} event: {reason}",
            code="malformed_event",
            fatal=False,
            provider_data={"event": name, "data": raw},
        )


async def live_events(
    response: httpx.Response,
    translate: Translate,
    *,
    provider: str,
    max_depth: int = MAX_DEPTH,
) -> AsyncIterator[LiveEvent]:
    """The neutral events of a streamed SSE response, in arrival order."""
    async for sse in server_sent_events(response):
        yield to_event(sse, translate, provider=provider, max_depth=max_depth)


__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_RAW_CHARS",
    "Translate",
    "live_events",
    "parse_event_data",
    "server_sent_events",
    "to_event",
]
