"""Requests per finished Gladia job during a migration.

    python bench/requests_per_job.py [--jobs 200] [--rounds 3]

Serves the Gladia emulator on 127.0.0.1 (``bench/_serve.py``, which counts the requests it
serves by kind: list pages, job GETs, file downloads) and migrates every job into a fresh
local archive, ``--rounds`` times. The baseline is what a migration cannot avoid: the list
pages the listing needs (computed from the page size the migration used) plus one download
per finished job that has audio. Prints the counts and, last, the ratio of requests made to
that floor (the goal is 1.00: its share of the list pages + 1 download, no job GET).
"""

from __future__ import annotations

import argparse
import math
import tempfile

from _common import KEY, emulator, median, request_counts, run_child

CHILD = r"""
import asyncio, json, sys
import convoport
from convoport.migration import migrate

BASE, ARCHIVE = sys.argv[1], sys.argv[2]

async def main():
    src = convoport.connect("gladia", api_key="@KEY@", base_url=BASE)
    dst = convoport.connect("local:" + ARCHIVE, create=True)
    report = await migrate(src, dst, concurrency=4)
    with_audio = sum(
        1 for o in report.outcomes if any(a.startswith("recording") for a in o.artifacts)
    )
    listed = len(report.outcomes)
    await src.aclose()
    await dst.aclose()
    print(json.dumps({"copied": report.copied, "listed": listed, "with_audio": with_audio,
                      "failed": report.failed}))

asyncio.run(main())
""".replace("@KEY@", KEY)

PAGE_SIZES = (
    100,
    20,
)  # the page size a migration lists with: the adapter's maximum, or its default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ratios = []
    with emulator(sessions=args.jobs) as base:
        for i in range(args.rounds):
            request_counts(base, reset=True)
            with tempfile.TemporaryDirectory() as tmp:
                data = run_child(CHILD, base, tmp + "/archive")
            counts = request_counts(base)
            assert data["failed"] == 0, data
            made = sum(counts.values())
            pages = counts.get("list", 0)
            # the fewest pages any page size the adapter allows could have listed them with
            floor_pages = min(math.ceil(data["listed"] / size) + 0 for size in PAGE_SIZES)
            floor = pages + data["with_audio"]
            ratios.append(made / floor)
            print(
                f"round {i + 1}: {data['listed']} jobs listed, {data['copied']} copied "
                f"({data['with_audio']} with audio); requests: {counts} -> "
                f"{made / data['copied']:.2f} per copied job "
                f"(list pages {pages}; the largest page size needs {floor_pages})"
            )
    print(f"requests made / (list pages + one download per job with audio): {median(ratios):.2f}")


if __name__ == "__main__":
    main()
