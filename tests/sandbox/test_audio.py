"""Generated audio, the WAV reading (core's reader) and the shared speech script."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from convoport.errors import ConfigError
from convoport.sandbox import (
    DEFAULT_FORMAT,
    PcmFeed,
    SpeechScript,
    WavFormat,
    channel_bytes,
    make_wav,
    seconds_of,
    tone_pcm,
    voiced_span,
    wav_info,
)


def test_tone_is_real_pcm_with_silent_halves() -> None:
    pcm = tone_pcm(2.0, sample_rate=8000, channels=2, silence_every=1.0)
    assert len(pcm) == 2 * 8000 * 2 * 2
    left, right = channel_bytes(pcm, 2, 2)
    assert len(left) == len(right) == 2 * 8000 * 2
    first_second = left[: 8000 * 2]
    assert first_second[: 4000 * 2].count(0) < 4000  # speech in the first half
    assert first_second[4000 * 2 :] == bytes(4000 * 2)  # silence in the second
    assert left != right  # channel c is at frequency * (c + 1)
    assert tone_pcm(2.0, sample_rate=8000, channels=2, silence_every=1.0) is pcm  # cached


def test_make_wav_matches_the_standard_library_and_wav_info_reads_it() -> None:
    pcm = tone_pcm(1.25, sample_rate=16000, channels=1)
    data = make_wav(pcm, sample_rate=16000, channels=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm)
    assert data == buffer.getvalue()
    assert wav_info(data) == (16000, 1, 2, 1.25)
    with pytest.raises(ConfigError, match="not a WAV"):
        wav_info(b"not a wav file at all")


def _with_list_chunk(pcm: bytes, *, rate: int, channels: int) -> bytes:
    """A WAV with an extra chunk before ``data`` (as many encoders write)."""
    plain = make_wav(pcm, sample_rate=rate, channels=channels)
    extra = b"LIST" + struct.pack("<I", 5) + b"abcde\0"  # odd size, padded
    body = plain[12:36] + extra + plain[36:]
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


@pytest.mark.parametrize("piece", [1, 3, 7, 44, 50, 1000, 1 << 20])
def test_pcm_feed_reads_a_wav_header_in_any_pieces(piece: int) -> None:
    pcm = tone_pcm(0.5, sample_rate=8000, channels=2)
    data = _with_list_chunk(pcm, rate=8000, channels=2)
    feed = PcmFeed()
    out = b"".join(feed.feed(data[i : i + piece]) for i in range(0, len(data), piece))
    out += feed.flush()
    assert out == pcm
    assert feed.known
    assert (feed.format.sample_rate, feed.format.channels, feed.format.bit_depth) == (8000, 2, 16)


def test_pcm_feed_takes_anything_else_as_raw_default_pcm() -> None:
    feed = PcmFeed()
    assert feed.feed(b"\x01\x02") == b"\x01\x02"  # not a RIFF prefix: raw at once
    assert feed.format == DEFAULT_FORMAT
    short = PcmFeed()
    assert short.feed(b"RI") == b""  # could still be a header
    assert short.flush() == b"RI"  # the stream ended: it was audio
    broken = PcmFeed()
    bad_fmt = b"RIFF" + b"\0" * 4 + b"WAVE" + b"fmt " + struct.pack("<I", 2) + b"xx" + b"data"
    assert broken.feed(bad_fmt) == bad_fmt  # a malformed header: all of it is audio
    assert broken.format == DEFAULT_FORMAT


def test_seconds_of_and_voiced_span() -> None:
    fmt = WavFormat(sample_rate=8000, bit_depth=16, channels=2)
    pcm = tone_pcm(2.5, sample_rate=8000, channels=2, silence_every=1.0)
    pieces = list(seconds_of(pcm, fmt))
    assert [(s, c) for s, c, _, _ in pieces] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [round(seconds, 3) for _, _, _, seconds in pieces][-1] == 0.5
    mono = WavFormat(sample_rate=8000, bit_depth=16, channels=1)
    window = tone_pcm(1.0, sample_rate=8000, silence_every=1.0)
    assert voiced_span(window, mono) == (0, 50)  # speech in the first half, 10 ms blocks
    assert voiced_span(bytes(16000), mono) is None


def test_speech_script_is_a_pure_function_of_the_audio() -> None:
    fixed = SpeechScript(vocabulary=("a", "b", "c"), min_words=3, max_words=3)
    varying = SpeechScript(vocabulary=("a", "b", "c"), min_words=3, max_words=6)
    audio = tone_pcm(0.1, sample_rate=8000)
    words, digest = fixed.hear(b"0:0:", audio)
    assert digest == SpeechScript.digest(b"0:0:", audio)
    assert words == [("a", "b", "c")[digest[i] % 3] for i in range(3)]
    assert fixed.hear(b"0:0:", audio) == (words, digest)  # same audio, same words
    assert fixed.hear(b"0:1:", audio)[1] != digest  # the key is part of it
    many, digest2 = varying.hear(b"k", audio)
    assert len(many) == 3 + digest2[0] % 4
    assert many == [("a", "b", "c")[digest2[1 + i] % 3] for i in range(len(many))]
    with pytest.raises(ConfigError):
        SpeechScript(vocabulary=(), min_words=1, max_words=1)
    with pytest.raises(ConfigError):
        SpeechScript(vocabulary=("a",), min_words=4, max_words=3)


def test_both_emulators_use_the_shared_script() -> None:
    from convoport.adapters.gladia import emulator as gladia
    from convoport.adapters.illocution import emulator as illocution

    assert isinstance(gladia.SCRIPT, SpeechScript)
    assert isinstance(illocution.SCRIPT, SpeechScript)
    audio = tone_pcm(1.0, sample_rate=8000)
    utterance = gladia.utterance_for(audio, second=0, channel=0, seconds=1.0, language="en")
    assert utterance["text"].split() == gladia.SCRIPT.hear(b"0:0:", audio)[0]
