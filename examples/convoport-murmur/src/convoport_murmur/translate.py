"""Murmur payloads -> the neutral model (pure functions)."""

from typing import Any

from convoport import Session, SessionStatus, Transcript, Utterance
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
