"""Migration speed-up from concurrency: 1,000 Gladia jobs, 20 ms injected per request.

    python bench/migrate_concurrency.py [--jobs 1000] [--latency-ms 20] [--concurrency 16]
                                        [--rounds 3] [--no-sniffio]

Serves the Gladia emulator on 127.0.0.1 (``bench/_serve.py``, every REST answer delayed by
``--latency-ms``) and migrates all its jobs into a fresh local archive, each run in a fresh
subprocess: with ``--concurrency 1`` (the baseline) and with ``--concurrency N``, interleaved,
``--rounds`` times each. Prints the median wall time of each, the client's CPU time as a
share of its wall time (and per listed job), the emulator's CPU share and how busy that
leaves the machine, the requests per copied job, the floor (raw httpx downloading the same
files one after another, in its own process: CPU per download, against the CPU per copied job
a 12x speed-up would leave), and last the speed-up (baseline wall / concurrent wall; the goal
is >= 12x at 16). ``--no-sniffio`` makes ``import sniffio`` fail in
the children (as on an install without it) to measure what declaring it is worth.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from _common import (
    KEY,
    NO_SNIFFIO,
    emulator,
    emulator_cpu,
    interleaved,
    median,
    request_counts,
    run_child,
)

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

#: the floor: raw httpx downloading the same files one after the other (no archive), CPU each
FLOOR = r"""
import asyncio, json, sys, time
import httpx

BASE = sys.argv[1]

async def main():
    async with httpx.AsyncClient(headers={"x-gladia-key": "@KEY@"}) as client:
        url, ids = f"{BASE}/v2/live?offset=0&limit=100", []
        while url:
            page = (await client.get(url)).json()
            ids += [job["id"] for job in page["items"] if job["status"] == "done"]
            url = page["next"] if page["items"] else None
        cpu, wall = time.process_time(), time.perf_counter()
        for ident in ids:
            async with client.stream("GET", f"{BASE}/v2/live/{ident}/file") as answer:
                async for _ in answer.aiter_raw():
                    pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"downloads": len(ids), "cpu": cpu, "seconds": wall}))

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
            served = emulator_cpu(base)
            with tempfile.TemporaryDirectory() as tmp:
                data = run_child(code, base, str(concurrency), tmp + "/archive")
            data["emulator_cpu"] = emulator_cpu(base) - served
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
        # (the injected latency is a sleep in the emulator: it adds no client CPU)
        floors = [run_child(FLOOR, base) for _ in range(args.rounds)]
    floor_ms = median([f["cpu"] / max(1, f["downloads"]) * 1e3 for f in floors])
    one = median(samples["concurrency 1"])
    many = median(samples[f"concurrency {args.concurrency}"])
    cpu_share = median([r["cpu"] / r["seconds"] for r in results["cN"]])
    served_share = median([r["emulator_cpu"] / r["seconds"] for r in results["cN"]])
    cpu_per_job = median([r["cpu"] / args.jobs * 1e3 for r in results["cN"]])
    cores = os.cpu_count() or 1
    copied = int(results["cN"][0]["copied"])
    print(f"jobs: {args.jobs} ({copied} finished and copied), {args.latency_ms:g} ms per request")
    print(f"sniffio importable: {not args.no_sniffio}")
    print(f"concurrency 1:  {one:.2f} s (median of {args.rounds})")
    print(
        f"concurrency {args.concurrency}: {many:.2f} s (median of {args.rounds}); "
        f"client CPU {cpu_share:.0%} of wall ({cpu_per_job:.1f} ms per listed job), "
        f"emulator {served_share:.0%}; the {cores} cores "
        f"{(cpu_share + served_share) / cores:.0%} busy"
    )
    print(f"requests per copied job: {median(requests):.2f}")
    print(
        f"floor: raw httpx downloads the same files one by one at {floor_ms:.2f} ms of CPU "
        f"each; {args.concurrency}-way at 12x would leave "
        f"{one / 12 / copied * 1e3:.2f} ms per copied job for everything"
    )
    print(f"speed-up concurrency {args.concurrency} vs 1: {one / many:.2f}x (goal >= 12x)")


if __name__ == "__main__":
    sys.exit(main())
