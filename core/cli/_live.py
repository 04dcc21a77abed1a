"""``convoport live``: stream a WAV file into a live backend (``convoport.wavfeed``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from convoport.cli._app import EXIT_ERROR, State, cli, json_option
from convoport.cli._common import (
    connect_target,
    fmt_bytes,
    json_line,
    open_archive,
    run,
    sandbox_option,
    target_argument,
)


@cli.command("live")
@target_argument()
@click.argument("wav", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", multiple=True, help="Language hint (repeat).")
@click.option("--realtime/--no-realtime", default=False, help="Pace the audio at real-time speed.")
@click.option(
    "--archive",
    "archive_target",
    help="Store the session, transcript, summary and the audio in this archive (local:PATH).",
)
@sandbox_option
@json_option
@click.pass_obj
def live_command(
    state: State,
    target: str,
    wav: Path,
    language: tuple[str, ...],
    realtime: bool,
    archive_target: str | None,
    sandbox: bool,
) -> None:
    """Stream a WAV file into a live backend and print events as they come.

    With --archive, what the session produced (and the audio) is stored in an archive as it
    arrives and when it ends: for a vendor without a read-back API (Illocution) that is the
    only copy."""
    from convoport.archive import as_archive
    from convoport.live import FinalUtterance, LiveEvent, PartialTranscript
    from convoport.media import MediaSource
    from convoport.model import SessionStatus
    from convoport.serde import unstructure
    from convoport.wavfeed import stream_wav

    def show(event: LiveEvent) -> None:
        if state.json:
            click.echo(json_line(unstructure(event)))
        elif isinstance(event, FinalUtterance):
            u = event.utterance
            stamp = f"[{u.start:7.2f}s]" if u.start is not None else "[   —   ]"
            state.out.print(f"{stamp} {u.speaker or ''}: {u.text}", markup=False)
        elif isinstance(event, PartialTranscript):
            state.err.print(f"… {event.utterance.text}", markup=False, style="dim")
        else:
            state.err.print(f"[{event.kind}] {_event_text(event)}", markup=False)

    async def go() -> Any:
        from contextlib import AsyncExitStack

        async with AsyncExitStack() as stack:
            archive = None
            if archive_target is not None:
                archive = await stack.enter_async_context(open_archive(archive_target, create=True))
            client = await stack.enter_async_context(connect_target(target, sandbox))
            result = await stream_wav(
                client,
                MediaSource.of(wav).chunks(),
                languages=language,
                filename=wav.name,
                realtime=realtime,
                on_event=show,
                persist_to=archive,
            )
            if archive is not None:
                ref = await as_archive(archive.adapter).ingest(
                    result, media=wav, media_type="audio/wav"
                )
                state.err.print(f"stored {ref} in {archive_target}", markup=False)
            return result

    result = run(go())
    if not state.json:
        state.out.print(
            f"session {result.session.ref}: {result.session.status.value}, "
            f"{len(result.transcript.utterances)} utterances, {fmt_bytes(result.bytes_sent)}"
        )
    if result.session.status is not SessionStatus.COMPLETED:
        state.err.print(
            f"convoport: error: the live session ended {result.session.status.value}",
            markup=False,
        )
        raise SystemExit(EXIT_ERROR)


def _event_text(event: Any) -> str:
    for attr in ("phase", "message", "name", "session_id"):
        value = getattr(event, attr, None)
        if value:
            return str(value)
    return ""
