"""Illocution's event stream as neutral events: the generic SSE glue is
:mod:`convoport.sse` (framing, empty-data events skipped, default name ``message``, JSON
parsing with depth and integer-size limits, one bad event -> a non-fatal ``ErrorEvent`` with
code ``malformed_event``); this module only passes Illocution's translation
(:func:`translate.event`) to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from httpx_sse import ServerSentEvent

from convoport import sse as core_sse
from convoport.adapters.illocution import translate
from convoport.live import LiveEvent

PROVIDER = "illocution"

#: The dispatched events of an SSE response (empty-data events skipped, per the spec).
server_sent_events = core_sse.server_sent_events


def _translator(session_id: str) -> core_sse.Translate:
    def translate_one(name: str, data: object) -> LiveEvent:
        return translate.event(name, data, session_id=session_id)

    return translate_one


def to_neutral(sse: ServerSentEvent, *, session_id: str) -> LiveEvent:
    """One dispatched SSE event as a neutral event (never raises for vendor data)."""
    return core_sse.to_event(sse, _translator(session_id), provider=PROVIDER)


async def neutral_events(response: httpx.Response, *, session_id: str) -> AsyncIterator[LiveEvent]:
    """The neutral events of an SSE response, in arrival order."""
    async for event in core_sse.live_events(response, _translator(session_id), provider=PROVIDER):
        yield event


__all__ = ["neutral_events", "server_sent_events", "to_neutral"]
