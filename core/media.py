"""Media inputs for ingest: a file path, bytes, or a stream of byte chunks.

Readers never hold a whole file in memory: a path is read in ``chunk_size`` pieces, an
iterable is passed through. :func:`wav_header` writes the 44-byte header that turns raw PCM
(or A-law/u-law) into a WAV stream, for vendors that transcode by container.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from pathlib import Path

import anyio
import attrs

from convoport._wav import wav_header
from convoport.errors import ConfigError

#: Anything convoport accepts as media: a path, bytes, or (async) iterables of byte chunks.
MediaInput = str | os.PathLike[str] | bytes | Iterable[bytes] | AsyncIterable[bytes]

DEFAULT_CHUNK = 1 << 16


@attrs.frozen(kw_only=True)
class MediaSource:
    """Media plus what is known about it. ``size`` is bytes when known; ``filename`` and
    ``media_type`` are hints for vendors that infer the container from them."""

    data: bytes | Path | Iterable[bytes] | AsyncIterable[bytes]
    filename: str | None = None
    media_type: str | None = None
    size: int | None = None

    @classmethod
    def of(
        cls,
        media: MediaInput | MediaSource,
        *,
        filename: str | None = None,
        media_type: str | None = None,
    ) -> MediaSource:
        """Wraps any accepted input. A path must name an existing regular file."""
        if isinstance(media, MediaSource):
            return media
        if isinstance(media, (str, os.PathLike)):
            path = Path(media)
            if not path.is_file():
                raise ConfigError(f"no such media file: {path}", hint="check the path")
            name = filename or path.name
            guessed = media_type or mimetypes.guess_type(name)[0]
            return cls(data=path, filename=name, media_type=guessed, size=path.stat().st_size)
        if isinstance(media, (bytes, bytearray, memoryview)):
            data = bytes(media)
            return cls(data=data, filename=filename, media_type=media_type, size=len(data))
        return cls(data=media, filename=filename, media_type=media_type)

    async def chunks(self, chunk_size: int = DEFAULT_CHUNK) -> AsyncIterator[bytes]:
        """The media in chunks of at most ``chunk_size`` bytes (iterables: as they come,
        split when larger)."""
        data = self.data
        if isinstance(data, bytes):
            for i in range(0, len(data), chunk_size):
                yield data[i : i + chunk_size]
            return
        if isinstance(data, Path):
            async with await anyio.open_file(data, "rb") as fh:
                while block := await fh.read(chunk_size):
                    yield block
            return
        if isinstance(data, AsyncIterable):
            async for block in data:
                for i in range(0, len(block), chunk_size):
                    yield bytes(block[i : i + chunk_size])
            return
        for block in data:
            for i in range(0, len(block), chunk_size):
                yield bytes(block[i : i + chunk_size])


__all__ = ["MediaInput", "MediaSource", "wav_header"]
