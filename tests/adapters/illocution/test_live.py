"""Live capture end to end against the emulator: faults, lost answers, keepalive, the single
consumer, expiry, cancel and the documented errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from convoport.adapters.illocution.emulator import AudioScript, IllocutionEmulator
from convoport.adapters.illocution.live import IllocutionLiveSession
from convoport.client import AsyncClient
from convoport.connect import connect
from convoport.errors import ConfigError, Conflict, LiveSessionError, NotFound
from convoport.http import RetryPolicy
from convoport.live import DoneEvent, ErrorEvent, LiveOptions
from convoport.model import SessionStatus
from convoport.sandbox import make_wav, tone_pcm
from tests.adapters.illocution.support import FakeClock, adapter_of, wait_until

FAST_RETRY = RetryPolicy(attempts=8, backoff_base=0.001, backoff_max=0.005)
CHUNK = 1 << 16


def _client(emulator: IllocutionEmulator, **options: object) -> AsyncClient:
    return connect(
        "illocution",
        transport=emulator.transport(),
        retry=FAST_RETRY,
        **{**emulator.connect_options(), **options},
    )


def _wav(seconds: float) -> bytes:
    return make_wav(tone_pcm(seconds, silence_every=1.0))


async def _start(client: AsyncClient, **options: object) -> IllocutionLiveSession:
    live = await client.start_live(LiveOptions(encoding="wav", **options))  # type: ignore[arg-type]
    assert isinstance(live, IllocutionLiveSession)
    return live


def _events_gets(emulator: IllocutionEmulator) -> int:
    return sum(1 for m, p in emulator.requests if m == "GET" and p.endswith("/events"))


@pytest.mark.anyio
async def test_wav_with_5xx_and_a_lost_answer_arrives_whole() -> None:
    emulator = IllocutionEmulator(seed=11)
    audio = _wav(20.0)
    async with _client(emulator) as client:
        live = await _start(client)
        chunk_path = f"/analyze/live/{live.session_id}/chunk"
        emulator.faults.paths = (chunk_path,)
        emulator.faults.fail_next = 2
        emulator.faults.error_rate = 0.25
        emulator.lose_response_for_chunks = {3}
        async with live:
            for i in range(0, len(audio), CHUNK):
                await live.send_audio(audio[i : i + CHUNK])
            await live.finalize()
            result = await live.wait()
    assert emulator.faults.injected.get("error", 0) >= 3
    assert not emulator.lose_response_for_chunks  # the lost answer happened
    chunk_posts = sum(1 for m, p in emulator.requests if m == "POST" and p == chunk_path)
    expected_chunks = -(-len(audio) // CHUNK)
    assert chunk_posts > expected_chunks  # retries reached the server
    assert emulator.bytes_received(live.session_id) == len(audio)
    assert live.next_chunk_seq == expected_chunks
    assert _events_gets(emulator) == 1
    assert result.session.status is SessionStatus.COMPLETED
    assert result.bytes_sent == len(audio)
    script = AudioScript(live.conversation_id or "")
    script.feed(audio)
    script.finish()
    assert [u.text for u in result.transcript.utterances] == [e["text"] for e in script.utterances]
    assert len(result.transcript.utterances) == 20
    assert result.transcript.speakers == ("Speaker_0", "Speaker_1")
    assert result.summary is not None
    assert "20 utterances" in result.summary.text


@pytest.mark.anyio
async def test_events_arrive_while_audio_is_sent() -> None:
    emulator = IllocutionEmulator(seed=1)
    audio = _wav(6.0)
    async with _client(emulator) as client, await _start(client) as live:
        events = []

        async def read() -> None:
            async for event in live.events():
                events.append(event)

        reader = asyncio.create_task(read())
        for i in range(0, len(audio), 32_000):
            await live.send_audio(audio[i : i + 32_000])
        await wait_until(lambda: any(e.kind == "final" for e in events))
        await live.finalize()
        await reader
        result = await live.wait()
    assert isinstance(events[-1], DoneEvent)
    assert [e.kind for e in events].count("final") == 6
    assert result.session.provider_data["conversation_id"] == live.conversation_id
    utterance = result.transcript.utterances[0]
    assert set(utterance.provider_data) >= {"utterance_id", "emotion", "cognitive"}


@pytest.mark.anyio
async def test_keepalive_is_sent_while_the_caller_is_silent() -> None:
    emulator = IllocutionEmulator(seed=2)
    clock = FakeClock()
    audio = _wav(3.0)
    async with _client(emulator) as client:
        adapter = adapter_of(client)
        adapter.clock = clock
        adapter.keepalive_poll = 0.002
        async with await _start(client, ttl=60) as live:
            await live.send_audio(audio[:CHUNK])
            clock.advance(29)
            await asyncio.sleep(0.03)
            assert live.keepalives_sent == 0
            clock.advance(2)  # 31 s of silence: past halfway to expires_at
            await wait_until(lambda: live.keepalives_sent == 1)
            emulator.advance(45)
            await asyncio.sleep(0.03)
            assert live.keepalives_sent == 1  # the deadline moved: no second one yet
            await live.send_audio(audio[CHUNK : 2 * CHUNK])  # a chunk also moves it
            clock.advance(20)
            await asyncio.sleep(0.03)
            assert live.keepalives_sent == 1
            clock.advance(11)
            await wait_until(lambda: live.keepalives_sent == 2)
            emulator.advance(45)  # 90 s since start: alive only thanks to the keepalives
            await live.send_audio(audio[2 * CHUNK :])
            await live.finalize()
            result = await live.wait()
    assert result.session.status is SessionStatus.COMPLETED
    assert emulator.bytes_received(live.session_id) == len(audio)


@pytest.mark.anyio
async def test_explicit_keepalive() -> None:
    emulator = IllocutionEmulator(seed=3)
    async with _client(emulator) as client, await _start(client, ttl=60) as live:
        await live.keepalive()
        assert live.keepalives_sent == 1
        await live.cancel()
        await live.wait()


@pytest.mark.anyio
async def test_second_consumer_is_refused_by_the_server() -> None:
    emulator = IllocutionEmulator(seed=4)
    async with _client(emulator) as client, await _start(client) as live:
        async with httpx.AsyncClient(transport=emulator.transport()) as other:
            response = await other.get(live.events_url, headers={"x-api-key": emulator.api_key})
        assert response.status_code == 409
        assert "already attached" in response.json()["detail"]
        with pytest.raises(LiveSessionError, match="already attached"):
            await live.attach()
        await live.cancel()
        await live.wait()
    assert _events_gets(emulator) == 2  # ours once, the intruder's once


@pytest.mark.anyio
async def test_a_lost_event_stream_is_never_reopened() -> None:
    emulator = IllocutionEmulator(seed=5)
    emulator.drop_events_after = 2
    async with _client(emulator) as client, await _start(client) as live:
        await live.send_audio(_wav(3.0)[:CHUNK])
        with pytest.raises(LiveSessionError, match=r"event stream .* was lost"):
            await live.wait()
        with pytest.raises(LiveSessionError, match="has ended"):
            await live.send_audio(b"more")
    assert _events_gets(emulator) == 1


@pytest.mark.anyio
async def test_ttl_out_of_range_fails_before_any_request() -> None:
    emulator = IllocutionEmulator(seed=6)
    async with _client(emulator) as client:
        for ttl in (59, 3601):
            with pytest.raises(ConfigError, match=r"60\.\.3600"):
                await client.start_live(LiveOptions(ttl=ttl))
    assert emulator.requests == []


@pytest.mark.anyio
async def test_expired_session_is_reported_as_expired() -> None:
    emulator = IllocutionEmulator(seed=7)
    audio = _wav(3.0)
    async with _client(emulator) as client:
        live = await _start(client, ttl=60)

        async def silent_for_61_seconds() -> None:
            async with live:
                await live.send_audio(audio[:CHUNK])
                emulator.advance(61)
                await live.send_audio(audio[CHUNK:])
                await live.finalize()

        with pytest.raises(LiveSessionError, match="has expired"):
            await silent_for_61_seconds()
    (outcome,) = await asyncio.gather(live.wait(), return_exceptions=True)
    if isinstance(outcome, BaseException):  # the upload's error reached the stream first
        assert isinstance(outcome, LiveSessionError)
        assert "expired" in str(outcome)
    else:  # the stream's error event (session_expired) arrived first
        assert outcome.session.status is SessionStatus.FAILED
        assert outcome.session.provider_status == "expired"


@pytest.mark.anyio
async def test_cancel_midstream() -> None:
    emulator = IllocutionEmulator(seed=8)
    audio = _wav(4.0)
    async with _client(emulator) as client, await _start(client) as live:
        await live.send_audio(audio[: 2 * CHUNK])
        await live.cancel()
        events = [e async for e in live.events()]
        result = await live.wait()
        with pytest.raises(LiveSessionError, match="has ended"):
            await live.send_audio(b"more")
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert last.fatal
    assert last.code == "cancelled"
    assert result.session.status is SessionStatus.CANCELLED
    assert emulator.sessions[live.session_id].phase == "cancelled"


@pytest.mark.anyio
async def test_an_exception_in_the_block_cancels_the_session() -> None:
    emulator = IllocutionEmulator(seed=9)
    async with _client(emulator) as client:
        live = await _start(client)
        with pytest.raises(RuntimeError):
            async with live:
                raise RuntimeError("caller failed")
    assert emulator.sessions[live.session_id].phase == "cancelled"


@pytest.mark.anyio
async def test_first_attempt_409_is_a_conflict_naming_both_sequences() -> None:
    emulator = IllocutionEmulator(seed=10)
    async with _client(emulator) as client:
        live = await _start(client)
        emulator.sessions[live.session_id].next_seq = 5
        with pytest.raises(Conflict) as caught:
            async with live:
                await live.send_audio(_wav(3.0))
    message = str(caught.value)
    assert "chunk_seq 0" in message
    assert "expects chunk_seq 5" in message
    assert caught.value.status_code == 409


@pytest.mark.anyio
async def test_live_routes_missing_on_the_deployment() -> None:
    emulator = IllocutionEmulator(seed=11, enable_live=False)
    async with _client(emulator) as client:
        with pytest.raises(NotFound, match=r"not enabled on this deployment \(ENABLE_LIVE_"):
            await client.start_live(LiveOptions())


@pytest.mark.anyio
async def test_raw_pcm_gets_one_wav_header() -> None:
    emulator = IllocutionEmulator(seed=12)
    pcm = tone_pcm(3.0, sample_rate=8000, silence_every=1.0)
    async with _client(emulator) as client:
        live = await client.start_live(LiveOptions(encoding="pcm", sample_rate=8000))
        async with live:
            await live.send_audio(pcm)
            await live.finalize()
            result = await live.wait()
    assert emulator.bytes_received(live.session_id) == len(pcm) + 44
    assert emulator.sessions[live.session_id].script.sample_rate == 8000
    assert len(result.transcript.utterances) == 3
    assert result.bytes_sent == len(pcm)


@pytest.mark.anyio
async def test_wrong_key_is_an_authentication_error() -> None:
    from convoport.errors import AuthenticationError

    emulator = IllocutionEmulator(seed=13)
    async with _client(emulator, api_key="wrong-key") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.start_live(LiveOptions())
    assert "wrong-key" not in str(caught.value)
    assert caught.value.status_code == 401


def test_sandbox_runs_in_process() -> None:
    async def go() -> SessionStatus:
        async with connect("illocution", sandbox=True) as client:
            live = await client.start_live(LiveOptions(encoding="wav"))
            async with live:
                await live.send_audio(_wav(2.0))
                await live.finalize()
                return (await live.wait()).session.status

    assert asyncio.run(go()) is SessionStatus.COMPLETED
