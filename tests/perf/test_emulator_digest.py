"""The Gladia emulator keeps a digest of live audio, not the audio (no timing)."""

from __future__ import annotations

import hashlib

import pytest

import convoport
from convoport import LiveOptions, SessionStatus
from convoport.adapters.gladia.emulator import GladiaEmulator
from convoport.sandbox import tone_pcm

pytestmark = pytest.mark.anyio


async def _stream(harness: GladiaEmulator, pcm: bytes, piece: int) -> convoport.IngestResult:
    async with (
        convoport.connect(
            "gladia",
            transport=harness.transport(),
            live_poll_interval=0.01,
            **harness.connect_options(),
        ) as client,
        await client.start_live(LiveOptions(sample_rate=16000)) as live,
    ):
        for start in range(0, len(pcm), piece):
            await live.send_audio(pcm[start : start + piece])
        await live.finalize()
        return await live.wait()


async def test_audio_beyond_the_limit_is_kept_as_a_digest() -> None:
    harness = GladiaEmulator(keep_audio_bytes=64_000)
    pcm = tone_pcm(6.5, sample_rate=16000, silence_every=1.0)  # 208,000 bytes
    result = await _stream(harness, pcm, 32_000)
    job = harness.job(result.session.id)
    assert harness.audio_digest(job.id) == (len(pcm), hashlib.sha256(pcm).hexdigest())
    assert harness.bytes_received(job.id) == len(pcm)
    assert job.wav is None
    assert job.file is None
    assert len(job.pending) == 0
    assert result.session.status is SessionStatus.COMPLETED
    assert [u.start for u in result.transcript.utterances] == [float(s) for s in range(7)]


async def test_the_transcript_does_not_depend_on_what_is_kept() -> None:
    pcm = tone_pcm(5.25, sample_rate=16000, silence_every=1.0)
    kept = await _stream(GladiaEmulator(), pcm, 24_000)
    digest_only = await _stream(GladiaEmulator(keep_audio_bytes=0), pcm, 24_000)
    assert [u.text for u in kept.transcript.utterances] == [
        u.text for u in digest_only.transcript.utterances
    ]
    assert kept.session.duration == digest_only.session.duration == 5.25


async def test_a_short_session_keeps_its_wav() -> None:
    harness = GladiaEmulator()
    pcm = tone_pcm(2.0, sample_rate=16000, silence_every=1.0)
    result = await _stream(harness, pcm, 10_000)
    job = harness.job(result.session.id)
    assert job.wav is not None
    assert job.wav.endswith(pcm)
    assert job.file is not None
