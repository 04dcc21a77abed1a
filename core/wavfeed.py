"""One WAV feed into a live backend: what ``convoport live`` and live re-processing share.

:func:`stream_wav` reads a WAV stream (constant memory: the header, then PCM in pieces),
starts a live session with the format the header declares, sends the audio while consuming
the session's events, finalizes, and returns the result. It stops sending as soon as the
vendor ends the session (its events say why) and never leaves a task behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING

from convoport._wav import WavStreamReader
from convoport.errors import LiveSessionError
from convoport.live import IngestResult, LiveEvent, LiveOptions

if TYPE_CHECKING:
    from convoport.client import AsyncClient

#: Audio per ``send_audio`` call, in seconds.
PIECE_SECONDS = 0.1


async def stream_wav(
    client: AsyncClient,
    chunks: AsyncIterator[bytes],
    *,
    languages: Iterable[str] = (),
    filename: str | None = None,
    realtime: bool = False,
    piece_seconds: float = PIECE_SECONDS,
    on_event: Callable[[LiveEvent], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    persist_to: AsyncClient | None = None,
) -> IngestResult:
    """Streams the WAV file in ``chunks`` into ``client``'s live ingest and returns the result.

    ``realtime`` paces the audio at its own speed (otherwise it is sent as fast as the backend
    takes it); ``piece_seconds`` is the audio per ``send_audio`` call; ``on_event`` sees every
    event in arrival order; ``on_bytes(n)`` is told of each piece of PCM sent (bytes);
    ``persist_to`` (an archive client) keeps what arrives as it arrives
    (:meth:`~convoport.LiveSessionBase.persist_to`). A file that is not WAV raises
    ``ConfigError`` before any session is started.
    """
    reader = WavStreamReader(chunks)
    fmt = await reader.format()
    options = LiveOptions(
        encoding=fmt.encoding,
        sample_rate=fmt.sample_rate,
        bit_depth=fmt.bit_depth,
        channels=fmt.channels,
        languages=tuple(languages),
        filename=filename,
    )
    bytes_per_second = fmt.sample_rate * fmt.block_align
    block = fmt.block_align
    piece = max(block, int(bytes_per_second * piece_seconds) // block * block)
    async with await client.start_live(options) as live:
        if persist_to is not None:
            live.persist_to(persist_to)

        async def feed() -> None:
            async for pcm in reader.pcm(piece):
                if live.ended:  # the vendor ended it: its event says why
                    return
                await live.send_audio(pcm)
                if on_bytes is not None:
                    on_bytes(len(pcm))
                if realtime:
                    await asyncio.sleep(len(pcm) / bytes_per_second)
            if not live.ended:
                await live.finalize()

        feeder = asyncio.create_task(feed())
        try:
            async for event in live.events():
                if on_event is not None:
                    on_event(event)
            try:
                await feeder
            except LiveSessionError:
                if not live.ended:
                    raise
        finally:
            if not feeder.done():
                feeder.cancel()
                await asyncio.gather(feeder, return_exceptions=True)
        return await live.wait()


__all__ = ["PIECE_SECONDS", "stream_wav"]
