"""Migration speed-up from concurrency: 1,000 Gladia jobs, 20 ms injected per request.

    python bench/migrate_concurrency.py [--jobs 1000] [--latency-ms 20] [--concurrency 16]
                                        [--rounds 3] [--no-sniffio]

Serves the Gladia emulator on 127.0.0.1 (``bench/_serve.py``, every REST answer delayed by
``--latency-ms``) and migrates all its jobs into a fresh local archive, each run in a fresh
subprocess: with ``--concurrency 1`` (the baseline) and with ``--concurrency N``, interleaved,
``--rounds`` times each. Prints the median wall time of each, the client's CPU time as a
share of its wall time, the requests per copied job, and last the speed-up (baseline wall /
concurrent wall; the goal is >= 12x at 16). ``--no-sniffio`` makes ``import sniffio`` fail in
the children (as on an install without it) to measure what declaring it is worth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from _common import KEY, NO_SNIFFIO, emulator, interleaved, median, request_counts, run_child

CHILD = r"""
import asyncio, json, sys, time
import convoport
from convoport.migration import migrate

BASE, CONCURRENCY, ARCHIVE = sys.argv[1], int(sys.argv[2]), sys.argv[3]

async def main():
    src = convoport.connect("gladia", api_key="@KEY@", base_url=BASE)
    dst = convoport.connect("local:" + ARCHIVE, create=True)
    cpu, wall = time.process_time(), time.perf_counter()
    report = await migrate(src, dst, concurrency=CONCURRENCY)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await src.aclose()
    await dst.aclose()
    print(json.dumps({"seconds": wall, "cpu": cpu, "copied": report.copied,
                      "failed": report.failed, "skipped": report.skipped}))

asyncio.run(main())
""".replace("@KEY@", KEY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-sniffio", action="store_true")
    args = parser.parse_args()
    code = (NO_SNIFFIO if args.no_sniffio else "") + CHILD
    results: dict[str, list[dict[str, float]]] = {"c1": [], "cN": []}
    requests: list[float] = []

    with emulator(sessions=args.jobs, latency_ms=args.latency_ms) as base:

        def run(concurrency: int, name: str) -> float:
            request_counts(base, reset=True)
            with tempfile.TemporaryDirectory() as tmp:
                data = run_child(code, base, str(concurrency), tmp + "/archive")
            counts = request_counts(base)
            assert data["failed"] == 0, data
            results[name].append(data)
            requests.append(sum(counts.values()) / max(1, data["copied"]))
            return float(data["seconds"])

        samples = interleaved(
            [
                ("concurrency 1", lambda: run(1, "c1")),
                (f"concurrency {args.concurrency}", lambda: run(args.concurrency, "cN")),
            ],
            args.rounds,
        )
    one = median(samples["concurrency 1"])
    many = median(samples[f"concurrency {args.concurrency}"])
    cpu_share = median([r["cpu"] / r["seconds"] for r in results["cN"]])
    copied = int(results["cN"][0]["copied"])
    print(f"jobs: {args.jobs} ({copied} finished and copied), {args.latency_ms:g} ms per request")
    print(f"sniffio importable: {not args.no_sniffio}")
    print(f"concurrency 1:  {one:.2f} s (median of {args.rounds})")
    print(
        f"concurrency {args.concurrency}: {many:.2f} s (median of {args.rounds}); "
        f"client CPU {cpu_share:.0%} of wall"
    )
    print(f"requests per copied job: {median(requests):.2f}")
    print(f"speed-up concurrency {args.concurrency} vs 1: {one / many:.2f}x (goal >= 12x)")


if __name__ == "__main__":
    sys.exit(main())
