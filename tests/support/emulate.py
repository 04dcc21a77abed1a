"""``convoport emulate NAME`` in a subprocess, over a real socket on a free local port.

:func:`emulate` starts the command with ``python -m convoport`` (the interpreter running the
tests), waits until the port accepts a connection (uvicorn binds it once the app is up), yields
the base URL and stops the process on the way out. The wait is bounded (:data:`START_TIMEOUT`
seconds); a process that exits or never listens fails with the end of its stderr in the
message.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

#: The longest wait, in seconds, for the emulator to listen (and for it to stop).
START_TIMEOUT = 30.0
#: The pause between two connection attempts, in seconds.
POLL_INTERVAL = 0.1
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_listening(
    proc: subprocess.Popen[bytes], port: int, command: str, stderr: IO[bytes]
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            exited = proc.poll() is not None
            if exited or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=START_TIMEOUT)
                stderr.seek(0)
                text = stderr.read().decode(errors="replace").strip()[-2000:]
                state = "exited" if exited else f"did not listen within {START_TIMEOUT:g} s"
                raise RuntimeError(f"{command!r} {state} (port {port}): {text}") from None
            time.sleep(POLL_INTERVAL)


@contextmanager
def serving(argv: list[str], port: int, what: str) -> Iterator[str]:
    """``python ARGV`` running a server on ``port`` (waited for, bounded); yields
    ``http://127.0.0.1:PORT`` and stops the process afterwards. ``what`` names it in errors."""
    # stderr goes to a file, not a pipe nobody reads: the access log cannot fill it and stall
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            _wait_until_listening(proc, port, what, stderr)
            yield f"http://{HOST}:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def emulate(name: str, *options: str) -> Iterator[str]:
    """``convoport emulate NAME --port P OPTIONS`` running; yields ``http://127.0.0.1:P``."""
    port = free_port()
    argv = ["-m", "convoport", "emulate", name, "--port", str(port), *options]
    with serving(argv, port, " ".join(["convoport", *argv[2:]])) as base:
        yield base


__all__ = ["START_TIMEOUT", "emulate", "free_port", "serving"]
