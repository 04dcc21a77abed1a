"""Get 1k transcripts from a local archive, per item, against SQLite ``SELECT`` + ``json.loads``.

    python bench/archive_transcripts.py [--transcripts 1000] [--rounds 5] [--archive PATH]

Builds an archive of ``--transcripts`` Gladia sessions with their transcripts (a migration
from the in-process sandbox; ``--archive PATH`` reuses one built before), then, interleaved,
``--rounds`` times each, for every session reference:

* baseline: ``sqlite3`` ``SELECT neutral FROM transcripts`` of the session (joined on its
  ref, the original first) and ``json.loads`` of the row;
* measured: ``await archive.get_transcript(ref)`` on ``convoport.connect("local:PATH")``.

Prints the time per transcript of each and last the ratio (the goal is <= 2x).
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

SQL = (
    "SELECT t.neutral FROM transcripts t JOIN sessions s ON s.pk = t.session_pk "
    "WHERE s.ref = ? ORDER BY t.is_original DESC, t.origin = 'commit' DESC, t.pk LIMIT 1"
)


def refs_of(path: str) -> list[str]:
    conn = sqlite3.connect(os.path.join(path, "catalog.sqlite"))
    refs = [
        r
        for (r,) in conn.execute(
            "SELECT DISTINCT s.ref FROM sessions s JOIN transcripts t ON t.session_pk = s.pk "
            "ORDER BY s.ref"
        )
    ]
    conn.close()
    return refs


def baseline(path: str, refs: list[str]) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(os.path.join(path, "catalog.sqlite"))
    for ref in refs:
        (text,) = conn.execute(SQL, (ref,)).fetchone()
        json.loads(text)
    conn.close()
    return time.perf_counter() - started


async def measured(path: str, refs: list[str]) -> float:
    started = time.perf_counter()
    async with convoport.connect("local:" + path) as archive:
        for ref in refs:
            await archive.get_transcript(ref)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--archive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.archive or os.path.join(tmp, "archive")
        if not os.path.exists(os.path.join(path, "catalog.sqlite")):
            started = time.perf_counter()
            held = build_archive(path, args.transcripts)
            print(f"built an archive of {held} sessions in {time.perf_counter() - started:.1f} s")
        refs = refs_of(path)[: args.transcripts]
        samples = interleaved(
            [
                ("SELECT + json.loads", lambda: baseline(path, refs) / len(refs) * 1e6),
                ("get_transcript", lambda: asyncio.run(measured(path, refs)) / len(refs) * 1e6),
            ],
            args.rounds,
        )
    base = median(samples["SELECT + json.loads"])
    ours = median(samples["get_transcript"])
    print(f"{len(refs)} transcripts, medians of {args.rounds} rounds")
    print(f"SELECT + json.loads: {base:7.1f} us per transcript")
    print(f"get_transcript:      {ours:7.1f} us per transcript")
    print(
        f"archive get_transcript / (SELECT + json.loads), per item: {ours / base:.2f}x (goal <= 2x)"
    )


if __name__ == "__main__":
    main()
