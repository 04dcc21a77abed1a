"""Murmur payloads -> the neutral model (pure functions)."""

from typing import Any

from convoport import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionStatus,
    Transcript,
    Utterance,
)
from convoport.spi import Payload

PROVIDER = "murmur"

#: Murmur's call states; an unknown state means the call exists but is still changing.
STATES = {
    "recording": SessionStatus.ACTIVE,
    "transcribing": SessionStatus.PROCESSING,
    "ready": SessionStatus.COMPLETED,
    "failed": SessionStatus.FAILED,
}
NEUTRAL_TO_STATE = {v: k for k, v in STATES.items()}


def session_from_call(data: Any) -> Session:
    call = Payload(PROVIDER, data, "$")
    state = call.string("state")
    duration_ms = call.opt_number("duration_ms")
    started = call.opt_timestamp("started_at")
    return Session(
        provider=PROVIDER,
        id=call.string("id"),
        status=STATES.get(state, SessionStatus.PROCESSING),
        provider_status=state,
        created_at=started,
        started_at=started,
        ended_at=call.opt_timestamp("ended_at"),
        duration=None if duration_ms is None else duration_ms / 1000,
        title=call.opt_string("title"),
        metadata=call.mapping("tags"),
        provider_data=dict(call.data),
    )


def transcript_from_payload(data: Any) -> Transcript:
    payload = Payload(PROVIDER, data, "$")
    utterances = []
    for seg in payload.objects("segments"):
        utterances.append(
            Utterance(
                text=seg.string("text"),
                start=seg.number("start_ms") / 1000,
                end=seg.number("end_ms") / 1000,
                speaker=seg.opt_string("speaker"),
                provider_data=dict(seg.data),
            )
        )
    return Transcript(
        session_id=payload.string("call_id"),
        utterances=tuple(utterances),
        language=payload.opt_string("language"),
        engine=PROVIDER,
        provider_data=dict(payload.data),
    )


def participant_from_payload(call_id: str, data: Any) -> Participant:
    person = Payload(PROVIDER, data, "$")
    return Participant(
        id=person.string("id"),
        session_id=call_id,
        display_name=person.opt_string("name"),
        role=person.opt_string("role"),
        joined_at=person.opt_timestamp("joined_at"),
        left_at=person.opt_timestamp("left_at"),
        provider_data=dict(person.data),
    )


def message_from_payload(call_id: str, data: Any) -> ChatMessage:
    message = Payload(PROVIDER, data, "$")
    return ChatMessage(
        id=message.string("id"),
        session_id=call_id,
        text=message.string("text"),
        sent_at=message.opt_timestamp("sent_at"),
        sender_id=message.opt_string("author_id"),
        sender_name=message.opt_string("author_name"),
        provider_data=dict(message.data),
    )


def recording_from_payload(call_id: str, data: Any) -> Recording:
    """A recording; ``url`` is a pre-signed link on Murmur's media host, valid until
    ``url_expires_at``."""
    item = Payload(PROVIDER, data, "$")
    duration_ms = item.opt_number("duration_ms")
    size = item.opt_number("size")
    return Recording(
        id=item.string("id"),
        session_id=call_id,
        media_type=item.opt_string("content_type"),
        filename=f"{item.string('id')}.wav",
        duration=None if duration_ms is None else duration_ms / 1000,
        size=None if size is None else int(size),
        url=item.opt_string("url"),
        expires_at=item.opt_timestamp("url_expires_at"),
        provider_data=dict(item.data),
    )
