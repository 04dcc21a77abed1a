"""Streaming WAV reading: the format from the header, then PCM in pieces, constant memory.

Used to push archived recordings into live backends, which want raw PCM with a declared
sample rate, bit depth and channel count.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import attrs

from convoport.errors import ConfigError


@attrs.frozen(kw_only=True)
class WavFormat:
    """``sample_rate`` Hz, ``bit_depth`` bits per sample, ``channels``; ``encoding`` is
    ``"pcm"``, ``"alaw"`` or ``"ulaw"``."""

    sample_rate: int
    bit_depth: int
    channels: int
    encoding: str = "pcm"

    @property
    def block_align(self) -> int:
        return max(1, self.channels * self.bit_depth // 8)


_ENCODINGS = {1: "pcm", 6: "alaw", 7: "ulaw", 0xFFFE: "pcm"}

#: The formats a live backend can be fed: channels, sample rates (Hz) and bits per sample.
MAX_CHANNELS = 32
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 384_000
PCM_BITS = (8, 16, 24, 32)


def check_format(*, sample_rate: int, channels: int, bits: int, encoding: str = "pcm") -> None:
    """Refuses a format no live backend can take, with a ``ConfigError`` that says which
    field is wrong: ``channels`` 1..:data:`MAX_CHANNELS`, ``sample_rate``
    :data:`MIN_SAMPLE_RATE`..:data:`MAX_SAMPLE_RATE` Hz, ``bits`` one of :data:`PCM_BITS` (8
    for A-law and mu-law). Every WAV read (live, re-processing, the emulators) and every WAV
    header written goes through it."""
    if not 1 <= channels <= MAX_CHANNELS:
        raise ConfigError(
            f"the WAV file declares {channels} channels (1..{MAX_CHANNELS} are supported)",
            hint="the header is damaged or the file is not audio convoport can stream",
        )
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ConfigError(
            f"the WAV file declares a sample rate of {sample_rate} Hz "
            f"({MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz are supported)",
            hint="the header is damaged or the file is not audio convoport can stream",
        )
    allowed = (8,) if encoding in ("alaw", "ulaw") else PCM_BITS
    if bits not in allowed:
        raise ConfigError(
            f"the WAV file declares {bits}-bit {encoding} samples "
            f"({', '.join(map(str, allowed))}-bit are supported)",
            hint="convert it to 16-bit PCM (e.g. ffmpeg -i in.wav -c:a pcm_s16le out.wav)",
        )


def wav_header(
    *, sample_rate: int, channels: int, bits: int, fmt: int = 1, data_size: int | None = None
) -> bytes:
    """A 44-byte WAV header. ``data_size`` None: a stream of unknown length (RIFF and data
    sizes 0xFFFFFFFF, which transcoders such as ffmpeg read as "until the end"). A format
    :func:`check_format` refuses, or a ``data_size`` beyond 4 GiB, is a ``ConfigError``."""
    check_format(
        sample_rate=sample_rate,
        channels=channels,
        bits=bits,
        encoding={6: "alaw", 7: "ulaw"}.get(fmt, "pcm"),
    )
    if data_size is not None and not 0 <= data_size <= 0xFFFFFFFF - 36:
        raise ConfigError(f"a WAV file cannot hold {data_size} bytes of audio (4 GiB at most)")
    block_align = channels * bits // 8
    fmt_chunk = struct.pack(
        "<HHIIHH", fmt, channels, sample_rate, sample_rate * block_align, block_align, bits
    )
    data_len = 0xFFFFFFFF if data_size is None else data_size
    riff_len = 0xFFFFFFFF if data_size is None else 36 + data_size
    return (
        b"RIFF"
        + struct.pack("<I", riff_len)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt_chunk))
        + fmt_chunk
        + b"data"
        + struct.pack("<I", data_len)
    )


class WavStreamReader:
    """Reads a RIFF/WAVE stream chunk by chunk. Call :meth:`format` first, then :meth:`pcm`."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._format: WavFormat | None = None
        self._data_left: int | None = None
        self._eof = False

    async def _fill(self, size: int) -> bool:
        while len(self._buffer) < size and not self._eof:
            try:
                self._buffer += await anext(self._chunks)
            except StopAsyncIteration:
                self._eof = True
        return len(self._buffer) >= size

    async def _take(self, size: int) -> bytes:
        if not await self._fill(size):
            raise ConfigError("the recording is not a complete WAV file (header cut short)")
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    async def _skip(self, size: int) -> None:
        """Discards ``size`` bytes without holding them (a chunk may be large)."""
        while size > 0:
            await self._fill(min(size, 1 << 16))
            if not self._buffer:
                raise ConfigError("the recording is not a complete WAV file (chunk cut short)")
            step = min(size, len(self._buffer))
            del self._buffer[:step]
            size -= step

    async def format(self) -> WavFormat:
        """Parses the header up to the ``data`` chunk."""
        if self._format is not None:
            return self._format
        head = await self._take(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ConfigError(
                "the recording is not a WAV file",
                hint="live re-processing needs WAV (PCM) recordings; use a batch backend",
            )
        fmt: WavFormat | None = None
        while True:
            chunk_id, size = struct.unpack("<4sI", await self._take(8))
            if chunk_id == b"fmt ":
                if not 16 <= size <= 1024:
                    raise ConfigError(f"the WAV file's fmt chunk is malformed ({size} bytes)")
                body = await self._take(size + (size & 1))
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if tag not in _ENCODINGS:
                    raise ConfigError(f"unsupported WAV encoding (format tag {tag})")
                check_format(
                    sample_rate=rate, channels=channels, bits=bits, encoding=_ENCODINGS[tag]
                )
                fmt = WavFormat(
                    sample_rate=rate, bit_depth=bits, channels=channels, encoding=_ENCODINGS[tag]
                )
            elif chunk_id == b"data":
                if fmt is None:
                    raise ConfigError("the WAV file has no fmt chunk before its data")
                self._format = fmt
                # 0 or 0xFFFFFFFF: a streamed WAV whose size was never filled in.
                self._data_left = None if size in (0, 0xFFFFFFFF) else size
                return fmt
            else:
                await self._skip(size + (size & 1))

    async def pcm(self, piece: int) -> AsyncIterator[bytes]:
        """The PCM data in pieces of about ``piece`` bytes (whole sample frames)."""
        fmt = await self.format()
        step = max(fmt.block_align, piece - piece % fmt.block_align)
        left = self._data_left
        while True:
            want = step if left is None else min(step, left)
            if want <= 0:
                return
            await self._fill(want)
            if not self._buffer:
                return
            out = bytes(self._buffer[:want])
            del self._buffer[:want]
            if left is not None:
                left -= len(out)
            yield out
