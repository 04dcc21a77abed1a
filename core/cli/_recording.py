"""``convoport recording download``: the library's ``download_recording`` with a bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from convoport.cli._app import State, cli, json_option
from convoport.cli._common import (
    BytesProgress,
    connect_target,
    fmt_bytes,
    run,
    sandbox_option,
    target_argument,
)


@cli.group("recording")
def recording_group() -> None:
    """Recordings."""


@recording_group.command("download")
@target_argument()
@click.argument("session_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: the recording's file name).",
)
@click.option("--recording-id", help="Which recording (default: the first).")
@sandbox_option
@json_option
@click.pass_obj
def recording_download(
    state: State,
    target: str,
    session_id: str,
    output: Path | None,
    recording_id: str | None,
    sandbox: bool,
) -> None:
    """Stream a session's recording to a file (constant memory); prints its size and sha256.

    Without --output the file is written in the current folder under the recording's name."""
    import hashlib

    async def go() -> tuple[Any, str]:
        digest = hashlib.sha256()
        with BytesProgress(state, None, session_id) as advance:

            def seen(recording: Any, chunk: bytes) -> None:
                digest.update(chunk)
                advance(len(chunk))

            async with connect_target(target, sandbox) as client:
                rec = await client.download_recording(
                    session_id, output or Path("."), recording_id=recording_id, on_chunk=seen
                )
        return rec, digest.hexdigest()

    rec, sha = run(go())
    path = (
        output if output is not None and not output.is_dir() else Path(output or ".") / rec.filename
    )
    size = rec.size or 0
    if state.json:
        state.emit_json({"recording": rec.id, "path": str(path), "size": size, "sha256": sha})
    else:
        state.out.print(f"saved {path} ({fmt_bytes(size)}, sha256 {sha[:16]}…)")
