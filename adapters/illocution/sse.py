"""SSE glue over httpx-sse: Illocution's event stream as neutral events.

httpx-sse does the framing (lines split on CR/LF/CRLF across network reads, ``data:`` lines
joined with ``\\n``, comment lines starting with ``:`` ignored). On top of it:

* an event with no data is not dispatched (the SSE spec); an event without ``event:`` is
  named ``message``;
* the data is parsed as JSON and translated (:func:`translate.event`); data that is not JSON,
  or a payload the translator cannot read, becomes a non-fatal ``ErrorEvent`` with code
  ``malformed_event`` carrying the raw text, so one bad event never ends a session.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from httpx_sse import EventSource, ServerSentEvent

from convoport.adapters.illocution import translate
from convoport.errors import ConvoportError
from convoport.live import ErrorEvent, LiveEvent

logger = logging.getLogger("convoport.adapters.illocution")


async def server_sent_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """The dispatched events of an SSE response (empty-data events skipped, per the spec)."""
    source = EventSource(response)
    async for sse in source.aiter_sse():
        if sse.data == "":
            continue
        yield sse


def to_neutral(sse: ServerSentEvent, *, session_id: str) -> LiveEvent:
    """One dispatched SSE event as a neutral event (never raises for vendor data)."""
    name = sse.event or "message"
    try:
        data = translate.parse_data(sse.data)
        return translate.event(name, data, session_id=session_id)
    except (ValueError, TypeError, ConvoportError) as exc:
        logger.warning("illocution: unreadable %s event: %s", name, exc)
        return ErrorEvent(
            message=f"unreadable {name} event: {exc}",
            code="malformed_event",
            fatal=False,
            provider_data={"event": name, "data": sse.data},
        )


async def neutral_events(response: httpx.Response, *, session_id: str) -> AsyncIterator[LiveEvent]:
    """The neutral events of an SSE response, in arrival order."""
    async for sse in server_sent_events(response):
        yield to_neutral(sse, session_id=session_id)


__all__ = ["neutral_events", "server_sent_events", "to_neutral"]
