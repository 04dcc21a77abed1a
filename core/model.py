"""The neutral model: what a conversation session and its artifacts look like in convoport.

Every class is an attrs class, ``frozen=True, slots=True, kw_only=True``, and converts to and
from JSON with the one shared converter in :mod:`convoport.serde`.

Units, everywhere:

* wall-clock times are timezone-aware ``datetime`` objects in UTC (a naive datetime is refused);
* offsets inside a recording are ``float`` seconds from the recording's start;
* durations are ``float`` seconds;
* sizes are ``int`` bytes;
* languages are BCP-47-ish strings exactly as the vendor gave them (``"en"``, ``"en-US"``).

``provider_data`` on each object is the vendor's raw payload for that object, kept whole, so
nothing a vendor sent is lost when it is translated.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from convoport.capabilities import ListOrder

JSONDict = dict[str, Any]


def _utc(value: datetime | None) -> datetime | None:
    """attrs converter: keeps ``None``, refuses naive datetimes, normalises to UTC."""
    if value is None:
        return None
    if value.__class__ is datetime and value.tzinfo is UTC:
        return value  # already normalised (every stored time is): skip the conversion
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} (convoport needs timezone-aware times)"
        )
    return value.astimezone(UTC)


def _utc_required(value: datetime) -> datetime:
    result = _utc(value)
    if result is None:
        raise TypeError("expected a datetime, got None")
    return result


def _json_dict(value: Mapping[str, Any] | None) -> JSONDict:
    return dict(value) if value else {}


def _words(value: Iterable[Word]) -> tuple[Word, ...]:
    return tuple(value)


def _utterances(value: Iterable[Utterance]) -> tuple[Utterance, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _statuses(value: Iterable[SessionStatus | str] | None) -> frozenset[SessionStatus] | None:
    return None if value is None else frozenset(SessionStatus(v) for v in value)


def _string_map(value: Mapping[str, Any] | None) -> dict[str, str] | None:
    return None if value is None else {str(k): str(v) for k, v in value.items()}


def _non_empty_id(value: Any) -> None:
    """A session id is a non-empty string (it names the session in refs, paths, archives)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"a session id must be a non-empty string, got {value!r}")


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: float | int | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _confidence(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within 0..1, got {value!r}")


class SessionStatus(enum.StrEnum):
    """Where a session is in its life. Each adapter maps its vendor's words with a table.

    An adapter maps a vendor value it does not know to its documented fallback (usually
    ``PROCESSING`` for a session that exists but is in an unrecognised state) and keeps the
    vendor's word in ``Session.provider_status``.
    """

    PENDING = "pending"  #: created, no media yet
    ACTIVE = "active"  #: media flowing / the meeting or call is live
    PROCESSING = "processing"  #: media ended, results being produced
    COMPLETED = "completed"  #: results final
    FAILED = "failed"  #: ended in an error
    CANCELLED = "cancelled"  #: stopped on purpose before completing

    @property
    def terminal(self) -> bool:
        """Whether the session can no longer change state."""
        return self in (SessionStatus.COMPLETED, SessionStatus.FAILED, SessionStatus.CANCELLED)


_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def validate_provider_name(name: str) -> str:
    """Checks a backend name: lower case, starts with a letter, ``[a-z0-9_-]``, at most 64."""
    if not isinstance(name, str) or not _PROVIDER_NAME.match(name):
        raise ValueError(
            f"invalid provider name {name!r}: use lower-case letters, digits, '_' or '-', "
            "starting with a letter"
        )
    return name


@attrs.frozen(kw_only=True)
class SessionRef:
    """Names one session across providers. ``str(ref)`` is ``"provider:id"`` and
    :meth:`parse` reads it back; the id may itself contain ``:``."""

    provider: str = attrs.field(validator=lambda _, __, v: validate_provider_name(v))
    id: str = attrs.field()

    @id.validator
    def _check_id(self, _: attrs.Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a session id must be a non-empty string")

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> SessionRef:
        """Reads ``"provider:id"``. Raises ``ValueError`` naming the expected form."""
        provider, sep, ident = text.partition(":")
        if not sep or not ident:
            raise ValueError(f"not a session reference: {text!r} (expected 'provider:id')")
        return cls(provider=provider, id=ident)


@attrs.frozen(kw_only=True)
class Session:
    """One conversation session: a transcription job, a call, a meeting, a live capture.

    ``id`` is the vendor's id as a string. ``duration`` is in seconds. ``metadata`` holds the
    user-defined key/values the vendor stores with the session (Gladia's ``custom_metadata``);
    ``provider_data`` the whole raw vendor payload.
    """

    provider: str
    id: str = attrs.field(validator=lambda _, __, v: _non_empty_id(v))
    status: SessionStatus
    provider_status: str | None = None
    created_at: datetime | None = attrs.field(default=None, converter=_utc)
    started_at: datetime | None = attrs.field(default=None, converter=_utc)
    ended_at: datetime | None = attrs.field(default=None, converter=_utc)
    duration: float | None = attrs.field(default=None, validator=_non_negative)
    title: str | None = None
    language: str | None = None
    metadata: JSONDict = attrs.field(factory=dict, converter=_json_dict)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)

    @property
    def ref(self) -> SessionRef:
        """This session's cross-provider name."""
        return SessionRef(provider=self.provider, id=self.id)


@attrs.frozen(kw_only=True)
class Participant:
    """Someone who took part in a session. ``duration`` is seconds of presence."""

    id: str
    session_id: str
    user_id: str | None = None
    display_name: str | None = None
    role: str | None = None
    joined_at: datetime | None = attrs.field(default=None, converter=_utc)
    left_at: datetime | None = attrs.field(default=None, converter=_utc)
    duration: float | None = attrs.field(default=None, validator=_non_negative)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class Recording:
    """A media file a session left behind.

    ``size`` is bytes, ``duration`` seconds. ``url`` is a download link when the vendor hands
    out one (pre-signed links expire at ``expires_at``); it is fetched without credentials.
    """

    id: str
    session_id: str
    media_type: str | None = None
    filename: str | None = None
    duration: float | None = attrs.field(default=None, validator=_non_negative)
    size: int | None = attrs.field(default=None, validator=_non_negative)
    channels: int | None = attrs.field(default=None, validator=_non_negative)
    created_at: datetime | None = attrs.field(default=None, converter=_utc)
    url: str | None = attrs.field(default=None, repr=False)
    expires_at: datetime | None = attrs.field(default=None, converter=_utc)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class Word:
    """One word. ``start``/``end`` are seconds from the recording's start; ``text`` is as the
    vendor gave it (it may carry a leading space)."""

    text: str
    start: float | None = None
    end: float | None = None
    confidence: float | None = attrs.field(default=None, validator=_confidence)


@attrs.frozen(kw_only=True)
class Utterance:
    """A stretch of speech by one speaker.

    ``start``/``end`` are seconds from the recording's start (``None`` where the vendor gives
    only wall-clock times: then ``timestamp`` is set). ``speaker`` is a label (``"Speaker_0"``,
    ``"agent"``, ``"channel 1"``); ``channel`` is the 0-based audio channel when known.
    """

    text: str
    start: float | None = None
    end: float | None = None
    id: str | None = None
    speaker: str | None = None
    channel: int | None = attrs.field(default=None, validator=_non_negative)
    confidence: float | None = attrs.field(default=None, validator=_confidence)
    language: str | None = None
    timestamp: datetime | None = attrs.field(default=None, converter=_utc)
    words: tuple[Word, ...] = attrs.field(default=(), converter=_words)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class Turn:
    """Consecutive utterances by the same speaker, merged (see :meth:`Transcript.turns`)."""

    speaker: str | None
    start: float | None
    end: float | None
    text: str
    utterances: tuple[Utterance, ...]


@attrs.frozen(kw_only=True)
class Transcript:
    """What was said in a session, in time order.

    ``language`` is the main language (the vendor's first detected one). ``engine`` names
    what produced it when a session has several (``"gladia"``, a re-processing run);
    ``created_at`` is when it was produced, when known.
    """

    session_id: str
    utterances: tuple[Utterance, ...] = attrs.field(default=(), converter=_utterances)
    language: str | None = None
    engine: str | None = None
    created_at: datetime | None = attrs.field(default=None, converter=_utc)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)

    @property
    def text(self) -> str:
        """The whole transcript as plain text, one utterance per line."""
        return "\n".join(u.text.strip() for u in self.utterances if u.text.strip())

    @property
    def speakers(self) -> tuple[str, ...]:
        """Speaker labels in order of first appearance (utterances without a speaker skipped)."""
        seen: dict[str, None] = {}
        for u in self.utterances:
            if u.speaker is not None:
                seen.setdefault(u.speaker, None)
        return tuple(seen)

    def by_speaker(self) -> dict[str | None, tuple[Utterance, ...]]:
        """Utterances grouped by speaker, speakers in order of first appearance."""
        groups: dict[str | None, list[Utterance]] = {}
        for u in self.utterances:
            groups.setdefault(u.speaker, []).append(u)
        return {k: tuple(v) for k, v in groups.items()}

    def turns(self) -> tuple[Turn, ...]:
        """Consecutive utterances of one speaker merged into turns, in time order."""
        turns: list[Turn] = []
        for speaker, group in _group_consecutive(self.utterances):
            starts = [u.start for u in group if u.start is not None]
            ends = [u.end for u in group if u.end is not None]
            turns.append(
                Turn(
                    speaker=speaker,
                    start=min(starts) if starts else None,
                    end=max(ends) if ends else None,
                    text=" ".join(u.text.strip() for u in group if u.text.strip()),
                    utterances=tuple(group),
                )
            )
        return tuple(turns)

    def speaker_text(self, speaker: str | None) -> str:
        """Everything one speaker said, one utterance per line."""
        return "\n".join(
            u.text.strip() for u in self.utterances if u.speaker == speaker and u.text.strip()
        )


def _group_consecutive(
    utterances: tuple[Utterance, ...],
) -> Iterator[tuple[str | None, list[Utterance]]]:
    current: list[Utterance] = []
    for u in utterances:
        if current and u.speaker != current[-1].speaker:
            yield current[-1].speaker, current
            current = []
        current.append(u)
    if current:
        yield current[-1].speaker, current


@attrs.frozen(kw_only=True)
class Summary:
    """A summary of a session. ``format`` is ``"text"`` or ``"markdown"``; ``rating`` is the
    vendor's quality verdict where it gives one (Syllable: ``"Good"``)."""

    session_id: str
    text: str
    format: str = "text"
    rating: str | None = None
    language: str | None = None
    created_at: datetime | None = attrs.field(default=None, converter=_utc)
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class ChatMessage:
    """A chat message sent during a session. ``kind`` is an open string (``"text"``,
    ``"image"``, ``"file"``); for non-text kinds ``text`` holds the vendor's payload (a URL)."""

    id: str
    session_id: str
    text: str
    sent_at: datetime | None = attrs.field(default=None, converter=_utc)
    sender_id: str | None = None
    sender_name: str | None = None
    kind: str = "text"
    pinned: bool | None = None
    edited: bool | None = None
    provider_data: JSONDict = attrs.field(factory=dict, converter=_json_dict, repr=False)


@attrs.frozen(kw_only=True)
class SessionQuery:
    """Neutral filters for listing sessions. Every field is optional; ``None`` means "any".

    ``created_after`` is inclusive and ``created_before`` exclusive; ``created_on`` is one
    UTC day (``"YYYY-MM-DD"``). ``statuses`` keeps sessions in any of the given states.
    ``metadata`` keeps sessions whose ``metadata`` has every given key with that value.
    ``search`` is the vendor's free-text search (only where the vendor has one). ``order`` is
    the listing order (``newest``/``oldest`` first by creation time; None: the backend's
    default, newest first wherever it can give it): adapters read it, the client resolves it.
    """

    created_after: datetime | None = attrs.field(default=None, converter=_utc)
    created_before: datetime | None = attrs.field(default=None, converter=_utc)
    created_on: str | None = attrs.field(default=None)
    statuses: frozenset[SessionStatus] | None = attrs.field(default=None, converter=_statuses)
    metadata: Mapping[str, str] | None = attrs.field(default=None, converter=_string_map)
    search: str | None = None
    order: ListOrder | None = attrs.field(
        default=None, converter=attrs.converters.optional(ListOrder)
    )

    @created_on.validator
    def _check_day(self, _: attrs.Attribute[str | None], value: str | None) -> None:
        if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"created_on must be 'YYYY-MM-DD', got {value!r}")
        if value is not None:
            datetime.strptime(value, "%Y-%m-%d")

    def matches(self, session: Session) -> bool:
        """Whether ``session`` passes every filter that can be checked on the neutral model
        (``search`` cannot and is ignored here)."""
        created = session.created_at
        if self.created_after is not None and (created is None or created < self.created_after):
            return False
        if self.created_before is not None and (created is None or created >= self.created_before):
            return False
        if self.created_on is not None and (
            created is None or created.date().isoformat() != self.created_on
        ):
            return False
        if self.statuses is not None and session.status not in self.statuses:
            return False
        if self.metadata:
            for key, value in self.metadata.items():
                if str(session.metadata.get(key)) != value or key not in session.metadata:
                    return False
        return True


__all__ = [
    "ChatMessage",
    "Participant",
    "Recording",
    "Session",
    "SessionQuery",
    "SessionRef",
    "SessionStatus",
    "Summary",
    "Transcript",
    "Turn",
    "Utterance",
    "Word",
]
