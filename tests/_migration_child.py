"""Run as a subprocess by tests/test_migrate_gladia.py: migrates the sandbox Gladia into an
archive and, when asked, kills itself with SIGKILL at a precise point.

    python -m tests._migration_child ARCHIVE [sessions N | bytes N | commit N]

ARCHIVE is a folder (a ``local:`` archive) or a ``postgresql://`` URL (its media go to the
folder named by the environment variable ``CHILD_MEDIA_ROOT``).

``sessions N`` dies right after the N-th session finished; ``bytes N`` dies once N media bytes
have been moved (in the middle of a recording); ``commit N`` dies at the N-th commit, after
the session's media were stored and before its transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from convoport.migration import migrate, progress_from


def main() -> None:
    archive = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else None
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    state = {"sessions": 0, "bytes": 0, "commit": 0}
    if mode == "commit":
        from convoport.store.sqlarchive import SqlArchive

        original = SqlArchive._commit_session

        async def commit(self: Any, bundle: Any) -> None:
            state["commit"] += 1
            if state["commit"] >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
            await original(self, bundle)

        SqlArchive._commit_session = commit  # type: ignore[method-assign]

    def on(kind: str, value: Any) -> None:
        if kind == "finished":
            state["sessions"] += 1
        elif kind == "bytes":
            state["bytes"] += value
        if mode in ("sessions", "bytes") and state[mode] >= limit:
            os.kill(os.getpid(), signal.SIGKILL)

    async def run() -> Any:
        if archive.startswith("postgresql:"):
            import convoport

            destination: Any = convoport.connect(
                archive, media_root=os.environ["CHILD_MEDIA_ROOT"], create=True
            )
        else:
            destination = f"local:{archive}"
        try:
            return await migrate(
                "gladia", destination, sandbox=True, progress=progress_from(on), concurrency=2
            )
        finally:
            if not isinstance(destination, str):
                await destination.aclose()

    report = asyncio.run(run())
    print(f"copied={report.copied} skipped={report.skipped} failed={report.failed}")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
