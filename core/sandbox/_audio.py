"""Generated audio, and the scripted words an emulator "hears" in audio it receives.

Everything here is deterministic: the same bytes in give the same words out, so a recording
made against an emulator replays exactly. WAV files are read with convoport's one WAV reader
(:class:`convoport._wav.WavStreamReader`) and written with its header writer.
"""

from __future__ import annotations

import array
import hashlib
import math
import sys
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import attrs

from convoport._wav import WavFormat, WavStreamReader, wav_header
from convoport.errors import ConfigError

T = TypeVar("T")

#: The format assumed for audio that is not a WAV file: 16 kHz mono 16-bit PCM.
DEFAULT_FORMAT = WavFormat(sample_rate=16000, bit_depth=16, channels=1)
#: How much of a stream is searched for a WAV ``data`` chunk before it is taken as raw PCM.
MAX_WAV_HEADER = 1 << 20

_TONES: dict[tuple[float, int, int, float, float, float | None], bytes] = {}


# -- generated audio ---------------------------------------------------------------------------


def tone_pcm(
    seconds: float,
    *,
    sample_rate: int = 16000,
    channels: int = 1,
    frequency: float = 440.0,
    amplitude: float = 0.3,
    silence_every: float | None = None,
) -> bytes:
    """16-bit little-endian PCM, ``seconds`` long: a sine tone per channel (channel *c* at
    ``frequency*(c+1)`` Hz, peak ``amplitude`` of full scale), optionally silent for the
    second half of every ``silence_every`` seconds, so emulators can derive utterance
    boundaries from the audio itself. Results are cached (seeded emulators ask for the same
    few tones thousands of times)."""
    key = (seconds, sample_rate, channels, frequency, amplitude, silence_every)
    cached = _TONES.get(key)
    if cached is not None:
        return cached
    frames = int(seconds * sample_rate)
    peak = int(32767 * amplitude)
    omegas = [2 * math.pi * frequency * (c + 1) for c in range(channels)]
    samples = array.array("h", bytes(2 * frames * channels))
    for i in range(frames):
        t = i / sample_rate
        if silence_every is not None and (t % silence_every) >= silence_every / 2:
            continue
        base = i * channels
        for c, omega in enumerate(omegas):
            samples[base + c] = int(peak * math.sin(omega * t))
    if sys.byteorder == "big":
        samples.byteswap()
    pcm = samples.tobytes()
    if len(_TONES) >= 64:
        _TONES.clear()
    _TONES[key] = pcm
    return pcm


def make_wav(
    pcm: bytes, *, sample_rate: int = 16000, channels: int = 1, sample_width: int = 2
) -> bytes:
    """Wraps PCM (``sample_width`` bytes per sample) in a RIFF/WAVE container."""
    header = wav_header(
        sample_rate=sample_rate, channels=channels, bits=8 * sample_width, data_size=len(pcm)
    )
    return header + pcm


def wav_info(data: bytes) -> tuple[int, int, int, float]:
    """``(sample_rate, channels, sample_width, duration seconds)`` of a whole WAV file;
    ``ConfigError`` when it is not one."""
    reader = WavStreamReader(_once(data))
    fmt = run_sync(reader.format())
    size = len(run_sync(_join(reader.pcm(1 << 16))))
    duration = (size // fmt.block_align) / fmt.sample_rate if fmt.sample_rate else 0.0
    return fmt.sample_rate, fmt.channels, fmt.bit_depth // 8, duration


def channel_bytes(pcm: bytes, channels: int, sample_width: int) -> list[bytes]:
    """De-interleaves PCM into one byte string per channel."""
    if channels == 1:
        return [pcm]
    if sample_width == 2:
        samples = array.array("h")
        samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
        return [samples[c::channels].tobytes() for c in range(channels)]
    frame = channels * sample_width
    return [
        b"".join(pcm[i : i + sample_width] for i in range(c * sample_width, len(pcm), frame))
        for c in range(channels)
    ]


def seconds_of(pcm: bytes, fmt: WavFormat) -> Iterator[tuple[int, int, bytes, float]]:
    """Cuts interleaved PCM into one-second windows and each window into channels: yields
    ``(second, channel, bytes of that channel in that second, seconds covered <= 1)`` in time
    order, then channel order (empty pieces are skipped)."""
    width = max(1, fmt.bit_depth // 8)
    per_channel = channel_bytes(pcm, fmt.channels, width)
    second_bytes = fmt.sample_rate * width
    total = len(per_channel[0]) if per_channel else 0
    for second in range((total + second_bytes - 1) // second_bytes):
        for channel, data in enumerate(per_channel):
            piece = data[second * second_bytes : (second + 1) * second_bytes]
            if piece:
                yield second, channel, piece, len(piece) / second_bytes


def voiced_span(window: bytes, fmt: WavFormat, *, resolution: int = 100) -> tuple[int, int] | None:
    """The first and one-past-the-last block of ``window`` holding a non-zero byte, in
    blocks of ``1/resolution`` seconds (whole sample frames); None when it is all silence."""
    frame = fmt.block_align
    block = max(1, fmt.sample_rate * frame // resolution)
    block = max(block - block % frame, 1)
    voiced = [
        index
        for index, start in enumerate(range(0, len(window), block))
        if window[start : start + block].count(0) != len(window[start : start + block])
    ]
    if not voiced:
        return None
    return voiced[0], voiced[-1] + 1


# -- reading WAV pieces with convoport's reader --------------------------------------------------


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine that never waits (it reads from memory) to its end, without an event
    loop; ``RuntimeError`` if it does wait."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("an in-memory read waited for I/O")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _join(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in chunks])


class _Head:
    """The bytes seen so far, as an async iterator that notes whether the reader wanted more."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.wanted_more = False
        self._given = False

    def __aiter__(self) -> _Head:
        return self

    async def __anext__(self) -> bytes:
        if not self._given:
            self._given = True
            return self.data
        self.wanted_more = True
        raise StopAsyncIteration


class PcmFeed:
    """Audio bytes in, in any pieces; PCM out. A stream that starts as a RIFF/WAVE file has
    its header read (convoport's WAV reader) and its format taken from the ``fmt`` chunk; any
    other stream is raw PCM in ``default`` format. The header is held until it is complete
    (at most :data:`MAX_WAV_HEADER` bytes; past that, or if it is malformed, the stream is
    taken as raw PCM); after it, bytes pass straight through."""

    def __init__(self, default: WavFormat = DEFAULT_FORMAT) -> None:
        self.format = default
        self.known = False
        self._head = b""

    def feed(self, data: bytes) -> bytes:
        """Adds bytes; returns the PCM they complete (``b""`` while a header is pending)."""
        if self.known:
            return data
        self._head += data
        head = self._head
        if len(head) < 12:
            if b"RIFF".startswith(head[:4]):
                return b""
            return self._raw()
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return self._raw()
        source = _Head(head)
        reader = WavStreamReader(source)
        try:
            fmt = run_sync(reader.format())
        except ConfigError:
            if source.wanted_more and len(head) <= MAX_WAV_HEADER:
                return b""
            return self._raw()
        self.format = WavFormat(
            sample_rate=max(1, fmt.sample_rate),
            bit_depth=max(8, fmt.bit_depth),
            channels=max(1, fmt.channels),
            encoding=fmt.encoding,
        )
        self.known = True
        self._head = b""
        return run_sync(_join(reader.pcm(max(1, len(head)))))

    def flush(self) -> bytes:
        """The end of the stream: a header still pending is taken as raw PCM."""
        return b"" if self.known else self._raw()

    def _raw(self) -> bytes:
        self.known = True
        head, self._head = self._head, b""
        return head


# -- the scripted words -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SpeechScript:
    """The words an emulator "hears": a pure function of the audio. Every emulator uses the
    same rule with its own vocabulary:

    * a piece of audio (one second of one channel, say) and a ``key`` naming where it sits
      (its index, its channel) give ``digest = sha256(key + audio)``;
    * the word count is ``min_words`` plus ``digest[0] % (max_words - min_words + 1)`` when
      the two differ, and then the words come from ``digest[1:]``; with a fixed count they
      come from ``digest[0:]``; each byte picks ``vocabulary[byte % len(vocabulary)]``.

    The remaining digest bytes are the emulator's to derive confidences and scores from, so
    they too follow the audio.
    """

    vocabulary: tuple[str, ...]
    min_words: int = 3
    max_words: int = 3

    def __attrs_post_init__(self) -> None:
        if not self.vocabulary or not 1 <= self.min_words <= self.max_words <= 16:
            raise ConfigError("a speech script needs words and 1 <= min_words <= max_words <= 16")

    @staticmethod
    def digest(key: bytes, audio: bytes) -> bytes:
        """The SHA-256 of ``key`` followed by ``audio``."""
        return hashlib.sha256(key + audio).digest()

    def words(self, digest: bytes) -> list[str]:
        """The words a digest stands for (see the class docstring)."""
        size = len(self.vocabulary)
        if self.min_words == self.max_words:
            return [self.vocabulary[digest[i] % size] for i in range(self.min_words)]
        count = self.min_words + digest[0] % (self.max_words - self.min_words + 1)
        return [self.vocabulary[digest[1 + i] % size] for i in range(count)]

    def hear(self, key: bytes, audio: bytes) -> tuple[list[str], bytes]:
        """``(words, digest)`` for a piece of audio at ``key``."""
        digest = self.digest(key, audio)
        return self.words(digest), digest


__all__ = [
    "DEFAULT_FORMAT",
    "PcmFeed",
    "SpeechScript",
    "WavFormat",
    "channel_bytes",
    "make_wav",
    "run_sync",
    "seconds_of",
    "tone_pcm",
    "voiced_span",
    "wav_info",
]
