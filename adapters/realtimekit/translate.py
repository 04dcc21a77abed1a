"""RealtimeKit payloads <-> the neutral model. Pure functions: no I/O, no state.

Every reader goes through :class:`convoport.Payload` (JSON) or
:class:`convoport.csvreader.CsvRow` (the downloaded CSV files), so a surprise is a
``MalformedResponse`` naming the JSON path or the file, row and column. Choices made here:

* **envelope**: a success is ``{success, data[, paging]}``; a 2xx whose ``success`` is
  ``false`` is refused (``MalformedResponse``) rather than read (:func:`data_from_wire`).
* **status**: :data:`~convoport.adapters.realtimekit.wire.STATUS_TABLE` (``LIVE`` -> ACTIVE,
  ``ENDED`` -> COMPLETED); any other word, or none, maps to PROCESSING (not finished: a
  migration leaves it for a later run) and ``provider_status`` keeps the word.
* **session**: ``meeting_display_name`` -> ``title``; ``metadata`` holds ``meeting_id``
  (``associated_id``) and ``session_type`` (``type`` through
  :data:`~convoport.adapters.realtimekit.wire.SESSION_TYPES`, unknown words -> ``"other"``);
  ``duration`` is ``ended_at - started_at`` in seconds (``minutes_consumed`` counts
  participant-minutes, not the session's length); the whole payload (``breakout_rooms``,
  ``meta`` …) is ``provider_data``. Only ``id`` is required: every other field is optional, as
  the SDK types them. The details answer may wrap the session in ``data.session`` (the legacy
  shape): both are read.
* **times**: ISO 8601 (``T`` or a space, any fraction, ``Z`` or an offset); a time without a
  timezone is read as UTC (RealtimeKit documents UTC throughout). Link expiries are read
  leniently: one that cannot be read is ignored (the storage host's 403 still triggers a
  refresh).
* **participants**: one ``Participant`` per join (``id`` is the join's peer id, ``user_id``
  the person's stable id: a re-join is a second participant with the same ``user_id``);
  ``role`` is the preset name; ``duration`` is RealtimeKit's minutes times 60.
* **transcript rows**: the current layout (headerless, start in milliseconds from the
  session's start) and the legacy one (a header, ISO 8601 timestamps) are told apart by the
  adapter and read by one function: a first column of digits is an offset in milliseconds
  (``start``; epoch milliseconds when at least 10**12: ``timestamp``), anything else an ISO
  timestamp (``timestamp``). Rows have no end time (``end`` None). The **speaker** is the
  display name of the participant whose id is the row's peer id, and ``provider_data`` keeps
  ``participant_id``; a peer id that matches no participant leaves ``speaker`` None — the name
  written in the row is kept in ``provider_data["participant_name"]`` and never used as the
  speaker. A row with no text is dropped. The JSON layout (``startTime``/``endTime`` in
  milliseconds, ``sentence``, ``peerData``) follows the same rules.
* **chat**: columns by header name; ``payloadType`` through
  :data:`~convoport.adapters.realtimekit.wire.CHAT_KINDS`; ``createdAt`` ISO 8601 or epoch
  milliseconds; messages sorted by ``sent_at`` (stable; the file's order when a time is
  missing).
* **recordings**: only those whose ``session_id`` is the session's (the listing is by meeting);
  an ``ERRORED`` recording (its file will never exist) is left out; ``download_url`` may be
  null (``url`` None: not uploaded yet, or not kept) or, for track recordings, a list of
  layers: one ``Recording`` per file, id ``"<recording id>:<layer>:<file>"``. ``file_size``
  0 is read as unknown. The media type comes from the file name's extension.
* **summary**: the downloaded text, ``format="markdown"`` (RealtimeKit's default
  ``text_format``; plain text reads as markdown too).
* **provider_data** of a transcript or summary is the link payload without the link itself
  (an expiring credential has no use in an archive).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from convoport.csvreader import CsvRow
from convoport.errors import MalformedResponse, parse_retry_after
from convoport.http import ErrorInfo
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
)
from convoport.pagination import next_page_number
from convoport.parsing import Payload, malformed, parse_timestamp

from . import wire

P = wire.PROVIDER

#: What the download-link endpoints answer: kind -> (url key, expiry key).
LINK_KEYS: dict[str, tuple[str, str]] = {
    "chat": ("chat_download_url", "chat_download_url_expiry"),
    "transcript": ("transcript_download_url", "transcript_download_url_expiry"),
    "summary": ("summaryDownloadUrl", "summaryDownloadUrlExpiry"),
}
TOKEN_HINT = (
    "check CLOUDFLARE_API_TOKEN: an API token with the Realtime or Realtime Admin permission"
)
ROUTE_HINT = "check CLOUDFLARE_ACCOUNT_ID and REALTIMEKIT_APP_ID"
_DIGITS = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")

# -- small readers ------------------------------------------------------------------------


def status_from_wire(value: str | None) -> SessionStatus:
    """RealtimeKit session status -> neutral status (unknown or missing -> PROCESSING)."""
    if value is None:
        return wire.STATUS_FALLBACK
    return wire.STATUS_TABLE.get(value, wire.STATUS_FALLBACK)


def session_type(value: str | None) -> str | None:
    """A session ``type`` through the table (unknown -> ``"other"``; missing -> None)."""
    if value is None:
        return None
    return wire.SESSION_TYPES.get(value, wire.SESSION_TYPE_FALLBACK)


def _payload(data: Any, path: str) -> Payload:
    return Payload(P, data, path)


def _time(p: Payload, key: str) -> datetime | None:
    return p.opt_timestamp(key, naive_is_utc=True)


def expiry(value: Any) -> datetime | None:
    """A link expiry (ISO 8601, with or without ``T``/zone; or epoch seconds/milliseconds),
    or None when absent or unreadable."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        number = float(value)
        seconds = number / 1000 if number >= wire.EPOCH_MS_THRESHOLD else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return parse_timestamp(value, provider=P, field="expiry", naive_is_utc=True)
    except MalformedResponse:
        return None


def format_timestamp(value: datetime) -> str:
    """RealtimeKit's date-time form: UTC, milliseconds, ``Z`` (``2026-09-01T09:00:00.000Z``)."""
    utc = value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def data_from_wire(body: Any, *, path: str = "$") -> Payload:
    """The ``data`` of a success envelope. A body whose ``success`` is ``false`` is refused."""
    p = _payload(body, path)
    if p.raw("success") is False:
        raise MalformedResponse(
            "a successful answer says success: false",
            provider=P,
            hint="the vendor reported an error with a 2xx status; try again, then report it",
        )
    return p.obj("data")


# -- sessions -----------------------------------------------------------------------------


def session_from_wire(data: Any, *, path: str = "$") -> Session:
    """A ``realtimekit_ActiveSession`` (list item, details, breakout room) -> ``Session``."""
    p = _payload(data, path)
    word = p.opt_string("status")
    started = _time(p, "started_at")
    ended = _time(p, "ended_at")
    duration = None
    if started is not None and ended is not None and ended >= started:
        duration = (ended - started).total_seconds()
    metadata: dict[str, Any] = {}
    meeting = p.opt_string("associated_id")
    if meeting is not None:
        metadata["meeting_id"] = meeting
    kind = session_type(p.opt_string("type"))
    if kind is not None:
        metadata["session_type"] = kind
    for room in p.objects("breakout_rooms"):
        room.string("id")  # each breakout room must at least name itself
    return Session(
        provider=P,
        id=p.ident("id"),
        status=status_from_wire(word),
        provider_status=word,
        created_at=_time(p, "created_at"),
        started_at=started,
        ended_at=ended,
        duration=duration,
        title=p.opt_string("meeting_display_name"),
        language=None,
        metadata=metadata,
        provider_data=dict(p.data),
    )


def session_details_from_wire(body: Any) -> Session:
    """``GET /sessions/{id}`` -> ``Session``, in the current shape (``data`` is the session) or
    the legacy one (``data.session``, with ``meta`` beside it: kept in ``provider_data``)."""
    data = data_from_wire(body)
    nested = data.opt_obj("session")
    if nested is not None and not data.has("id"):
        raw = dict(nested.data)
        extra = {k: v for k, v in data.data.items() if k != "session"}
        if extra:
            raw.setdefault("legacy", extra)
        return session_from_wire(raw, path=nested.path)
    return session_from_wire(data.data, path=data.path)


def paging_from_wire(value: Any, *, path: str) -> dict[str, float] | None:
    """A ``paging`` object (``None`` when absent); its fields must be numbers when present."""
    if value is None:
        return None
    p = _payload(value, path)
    out: dict[str, float] = {}
    for key in ("total_count", "start_offset", "end_offset"):
        number = p.opt_number(key)
        if number is not None:
            out[key] = number
    return out


def sessions_page_from_wire(body: Any) -> tuple[list[Session], dict[str, float] | None]:
    """``GET /sessions`` -> (sessions, ``paging``: a sibling of ``data``)."""
    data = data_from_wire(body)
    sessions = [session_from_wire(s.data, path=s.path) for s in data.objects("sessions")]
    return sessions, paging_from_wire(_payload(body, "$").raw("paging"), path="$.paging")


def next_page(
    page_no: int, count: int, per_page: int, paging: Mapping[str, float] | None
) -> int | None:
    """The next ``page_no``, or None when this page was the last: an empty or short page (the
    fallback when ``paging`` is missing), ``end_offset >= total_count``, or every counted item
    covered. Pages are numbered from 1."""
    total = paging.get("total_count") if paging else None
    end = paging.get("end_offset") if paging else None
    if total is not None and end is not None and count and end >= total:
        return None
    return next_page_number(
        page_no,
        count,
        per_page,
        total_count=int(total) if total is not None else None,
        first_page=1,
    )


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    return start, start + timedelta(days=1)


def list_params(
    query: SessionQuery, *, page_no: int, per_page: int, newest_first: bool = True
) -> list[tuple[str, str]] | None:
    """The ``GET /sessions`` query for a neutral query, or None when nothing can match (only
    statuses RealtimeKit has no word for). ``created_after``/``created_on`` become
    ``start_time`` (inclusive), ``created_before``/``created_on`` ``end_time`` (exclusive):
    the tighter bound wins when both are given; ``search`` is RealtimeKit's search (meeting
    title, meeting id, session id). Sorted by ``createdAt``, newest first unless asked."""
    params: list[tuple[str, str]] = [
        ("page_no", str(page_no)),
        ("per_page", str(per_page)),
        ("sort_by", "createdAt"),
        ("sort_order", "DESC" if newest_first else "ASC"),
    ]
    if query.statuses is not None:
        words = sorted(w for s, w in wire.STATUS_FILTER.items() if s in query.statuses)
        if not words:
            return None
        if len(words) == 1:
            params.append(("status", words[0]))
    start = query.created_after
    end = query.created_before
    if query.created_on is not None:
        day_start, day_end = _day_bounds(query.created_on)
        start = day_start if start is None else max(start, day_start)
        end = day_end if end is None else min(end, day_end)
    if start is not None:
        params.append(("start_time", format_timestamp(start)))
    if end is not None:
        params.append(("end_time", format_timestamp(end)))
    if query.search is not None:
        params.append(("search", query.search))
    return params


# -- participants -------------------------------------------------------------------------


def participant_from_wire(session_id: str, data: Any, *, path: str = "$") -> Participant:
    """A ``SessionParticipant`` (or a peer report's participant) -> ``Participant``."""
    p = _payload(data, path)
    minutes = p.opt_number("duration")
    if minutes is not None and minutes < 0:
        raise malformed(P, f"{p.path}.duration", f"is negative: {minutes!r}")
    joined = _time(p, "joined_at")
    left = _time(p, "left_at")
    if joined is not None and left is not None and left < joined:
        raise malformed(P, f"{p.path}.left_at", "is before joined_at")
    return Participant(
        id=p.ident("id"),
        session_id=session_id,
        user_id=p.opt_string("user_id"),
        display_name=p.opt_string("display_name"),
        role=p.opt_string("preset_name") or p.opt_string("role"),
        joined_at=joined,
        left_at=left,
        duration=None if minutes is None else minutes * 60,
        provider_data=dict(p.data),
    )


def participants_page_from_wire(
    session_id: str, body: Any
) -> tuple[list[Participant], dict[str, float] | None]:
    """``GET /sessions/{id}/participants`` -> (participants, ``paging``: inside ``data`` in the
    official example, a sibling of it elsewhere; None when absent)."""
    data = data_from_wire(body)
    people = [
        participant_from_wire(session_id, x.data, path=x.path) for x in data.objects("participants")
    ]
    paging = paging_from_wire(data.raw("paging"), path=f"{data.path}.paging")
    if paging is None:
        paging = paging_from_wire(_payload(body, "$").raw("paging"), path="$.paging")
    return people, paging


def participant_details_from_wire(session_id: str, body: Any) -> Participant:
    """``GET /sessions/{id}/participants/{participant_id}`` -> ``Participant``."""
    participant = data_from_wire(body).obj("participant")
    return participant_from_wire(session_id, participant.data, path=participant.path)


def peer_report_from_wire(body: Any) -> dict[str, Any]:
    """``GET /sessions/peer-report/{peer_id}`` -> the participant object, raw."""
    return dict(data_from_wire(body).obj("participant").data)


# -- download links -----------------------------------------------------------------------


def _absolute(url: str, where: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise malformed(P, where, "is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise malformed(P, where, "is not an absolute http(s) URL")
    return url


def link_from_wire(body: Any, kind: str) -> tuple[str, datetime | None, dict[str, Any]]:
    """A chat/transcript/summary link answer -> (url, expiry, the payload without the url)."""
    url_key, expiry_key = LINK_KEYS[kind]
    data = data_from_wire(body)
    url = _absolute(data.string(url_key), f"{data.path}.{url_key}")
    rest = {k: v for k, v in data.data.items() if k != url_key}
    return url, expiry(data.raw(expiry_key)), rest


def generate_summary_from_wire(body: Any) -> dict[str, Any]:
    """``POST .../summary`` -> its ``data`` (``{session_id, status}``; Dyte's older
    ``{success, message}`` is accepted too)."""
    return dict(data_from_wire(body).data)


# -- transcripts ----------------------------------------------------------------------------


def speaker_from_wire(
    peer_id: str | None, participants: Mapping[str, Participant]
) -> tuple[str | None, Participant | None]:
    """The speaker label for a peer id: the participant's display name (else its user id,
    else its id), or None for an id no participant has (never guessed)."""
    if peer_id is None:
        return None, None
    found = participants.get(peer_id)
    if found is None:
        return None, None
    return found.display_name or found.user_id or found.id, found


_LEGACY = {k.lower(): v for k, v in wire.LEGACY_TRANSCRIPT_HEADER.items()}
#: The current layout's columns, named as they are read.
CURRENT_NAMES: dict[str, str] = {name: name for name in wire.TRANSCRIPT_COLUMNS}


def legacy_names(header: Sequence[str]) -> dict[str, str]:
    """The columns of a legacy transcript header (``Timestamp, Participant ID, …``, matched
    case-insensitively): the current layout's column name -> the header's own name (so errors
    name the column as the file does). Unknown columns are ignored."""
    names: dict[str, str] = {}
    for cell in header:
        logical = _LEGACY.get(cell.strip().lower())
        if logical is not None:
            names.setdefault(logical, cell)
    return names


def _start_cell(row: CsvRow, column: str) -> tuple[float | None, datetime | None]:
    value = row.string(column).strip()
    if _DIGITS.match(value):
        number = int(value)
        if number >= wire.EPOCH_MS_THRESHOLD:
            try:
                return None, datetime.fromtimestamp(number / 1000, UTC)
            except (OverflowError, OSError, ValueError):
                raise row.error(column, f"is not a time: {value[:40]!r}") from None
        return number / 1000, None
    if _NUMBER.match(value):
        return row.seconds(column, unit="ms"), None
    return None, row.timestamp(column, naive_is_utc=True)


def utterance_from_wire(
    row: CsvRow,
    participants: Mapping[str, Participant],
    names: Mapping[str, str] = CURRENT_NAMES,
) -> Utterance | None:
    """One transcript CSV row -> ``Utterance``, or None for a row without text. ``names`` maps
    the current layout's column names (:data:`wire.TRANSCRIPT_COLUMNS`) to the file's
    (:func:`legacy_names` for the legacy layout)."""

    def cell(column: str) -> str | None:
        actual = names.get(column)
        return None if actual is None else row.opt_string(actual)

    text = (cell("text") or "").strip()
    if not text:
        return None
    start, timestamp = _start_cell(row, names.get("start_ms", "start_ms"))
    peer = cell("peer_id")
    speaker, participant = speaker_from_wire(peer, participants)
    extra: dict[str, Any] = {
        "peer_id": peer,
        "participant_id": participant.id if participant is not None else None,
        "user_id": cell("user_id"),
        "custom_participant_id": cell("custom_participant_id"),
        "participant_name": cell("participant_name"),
        "row": row.row_number,
    }
    return Utterance(
        text=text,
        start=start,
        end=None,
        speaker=speaker,
        timestamp=timestamp,
        provider_data={k: v for k, v in extra.items() if v is not None},
    )


def json_utterance_from_wire(
    data: Any, participants: Mapping[str, Participant], *, path: str
) -> Utterance | None:
    """One item of the JSON transcript (``startTime``/``endTime`` ms, ``sentence``,
    ``peerData``) -> ``Utterance`` (None without text)."""
    p = _payload(data, path)
    text = (p.opt_string("sentence") or "").strip()
    if not text:
        return None
    start = p.opt_number("startTime")
    end = p.opt_number("endTime")
    for key, value in (("startTime", start), ("endTime", end)):
        if value is not None and value < 0:
            raise malformed(P, f"{p.path}.{key}", "is negative")
    peer_data = p.opt_obj("peerData")
    peer = peer_data.opt_string("id") if peer_data is not None else None
    speaker, participant = speaker_from_wire(peer, participants)
    extra: dict[str, Any] = {
        "peer_id": peer,
        "participant_id": participant.id if participant is not None else None,
        "peer_data": dict(peer_data.data) if peer_data is not None else None,
    }
    return Utterance(
        text=text,
        start=None if start is None else start / 1000,
        end=None if end is None or (start is not None and end < start) else end / 1000,
        speaker=speaker,
        provider_data={k: v for k, v in extra.items() if v is not None},
    )


def json_utterances_from_wire(
    raw: bytes, participants: Mapping[str, Participant], *, label: str
) -> list[Utterance]:
    """The JSON transcript file (an array of items) -> utterances."""
    try:
        items = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedResponse(f"{label}: not a JSON document", provider=P) from None
    if not isinstance(items, list):
        raise MalformedResponse(f"{label}: expected a JSON array of sentences", provider=P)
    found = [
        json_utterance_from_wire(item, participants, path=f"{label}[{i}]")
        for i, item in enumerate(items)
    ]
    return [u for u in found if u is not None]


def _order_key(u: Utterance) -> float:
    if u.start is not None:
        return u.start
    if u.timestamp is not None:
        return u.timestamp.timestamp()
    return float("inf")


def transcript_from_wire(
    session_id: str,
    utterances: Sequence[Utterance],
    *,
    layout: str,
    link: Mapping[str, Any],
) -> Transcript:
    """The utterances of one transcript file -> ``Transcript``, in time order (stable: rows
    with the same time keep the file's order). ``layout`` is ``"csv"``, ``"csv-legacy"`` or
    ``"json"``; ``link`` the link payload without its url."""
    timed = all(u.start is not None or u.timestamp is not None for u in utterances)
    mixed = any(u.start is not None for u in utterances) and any(
        u.start is None for u in utterances
    )
    ordered = sorted(utterances, key=_order_key) if timed and not mixed else list(utterances)
    return Transcript(
        session_id=session_id,
        utterances=ordered,
        language=None,
        engine=P,
        created_at=None,
        provider_data={"layout": layout, **dict(link)},
    )


# -- chat ---------------------------------------------------------------------------------


def chat_kind(value: str | None) -> str:
    """``payloadType`` -> ``ChatMessage.kind`` (see :data:`wire.CHAT_KINDS`)."""
    if not value:
        return "text"
    known = wire.CHAT_KINDS.get(value)
    if known is not None:
        return known
    return value.lower().removesuffix("_message") or "text"


def _sent_at(row: CsvRow) -> datetime | None:
    value = (row.opt_string("createdAt") or "").strip()
    if not value:
        return None
    if _DIGITS.match(value):
        number = int(value)
        seconds = number / 1000 if number >= wire.EPOCH_MS_THRESHOLD else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise row.error("createdAt", f"is not a time: {value[:40]!r}") from None
    return row.timestamp("createdAt", naive_is_utc=True)


def chat_message_from_wire(session_id: str, row: CsvRow) -> ChatMessage:
    """One row of the chat dump -> ``ChatMessage`` (the row, raw, in ``provider_data``)."""
    return ChatMessage(
        id=row.string("id"),
        session_id=session_id,
        text=row.opt_string("payload") or "",
        sent_at=_sent_at(row),
        sender_id=row.opt_string("participantId"),
        sender_name=row.opt_string("displayName"),
        kind=chat_kind(row.opt_string("payloadType")),
        pinned=row.opt_boolean("pinned"),
        edited=row.opt_boolean("isEdited"),
        provider_data={**dict(row), **({"extra_cells": list(row.extras)} if row.extras else {})},
    )


def chat_from_wire(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """A session's chat from the messages of its dump, in the order they were sent: by
    ``sent_at`` when every message has one (stable), else in the file's order."""
    if all(m.sent_at is not None for m in messages):
        return sorted(messages, key=lambda m: m.sent_at or datetime.min.replace(tzinfo=UTC))
    return list(messages)


# -- recordings ---------------------------------------------------------------------------


def media_type_of(filename: str | None) -> str | None:
    """The media type for a recording's file name, by extension (None when unknown)."""
    if not filename or "." not in filename:
        return None
    return wire.MEDIA_TYPES.get(filename.rsplit(".", 1)[1].lower())


def recordings_page_from_wire(body: Any) -> tuple[list[Payload], dict[str, float] | None]:
    """``GET /recordings`` -> (the raw items, ``paging``)."""
    p = _payload(body, "$")
    if p.raw("success") is False:
        data_from_wire(body)  # raises
    items = p.objects("data")
    return items, paging_from_wire(p.raw("paging"), path="$.paging")


def _track_files(item: Payload) -> list[tuple[str, str, str]]:
    """(layer, file, url) of a track recording's ``download_url`` list."""
    out: list[tuple[str, str, str]] = []
    for layer in item.objects("download_url"):
        name = layer.opt_string("layer_name") or "default"
        urls = layer.opt_obj("download_urls")
        if urls is None:
            continue
        for file_name, entry in sorted(urls.data.items()):
            target = _payload(entry, f"{urls.path}.{file_name}")
            link = target.opt_string("download_url")
            if link:
                out.append((name, str(file_name), _absolute(link, f"{target.path}.download_url")))
    return out


def recordings_from_wire(session_id: str, items: Sequence[Payload]) -> list[Recording]:
    """The recordings of one session among a meeting's recordings (see the module docstring)."""
    out: list[Recording] = []
    for item in items:
        if item.opt_string("session_id") != session_id:
            continue
        status = item.opt_string("status")
        if status == wire.RECORDING_ERRORED:
            continue
        rec_id = item.string("id")
        name = item.opt_string("output_file_name")
        seconds = item.opt_number("recording_duration")
        size = item.opt_number("file_size")
        if seconds is not None and seconds < 0:
            raise malformed(P, f"{item.path}.recording_duration", "is negative")
        if size is not None and size < 0:
            raise malformed(P, f"{item.path}.file_size", "is negative")
        common: dict[str, Any] = {
            "session_id": session_id,
            "duration": seconds,
            "created_at": _time(item, "started_time") or _time(item, "invoked_time"),
            "expires_at": expiry(item.raw("download_url_expiry")),
            "provider_data": dict(item.data),
        }
        if isinstance(item.raw("download_url"), list):
            for layer, file_name, url in _track_files(item):
                out.append(
                    Recording(
                        id=f"{rec_id}:{layer}:{file_name}",
                        media_type=media_type_of(file_name),
                        filename=file_name,
                        size=None,
                        url=url,
                        **common,
                    )
                )
            continue
        link = item.opt_string("download_url")
        out.append(
            Recording(
                id=rec_id,
                media_type=media_type_of(name),
                filename=name or f"{rec_id}.mp4",
                size=int(size) if size else None,
                url=_absolute(link, f"{item.path}.download_url") if link else None,
                **common,
            )
        )
    return out


def recording_link_from_wire(body: Any, recording_id: str) -> tuple[str | None, datetime | None]:
    """``GET /recordings/{id}`` -> the (fresh) link of ``recording_id`` (a composite id, or
    ``"<id>:<layer>:<file>"`` of a track file) and its expiry; the url is None when the answer
    has none."""
    data = data_from_wire(body)
    when = expiry(data.raw("download_url_expiry"))
    if isinstance(data.raw("download_url"), list):
        for layer, file_name, url in _track_files(data):
            if f"{data.string('id')}:{layer}:{file_name}" == recording_id:
                return url, when
        return None, when
    link = data.opt_string("download_url")
    return (_absolute(link, f"{data.path}.download_url") if link else None), when


def summary_from_wire(session_id: str, text: str, link: Mapping[str, Any]) -> Summary:
    """The downloaded summary text -> ``Summary`` (``link``: the payload without its url)."""
    return Summary(
        session_id=session_id,
        text=text,
        format="markdown",
        provider_data=dict(link),
    )


# -- errors -------------------------------------------------------------------------------


def _messages(items: Any) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    if not isinstance(items, list):
        return out
    for item in items[:10]:
        if not isinstance(item, Mapping):
            continue
        code = item.get("code")
        number = (
            int(code) if isinstance(code, (int, float)) and not isinstance(code, bool) else None
        )
        message = item.get("message")
        if isinstance(message, str) and message:
            out.append((number, message))
        out.extend(_messages(item.get("error_chain")))
    return out


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the answer asks to wait: ``retry-after-ms`` (the SDK reads it), else
    ``Retry-After`` (seconds or an HTTP date, :func:`convoport.errors.parse_retry_after`)."""
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        seconds = parse_retry_after(millis)
        if seconds is not None:
            return seconds / 1000
    return parse_retry_after(response.headers.get("retry-after"))


def error_info_from_wire(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """The error hook: reads both envelopes — RealtimeKit's ``{success: false, error: {code,
    message}}`` and the Cloudflare gateway's ``{success: false, errors: [{code, message,
    error_chain?}], messages, result: null}`` — into the message and ``code``.

    A 429 asking to wait more than a minute, or one from the gateway without a
    ``Retry-After`` or naming the 1200-request limit, is Cloudflare's five-minute block after
    the global limit: not retryable (waiting seconds
    cannot help), with the wait in the hint. Auth failures name the token, unknown routes the
    account and app ids."""
    status = response.status_code
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    code: int | None = None
    text: str | None = None
    gateway = False
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):
            found = _messages([error])
            if found:
                code, text = found[0]
        elif isinstance(error, str) and error:
            text = error
        found = _messages(data.get("errors"))
        if found:
            gateway = True
            code = found[0][0]
            text = "; ".join(dict.fromkeys(m for _, m in found))
    hint = None
    retryable = None
    details: dict[str, Any] = {}
    if gateway:
        details["envelope"] = "cloudflare"
    if status == 429:
        wait = _retry_after(response)
        if (wait is not None and wait > wire.GLOBAL_BLOCK_THRESHOLD) or (
            gateway and (wait is None or "1200 requests" in (text or ""))
        ):
            seconds = wait if wait is not None else wire.GLOBAL_BLOCK_SECONDS
            retryable = False
            details["global_block"] = True
            details["retry_after"] = seconds
            hint = (
                "Cloudflare blocks every API call for 5 minutes after its global limit "
                f"(1200 requests / 5 minutes) is exceeded: try again in {seconds:.0f} s"
            )
        else:
            hint = "RealtimeKit allows 250 requests per 10 seconds; slow down"
    elif status == 401 or (status == 403 and (gateway or code == wire.CF_AUTHENTICATION_ERROR)):
        hint = TOKEN_HINT
    elif status == 404 and gateway and code == wire.CF_NO_ROUTE:
        hint = ROUTE_HINT
    elif status == 400 and gateway and code == 6003:
        hint = TOKEN_HINT
    return ErrorInfo(
        message=text,
        code=str(code) if code is not None else None,
        retryable=retryable,
        hint=hint,
        details=details,
    )


__all__ = [
    "CURRENT_NAMES",
    "LINK_KEYS",
    "ROUTE_HINT",
    "TOKEN_HINT",
    "chat_from_wire",
    "chat_kind",
    "chat_message_from_wire",
    "data_from_wire",
    "error_info_from_wire",
    "expiry",
    "format_timestamp",
    "generate_summary_from_wire",
    "json_utterance_from_wire",
    "json_utterances_from_wire",
    "legacy_names",
    "link_from_wire",
    "list_params",
    "media_type_of",
    "next_page",
    "paging_from_wire",
    "participant_details_from_wire",
    "participant_from_wire",
    "participants_page_from_wire",
    "peer_report_from_wire",
    "recording_link_from_wire",
    "recordings_from_wire",
    "recordings_page_from_wire",
    "session_details_from_wire",
    "session_from_wire",
    "session_type",
    "sessions_page_from_wire",
    "speaker_from_wire",
    "status_from_wire",
    "summary_from_wire",
    "transcript_from_wire",
    "utterance_from_wire",
]
