"""Syllable payloads <-> the neutral model. Pure functions: no I/O, no state.

Every reader goes through :class:`convoport.parsing.Payload`, so a surprise in a payload (a
missing ``timestamp``, a wrong type, a confidence outside 0..1) is a ``MalformedResponse``
naming the JSON path (``$.items[3].timestamp``), never a ``KeyError``. Choices made here:

* **every field but ``timestamp`` may be absent or null** (reference §4, §11.5); unknown keys
  are kept in ``provider_data`` (the whole payload), never an error;
* **times**: ISO 8601 with ``Z``, an offset, or no zone at all; a value without a zone is read
  as UTC (the reference says the wire format is UNCONFIRMED and suggests UTC);
* **status**: Syllable sends none. A session with a ``duration`` has ended (``COMPLETED``),
  one without is still in progress (``ACTIVE``): :data:`~.wire.STATUS_TABLE`;
  ``provider_status`` is None (there is no vendor word to keep);
* **session**: ``created_at`` and ``started_at`` are ``timestamp`` (the session start, per the
  vendor's CLI), ``ended_at`` is ``timestamp + duration``, ``duration`` is seconds as sent,
  ``title`` is the agent's name, ``language`` is None (Syllable keeps languages per transcript
  line); ``metadata`` holds the session's searchable properties as strings (``agent_id``,
  ``agent_name``, ``channel_manager_type``, ``source``, ``is_test``…, those present) so the
  neutral ``metadata`` filter can use them; a session without ``session_id`` cannot be named
  and is reported by :func:`list_page_from_wire`;
* **speakers**: ``SessionText.source`` ``"agent"`` -> ``"agent"``, ``"user"`` -> ``"caller"``
  (the participants' roles); another word is kept as the speaker label;
* **utterance times**: Syllable gives only wall-clock ``timestamp`` per line (no offsets, no end
  times): ``Utterance.timestamp`` is set, ``start``/``end`` are None (exports anchor them);
  ``confidence`` is ``stt_confidence.utterance`` (not comparable across STT providers);
  words come from ``stt_confidence.words`` with their confidence; their ``start``/``end`` stay
  None because their unit and reference point are UNCONFIRMED (the raw values stay in the
  utterance's ``provider_data.stt_confidence``); ``lang`` ``"unset"`` is no language;
* **tool calls** (``actions``) are kept in the transcript's ``provider_data["actions"]`` with
  ``tool_request``/``tool_result``/``tool_error`` decoded from their JSON strings (a string that
  is not JSON is kept as the string); the same for the timeline's ``tool_*`` fields;
* **open vocabularies**: latency categories and units, timeline kinds and
  ``utterance_source`` are open strings; an unknown member is kept, never an error (§11.8).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import httpx

from convoport.capabilities import ListOrder
from convoport.errors import ConfigError, InvalidRequest, NotFound, ProviderError
from convoport.http import ErrorInfo, error_message
from convoport.model import (
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
    Word,
)
from convoport.pagination import next_page_number
from convoport.parsing import Payload, malformed

from . import wire

P = wire.PROVIDER

#: ``SessionText`` keys the neutral ``Utterance`` carries (the rest go to its provider_data).
_TEXT_KEYS = frozenset({"timestamp", "lang", "source", "text"})
_TOOL_KEYS = ("tool_request", "tool_result", "tool_error")


def _payload(data: Any, path: str) -> Payload:
    return Payload(P, data, path)


def _timestamp(p: Payload, key: str) -> datetime:
    return p.timestamp(key, naive_is_utc=True)


def _opt_timestamp(p: Payload, key: str) -> datetime | None:
    return p.opt_timestamp(key, naive_is_utc=True)


def _strings(p: Payload, key: str) -> list[str] | None:
    """An optional list of strings (``None`` when absent or null)."""
    if p.raw(key) is None:
        return None
    values = p.array(key)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise malformed(P, f"{p.path}.{key}[{i}]", "expected a string")
    return list(values)


# -- sessions ---------------------------------------------------------------------------------


def state_word(p: Payload) -> str:
    """The derived state word of a ``Session`` (Syllable sends none): ``"ended"`` when it has
    a ``duration``, else ``"in_progress"``."""
    return "ended" if p.opt_non_negative("duration") is not None else "in_progress"


def status_from_wire(word: str | None) -> SessionStatus:
    """A derived state word -> neutral status (unknown or None -> ``ACTIVE``)."""
    if word is None:
        return wire.STATUS_FALLBACK
    return wire.STATUS_TABLE.get(word, wire.STATUS_FALLBACK)


def metadata_from_wire(p: Payload) -> dict[str, str]:
    """The session's searchable properties that are present, as strings (booleans as
    ``"true"``/``"false"``): what the neutral ``metadata`` filter matches."""
    out: dict[str, str] = {}
    for key in wire.STRING_PROPERTIES:
        if key == "session_id":
            continue  # the session's own id
        value = p.opt_string(key)
        if value is not None:
            out[key] = value
    for key in sorted(wire.BOOLEAN_PROPERTIES):
        flag = p.opt_boolean(key)
        if flag is not None:
            out[key] = "true" if flag else "false"
    return out


def session_from_wire(data: Any, *, path: str = "$", session_id: str | None = None) -> Session:
    """A ``Session`` (a get, or a list item) -> ``Session``.

    ``session_id`` is the id the caller asked for, used when the payload has none (a
    projection may leave it out); without either the payload is ``MalformedResponse``
    (``$.session_id is missing``).
    """
    p = _payload(data, path)
    started = _timestamp(p, "timestamp")
    sid = p.opt_string("session_id") or session_id
    if sid is None:
        raise malformed(P, f"{path}.session_id", "is missing")
    duration = p.opt_non_negative("duration")
    word = state_word(p)
    # Typed reads of the remaining documented fields: a wrong type names its path.
    for key in ("agent_timezone", "prompt_version", "override_timestamp", "session_label_id"):
        p.opt_string(key)
    p.opt_integer("prompt_version_number")
    p.opt_string("experiment_variant")
    for key in ("experiment_variant_is_control", "user_terminated", "transfer_voicemail_detected"):
        p.opt_boolean(key)
    return Session(
        provider=P,
        id=sid,
        status=status_from_wire(word),
        provider_status=None,
        created_at=started,
        started_at=started,
        ended_at=started + timedelta(seconds=duration) if duration is not None else None,
        duration=duration,
        title=p.opt_string("agent_name"),
        language=None,
        metadata=metadata_from_wire(p),
        provider_data=dict(p.data),
    )


@attrs.frozen(kw_only=True)
class ListedPage:
    """One page of ``GET /api/v1/sessions/``: the sessions, the next page number (None on
    the last page: §3.4's rule), how many items the page had, and the paths of the items that
    had no ``session_id`` (they cannot be named, so they are left out and reported)."""

    sessions: list[Session]
    next_page: int | None
    count: int
    unnamed: list[str]


def list_page_from_wire(data: Any, *, page: int, limit: int) -> ListedPage:
    """A ``ListResponse_Session_`` -> :class:`ListedPage`. The end of the pages is §3.4's
    rule: an empty page, ``page + 1 >= total_pages`` (when given), or fewer than ``limit``
    items (``page_size`` is not used: whether it echoes ``limit`` is UNCONFIRMED)."""
    p = _payload(data, "$")
    items = p.objects("items", required=True)
    p.integer("page")
    p.integer("page_size")
    total_pages = p.opt_integer("total_pages")
    total_count = p.opt_integer("total_count")
    sessions: list[Session] = []
    unnamed: list[str] = []
    for item in items:
        if item.opt_string("session_id") is None:
            _timestamp(item, "timestamp")  # still a readable Session
            unnamed.append(item.path)
            continue
        sessions.append(session_from_wire(item.data, path=item.path))
    nxt = next_page_number(
        page, len(items), limit, total_pages=total_pages, total_count=total_count
    )
    return ListedPage(sessions=sessions, next_page=nxt, count=len(items), unnamed=unnamed)


# -- the list query ----------------------------------------------------------------------------


def format_timestamp(value: datetime) -> str:
    """Syllable's query datetime form (``2025-01-01T00:00:00Z``): UTC, seconds (microseconds
    when needed), ``Z``."""
    utc = value.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


_TERM_START = re.compile(r"^(?P<field>[a-z_]+)=")


def search_terms(text: str) -> list[tuple[str, str]]:
    """The neutral ``search`` string -> ``(field, value)`` pairs.

    ``FIELD=VALUE`` searches one ``SessionProperties`` field (``source=+18042221111``,
    ``agent_id=42``, ``is_test=true``); several terms are joined with ``&``
    (``agent_name=Support Bot&source=+18042221111``; an ``&`` inside a value is kept unless it
    is followed by ``FIELD=``). Text that does not start with ``FIELD=`` searches
    ``agent_name``, as the vendor's CLI ``--search`` does. A known field with an empty value,
    or ``timestamp``/``duration`` (not searchable), is a ``ConfigError``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("the syllable search is empty", hint=SEARCH_HINT)
    fields = "|".join(sorted(wire.SESSION_PROPERTIES, key=len, reverse=True))
    match = _TERM_START.match(text)
    if match is None or match.group("field") not in wire.SESSION_PROPERTIES:
        return [("agent_name", text)]
    pieces = re.split(rf"&(?=(?:{fields})=)", text)
    terms: list[tuple[str, str]] = []
    for piece in pieces:
        field, _, value = piece.partition("=")
        if field in ("timestamp", "duration"):
            raise ConfigError(
                f"syllable cannot search {field}", hint="use --since/--until for times"
            )
        if not value:
            raise ConfigError(f"the syllable search term {field}= has no value", hint=SEARCH_HINT)
        if field in wire.BOOLEAN_PROPERTIES and value.lower() not in ("true", "false"):
            raise ConfigError(
                f"the syllable search term {field}={value} must be true or false",
                hint=SEARCH_HINT,
            )
        terms.append((field, value.lower() if field in wire.BOOLEAN_PROPERTIES else value))
    return terms


SEARCH_HINT = (
    "search as FIELD=VALUE (fields: " + ", ".join((*wire.STRING_PROPERTIES, "is_test")) + "), "
    "several joined with '&'; plain text searches agent_name"
)


@attrs.frozen(kw_only=True)
class ListParams:
    """A neutral query as Syllable's list parameters plus what is checked on the client.

    ``params`` are the query pairs other than ``page``/``limit`` (repeated keys for
    ``search_fields``/``search_field_values``, §11.2); ``booleans`` the boolean properties the
    client filters (§11.6); ``query`` the neutral query whose declared filters are re-checked
    exactly on each listed session (the server's datetime bounds are of UNCONFIRMED
    inclusivity, its string matching may be a substring match); ``nothing`` is true when no
    session can match (an empty ``created_on`` window)."""

    params: list[tuple[str, str]]
    booleans: dict[str, bool]
    query: SessionQuery
    nothing: bool = False


def list_params(query: SessionQuery) -> ListParams:
    """``GET /api/v1/sessions/``'s parameters for a neutral query (without ``page`` and
    ``limit``). The order is always sent (``order_by=timestamp``, ``desc`` for newest first,
    the default, ``asc`` for oldest first: Syllable's default order is UNCONFIRMED).
    ``created_after``/``created_before``/``created_on`` become ``start_datetime``/
    ``end_datetime``; string ``metadata`` entries and ``search`` terms become repeated
    ``search_fields``/``search_field_values``; boolean ones are filtered on the client, and
    ``is_test=true`` is also sent (it includes the test sessions, §3.5)."""
    direction = "asc" if query.order is ListOrder.OLDEST else "desc"
    starts = [t for t in (query.created_after,) if t is not None]
    ends = [t for t in (query.created_before,) if t is not None]
    if query.created_on is not None:
        day = datetime.strptime(query.created_on, "%Y-%m-%d").replace(tzinfo=UTC)
        starts.append(day)
        ends.append(day + timedelta(days=1))
    start = max(starts) if starts else None
    end = min(ends) if ends else None
    terms: list[tuple[str, str]] = []
    for key, value in sorted((query.metadata or {}).items()):
        if key not in wire.SESSION_PROPERTIES or key in ("timestamp", "duration"):
            continue  # not a searchable property: checked on the client only
        terms.append((key, value.lower() if key in wire.BOOLEAN_PROPERTIES else value))
    if query.search is not None:
        terms.extend(search_terms(query.search))
    booleans: dict[str, bool] = {}
    server: list[tuple[str, str]] = []
    for field, value in terms:
        if field in wire.BOOLEAN_PROPERTIES:
            wanted = value == "true"
            if booleans.get(field, wanted) != wanted:
                return ListParams(params=[], booleans={}, query=query, nothing=True)
            booleans[field] = wanted
            if field == "is_test" and wanted:
                server.append((field, "true"))
        elif (field, value) not in server:
            server.append((field, value))
    params: list[tuple[str, str]] = []
    params.extend(("search_fields", f) for f, _ in server)
    params.extend(("search_field_values", v) for _, v in server)
    params.append(("order_by", "timestamp"))
    params.append(("order_by_direction", direction))
    if start is not None:
        params.append(("start_datetime", format_timestamp(start)))
    if end is not None:
        params.append(("end_datetime", format_timestamp(end)))
    nothing = start is not None and end is not None and start >= end
    return ListParams(params=params, booleans=booleans, query=query, nothing=nothing)


def page_params(plan: ListParams, *, page: int, limit: int) -> list[tuple[str, str]]:
    """The whole query of one list request: ``page`` (0-based) and ``limit`` first."""
    return [("page", str(page)), ("limit", str(limit)), *plan.params]


def kept(plan: ListParams, session: Session) -> bool:
    """Whether a listed session passes what the client checks: the boolean properties, and
    the neutral query's times and metadata exactly."""
    for field, wanted in plan.booleans.items():
        value = session.provider_data.get(field)
        if field == "is_test" and not wanted:
            if value is True:
                return False
        elif value is not wanted:
            return False
    return plan.query.matches(session)


# -- transcripts, summaries, participants, recordings -----------------------------------------


def decode_tool_payload(value: str | None) -> Any:
    """A ``tool_request``/``tool_result``/``tool_error`` JSON string -> its value (a string
    that is not JSON is kept as it is; None stays None)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def action_from_wire(p: Payload) -> dict[str, Any]:
    """A ``SessionAction`` -> a JSON dict with the ``tool_*`` strings decoded."""
    out: dict[str, Any] = dict(p.data)
    _timestamp(p, "timestamp")
    p.opt_string("tool_name")
    p.opt_non_negative("duration_ms")
    for key in _TOOL_KEYS:
        out[key] = decode_tool_payload(p.opt_string(key))
    return out


def speaker_from_wire(source: str | None) -> str | None:
    """``SessionText.source`` -> the speaker label (the participant role)."""
    if source is None:
        return None
    return wire.SPEAKERS.get(source, source)


def _language(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("", "unset") else value


def word_from_wire(p: Payload) -> Word:
    """A ``TranscriptWordConfidence`` -> ``Word`` (times left out: see the module docstring)."""
    p.opt_number("start")
    p.opt_number("end")
    return Word(text=p.string("word"), confidence=p.opt_fraction("confidence"))


def utterance_from_wire(p: Payload) -> Utterance:
    """A ``SessionText`` -> ``Utterance``."""
    confidence = p.opt_obj("stt_confidence")
    words: list[Word] = []
    score = None
    if confidence is not None:
        confidence.string("provider")
        confidence.opt_string("model")
        confidence.opt_string("utterance_source")  # open: provider | derived_min | …
        confidence.opt_boolean("words_truncated")
        score = confidence.opt_fraction("utterance")
        words = [word_from_wire(w) for w in confidence.objects("words")]
    lang = p.opt_string("lang")
    extra = {k: v for k, v in p.data.items() if k not in _TEXT_KEYS}
    if lang is not None and _language(lang) is None:
        extra["lang"] = lang
    return Utterance(
        text=p.opt_string("text") or "",
        speaker=speaker_from_wire(p.opt_string("source")),
        confidence=score,
        language=_language(lang),
        timestamp=_timestamp(p, "timestamp"),
        words=words,
        provider_data=extra,
    )


def transcript_complete(data: Any) -> bool:
    """``transcript_complete`` of a transcript response (absent -> False)."""
    p = _payload(data, "$")
    return p.opt_boolean("transcript_complete") is True


def transcript_from_wire(data: Any, *, session_id: str | None = None) -> Transcript:
    """A ``SessionTranscriptionResponse`` -> ``Transcript`` (``session_id`` the id asked for,
    when the payload's is missing).

    ``provider_data`` keeps ``transcript_complete`` (False when absent: the record may still be
    growing, or the channel never reports completeness), ``actions`` (decoded) and any other
    key the vendor sent."""
    p = _payload(data, "$")
    sid = p.opt_string("session_id") or session_id
    if sid is None:
        raise malformed(P, "$.session_id", "is missing")
    utterances = [utterance_from_wire(u) for u in p.objects("transcription", required=True)]
    actions = [action_from_wire(a) for a in p.objects("actions", required=True)]
    extra = {k: v for k, v in p.data.items() if k not in ("transcription", "actions")}
    extra["actions"] = actions
    extra["transcript_complete"] = p.opt_boolean("transcript_complete") is True
    language = next((u.language for u in utterances if u.language), None)
    return Transcript(
        session_id=sid,
        utterances=utterances,
        language=language,
        engine=P,
        created_at=None,
        provider_data=extra,
    )


def summary_from_wire(data: Any, *, session_id: str) -> Summary | None:
    """A ``SessionSummaryResponse`` -> ``Summary``, or None when it has no text (``{}`` is a
    valid answer)."""
    p = _payload(data if data is not None else {}, "$")
    text = p.opt_string("summary")
    rating = p.opt_string("rating")
    if not text or not text.strip():
        return None
    return Summary(
        session_id=session_id,
        text=text,
        format="text",
        rating=rating,
        provider_data=dict(p.data),
    )


def participants_from_wire(data: Any, *, session_id: str | None = None) -> list[Participant]:
    """A ``Session`` -> its two participants: the agent and the caller.

    Ids are ``"<session_id>:agent"`` and ``"<session_id>:caller"``; roles ``agent`` and
    ``caller`` (the transcript's speaker labels). The agent's ``user_id`` is ``agent_id`` and
    its name ``agent_name``; the caller is ``source`` (phone number, user name or e-mail) for
    an inbound session and ``target`` (what was dialled, UNCONFIRMED) for an outbound one.
    Both joined at ``timestamp`` and left at ``timestamp + duration`` (None while running).
    """
    session = session_from_wire(data, session_id=session_id)
    p = _payload(data, "$")
    outbound = p.opt_boolean("is_outbound") is True
    caller = p.opt_string("target") if outbound else p.opt_string("source")
    joined, left = session.started_at, session.ended_at
    agent_data = {
        k: p.data[k]
        for k in ("agent_id", "agent_name", "agent_type", "agent_timezone")
        if k in p.data
    }
    caller_data = {k: p.data[k] for k in ("source", "target", "is_outbound") if k in p.data}
    return [
        Participant(
            id=f"{session.id}:{wire.AGENT}",
            session_id=session.id,
            user_id=p.opt_string("agent_id"),
            display_name=p.opt_string("agent_name"),
            role=wire.AGENT,
            joined_at=joined,
            left_at=left,
            duration=session.duration,
            provider_data=agent_data,
        ),
        Participant(
            id=f"{session.id}:{wire.CALLER}",
            session_id=session.id,
            user_id=caller,
            display_name=caller,
            role=wire.CALLER,
            joined_at=joined,
            left_at=left,
            duration=session.duration,
            provider_data=caller_data,
        ),
    ]


def recording_urls_from_wire(data: Any) -> list[str]:
    """A ``SessionRecordingResponse`` -> its URLs (``[]`` when ``recordings`` is absent or
    null); each must be an absolute http(s) URL."""
    p = _payload(data if data is not None else {}, "$")
    urls = _strings(p, "recordings") or []
    for i, url in enumerate(urls):
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise malformed(P, f"$.recordings[{i}]", "is not an absolute http(s) URL")
    return urls


def stream_token(url: str) -> str | None:
    """The ``token`` of a recording URL on the stream endpoint, else None (a pre-signed URL)."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith(wire.RECORDING_STREAM_PATH):
        return None
    return dict(parse_qsl(parts.query)).get("token")


def recordings_from_wire(data: Any, *, session: Session) -> list[Recording]:
    """A ``SessionRecordingResponse`` -> one ``Recording`` per URL, in order.

    ``id`` is the URL's position (``"0"``, ``"1"``…: the URLs themselves are short-lived and
    change on every request), ``url`` the link (no ``expires_at``: Syllable gives none);
    ``media_type``/``filename`` come from the URL's file name when it has an audio extension,
    else the media type is unknown (None) and the file is ``<session_id>-<n>.wav``;
    ``duration`` is the session's, ``created_at`` its end."""
    urls = recording_urls_from_wire(data)
    out: list[Recording] = []
    for index, url in enumerate(urls):
        path = urlsplit(url).path
        ext = ("." + path.rsplit(".", 1)[-1].lower()) if "." in path.rsplit("/", 1)[-1] else ""
        media_type = wire.AUDIO_TYPES.get(ext)
        filename = f"{session.id}-{index}{ext if media_type else '.wav'}"
        out.append(
            Recording(
                id=str(index),
                session_id=session.id,
                media_type=media_type,
                filename=filename,
                duration=session.duration,
                created_at=session.ended_at,
                url=url,
                provider_data={"index": index, "stream_endpoint": stream_token(url) is not None},
            )
        )
    return out


# -- the extensions: latency, timeline, labels ------------------------------------------------


def latency_from_wire(data: Any) -> dict[str, Any]:
    """An ``InspectLatencyResponse``, checked (required fields and types; ``category`` and
    ``unit_type`` are open strings) and returned as sent."""
    p = _payload(data, "$")
    p.string("session_id")
    for entry in p.objects("timeline", required=True):
        _timestamp(entry, "timestamp")
        _timestamp(entry, "measurement_start")
        for key in ("category", "label", "unit_type", "value_str", "time_delta"):
            entry.string(key)
        entry.number("value")
        _strings(entry, "metadata")
    if p.raw("summary") is not None:
        for entry in p.objects("summary", required=True):
            entry.string("category")
            entry.integer("event_count")
            for key in ("sum_ms", "average_ms"):
                entry.number(key)
            for key in ("sum_str", "average_str"):
                entry.string(key)
            entry.opt_string("sub_category")
    return dict(p.data)


def timeline_from_wire(data: Any) -> dict[str, Any]:
    """A ``SessionTimelineResponse``, checked, with each event's ``tool_*`` JSON strings
    decoded (``kind`` and ``category`` are open strings)."""
    p = _payload(data, "$")
    p.string("session_id")
    _opt_timestamp(p, "session_start")
    events: list[dict[str, Any]] = []
    for event in p.objects("events", required=True):
        event.string("kind")
        _timestamp(event, "timestamp")
        event.string("offset")
        event.opt_integer("turn_index")
        for key in ("source", "text", "lang", "category", "label"):
            event.opt_string(key)
        _strings(event, "metadata")
        event.opt_number("duration_ms")
        decoded = dict(event.data)
        for key in _TOOL_KEYS:
            if key in decoded:
                decoded[key] = decode_tool_payload(event.opt_string(key))
        events.append(decoded)
    return {**p.data, "events": events}


def label_from_wire(p: Payload) -> dict[str, Any]:
    """A ``SessionLabel``, checked (``session_id``/``id`` are integers here, §11.4), as sent."""
    for key in ("session_id", "id"):
        p.integer(key)
    for key in ("type", "code", "user_email", "timestamp"):
        p.string(key)
    p.opt_string("comments")
    _strings(p, "issue_categories")
    return dict(p.data)


def labels_page_from_wire(
    data: Any, *, page: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A ``ListResponse_SessionLabel_`` -> (labels as sent, the next page number or None)."""
    p = _payload(data, "$")
    items = p.objects("items", required=True)
    labels = [label_from_wire(item) for item in items]
    nxt = next_page_number(
        page,
        len(items),
        limit,
        total_pages=p.opt_integer("total_pages"),
        total_count=p.opt_integer("total_count"),
    )
    return labels, nxt


def labels_params(session_id: str, *, page: int, limit: int) -> list[tuple[str, str]]:
    """``GET /api/v1/session_labels/`` for one session's labels (there is no per-session
    endpoint: the list is searched by ``session_id``)."""
    return [
        ("page", str(page)),
        ("limit", str(limit)),
        ("search_fields", "session_id"),
        ("search_field_values", session_id),
    ]


# -- errors -----------------------------------------------------------------------------------


def _validation_text(items: Sequence[Any]) -> str | None:
    parts: list[str] = []
    for item in items[:5]:
        if not isinstance(item, Mapping):
            continue
        msg = item.get("msg")
        loc = item.get("loc")
        where = ".".join(str(x) for x in loc) if isinstance(loc, list) else ""
        if isinstance(msg, str):
            parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or None


def error_info_from_wire(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """The error hook: Syllable's FastAPI envelopes (§10.1, §11.12). ``detail`` is a list on a
    422 (``loc``/``msg``/``type`` items, read as ``query.limit: …``), a string on most others,
    or on the sessions list's 400 a ``LegacySessionLinkDetail`` (an ``InvalidRequest`` whose
    hint names ``redirect_to``; ``details["legacy_session_link"]`` keeps it). A body that is
    not JSON is left to core (its excerpt is kept)."""
    status = response.status_code
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, Mapping):
        return None
    detail = data.get("detail")
    hint: str | None = None
    details: dict[str, Any] = {}
    code: str | None = None
    error_class: type[ProviderError] | None = None
    text: str | None
    if isinstance(detail, list):
        text = _validation_text(detail) or "invalid request"
        details["validation_errors"] = [d for d in detail if isinstance(d, Mapping)][:20]
    elif isinstance(detail, Mapping) and detail.get("code") == wire.LEGACY_SESSION_LINK:
        code = wire.LEGACY_SESSION_LINK
        message = detail.get("message")
        text = str(message) if isinstance(message, str) and message else "a legacy session link"
        redirect = detail.get("redirect_to")
        legacy_id = detail.get("session_id")
        hint = (
            f"session {legacy_id} is on Syllable's legacy system; open {redirect}"
            if isinstance(redirect, str)
            else "this is a legacy Syllable session"
        )
        details["legacy_session_link"] = dict(detail)
        error_class = InvalidRequest
    else:
        text = error_message(data)
    if status == 401:
        hint = "check the Syllable API key (SYLLABLE_API_KEY or SYLLABLESDK_API_KEY_HEADER)"
    elif status == 403 and hint is None:
        hint = "the API key has no permission for this; ask the organisation's admin"
    elif status == 404:
        error_class = NotFound
    elif status == 400 and hint is None and "/api/v1/sessions/" in response.request.url.path:
        hint = "Syllable session ids are numbers (e.g. 824); find others with --search"
    return ErrorInfo(
        message=text,
        code=code,
        error_class=error_class,
        hint=hint,
        details=details,
    )


__all__ = [
    "SEARCH_HINT",
    "ListParams",
    "ListedPage",
    "action_from_wire",
    "decode_tool_payload",
    "error_info_from_wire",
    "format_timestamp",
    "kept",
    "label_from_wire",
    "labels_page_from_wire",
    "labels_params",
    "latency_from_wire",
    "list_page_from_wire",
    "list_params",
    "metadata_from_wire",
    "page_params",
    "participants_from_wire",
    "recording_urls_from_wire",
    "recordings_from_wire",
    "search_terms",
    "session_from_wire",
    "speaker_from_wire",
    "state_word",
    "status_from_wire",
    "stream_token",
    "summary_from_wire",
    "timeline_from_wire",
    "transcript_complete",
    "transcript_from_wire",
    "utterance_from_wire",
    "word_from_wire",
]
