"""List 10k sessions from a local archive, per item, against SQLite ``SELECT`` + ``json.loads``.

    python bench/archive_list.py [--sessions 10000] [--rounds 5] [--archive PATH]

Builds an archive of ``--sessions`` Gladia sessions (a migration from the in-process sandbox,
transcripts only; ``--archive PATH`` reuses one built before), then, interleaved, ``--rounds``
times each:

* baseline: ``sqlite3`` ``SELECT neutral FROM sessions ORDER BY created_at DESC, ref DESC``
  and ``json.loads`` of every row (what any reader of the catalog must at least do);
* measured: ``convoport.connect("local:PATH").list_sessions()`` (async), every ``Session``.

Prints the time per item of each and last the ratio (the goal is <= 1.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time

from _common import build_archive, interleaved, median

import convoport


def baseline(path: str) -> tuple[float, int]:
    started = time.perf_counter()
    conn = sqlite3.connect(os.path.join(path, "catalog.sqlite"))
    rows = conn.execute(
        "SELECT neutral FROM sessions ORDER BY created_at IS NULL, created_at DESC, ref DESC"
    )
    count = 0
    for (text,) in rows:
        json.loads(text)
        count += 1
    conn.close()
    return time.perf_counter() - started, count


async def measured(path: str) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    async with convoport.connect("local:" + path) as archive:
        async for _ in archive.list_sessions():
            count += 1
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--archive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.archive or os.path.join(tmp, "archive")
        if not os.path.exists(os.path.join(path, "catalog.sqlite")):
            started = time.perf_counter()
            held = build_archive(path, args.sessions)
            print(f"built an archive of {held} sessions in {time.perf_counter() - started:.1f} s")
        counts: set[int] = set()

        def per_item(result: tuple[float, int]) -> float:
            counts.add(result[1])
            return result[0] / result[1] * 1e6

        samples = interleaved(
            [
                ("SELECT + json.loads", lambda: per_item(baseline(path))),
                ("list_sessions", lambda: per_item(asyncio.run(measured(path)))),
            ],
            args.rounds,
        )
        assert len(counts) == 1, counts
    base = median(samples["SELECT + json.loads"])
    ours = median(samples["list_sessions"])
    print(f"{counts.pop()} sessions, medians of {args.rounds} rounds")
    print(f"SELECT + json.loads: {base:7.1f} us per session")
    print(f"list_sessions:       {ours:7.1f} us per session")
    print(
        f"archive list_sessions / (SELECT + json.loads), per item: {ours / base:.2f}x "
        "(goal <= 1.5x)"
    )


if __name__ == "__main__":
    main()
