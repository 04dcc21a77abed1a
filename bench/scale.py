"""A migration spread over Dask workers: one worker x 16 sessions against two workers x 16.

    python bench/scale.py [--sessions 10000] [--latency-ms 20] [--concurrency 16] [--runs 1]
                          [--batch-size 100]

Starts, on 127.0.0.1 only: the Gladia emulator (``bench/_serve.py``, every REST answer delayed
by ``--latency-ms``), a throwaway PostgreSQL server (``tests/support/postgres.py``) and moto's
S3 server (``tests/support/s3.py``), then two local Dask clusters of nanny-managed worker
processes (two threads each): one with one worker, one with two. Each run migrates every
session of the emulator into a fresh database with its media in a fresh bucket
(``convoport.cluster.migrate_distributed(..., dask=ADDRESS, concurrency=N)``), the two
clusters interleaved (one, two, one, two ...), ``--runs`` times each.

Prints, per cluster, the median wall time of a run (the driver's listing included; the
clusters are started before), sessions copied per second, and CPU seconds per run: the
driver process (its listing, the scheduler of the in-process cluster), the worker processes
(psutil when installed, else ``/proc/PID/stat``), and the whole machine (``/proc/stat``, all
processes: the emulator, PostgreSQL and moto included) against what its cores could give in
that time. Last line: the speed-up, one-worker wall / two-worker wall.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from _common import KEY, emulator, interleaved, median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import postgres
from tests.support.s3 import moto_server, new_bucket, s3_env

TICKS = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS


def _bounded(coro: Coroutine[Any, Any, T], seconds: float) -> T:
    """``asyncio.run(coro)`` in a thread; a run not done after ``seconds`` ends the benchmark
    (exit 3, its stacks on stderr) rather than waiting for ever."""
    box: list[T] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(coro)), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive() or not box:
        print(f"a run did not finish within {seconds:g} s", file=sys.stderr, flush=True)
        faulthandler.dump_traceback(all_threads=True)
        os._exit(3)
    return box[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--give-up", type=float, default=900.0, help="seconds before a run is declared stuck"
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    from convoport.cluster import migrate_distributed

    results: dict[str, list[dict[str, float]]] = {"one": [], "two": []}
    chosen = postgres.plan(os.environ, postgres.find_bin_dir())
    with (
        emulator(sessions=args.sessions, latency_ms=args.latency_ms) as base,
        postgres.server(chosen) as server,
        moto_server() as endpoint,
    ):
        os.environ.update(s3_env(endpoint))  # before the workers start: they inherit it
        clusters = {
            name: LocalCluster(
                n_workers=count,
                threads_per_worker=2,
                processes=True,
                dashboard_address=":0",
                worker_dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            for name, count in (("one", 1), ("two", 2))
        }
        try:
            pids = {}
            for name, cluster in clusters.items():
                with Client(cluster) as client:
                    pids[name] = list(client.run(os.getpid).values())

            def run(name: str) -> float:
                cluster = clusters[name]
                with postgres.fresh_database(server) as url:
                    bucket = new_bucket(endpoint)
                    workers = sum(process_cpu(p) for p in pids[name])
                    driver, busy = time.process_time(), machine_busy()
                    wall = time.perf_counter()
                    report = _bounded(
                        migrate_distributed(
                            "gladia",
                            url,
                            dask=cluster.scheduler_address,
                            media_root=f"s3://{bucket}/archive",
                            source_options={"api_key": KEY, "base_url": base},
                            concurrency=args.concurrency,
                            batch_size=args.batch_size,
                        ),
                        args.give_up,
                    )
                    wall = time.perf_counter() - wall
                    sample = {
                        "wall": wall,
                        "copied": report.copied,
                        "driver": time.process_time() - driver,
                        "workers": sum(process_cpu(p) for p in pids[name]) - workers,
                        "machine": machine_busy() - busy,
                    }
                assert report.failed == 0, report.as_dict()["sessions"][:3]
                results[name].append(sample)
                return wall

            samples = interleaved(
                [("one worker", lambda: run("one")), ("two workers", lambda: run("two"))],
                args.runs,
            )
        finally:
            for cluster in clusters.values():
                cluster.close()
    cores = os.cpu_count() or 1
    print(
        f"sessions: {args.sessions} ({results['one'][0]['copied']:.0f} finished and copied), "
        f"{args.latency_ms:g} ms per request, {args.concurrency} sessions at once per worker, "
        f"batches of {args.batch_size}, {cores} cores, {args.runs} run(s) each"
    )
    for name, label in (("one", "one worker"), ("two", "two workers")):
        rows = results[name]
        wall = median(samples[label])
        copied = rows[0]["copied"]
        machine = median([r["machine"] for r in rows])
        print(
            f"{label:>11}: {wall:7.2f} s wall, {copied / wall:6.1f} sessions/s, CPU s: driver "
            f"{median([r['driver'] for r in rows]):.1f}, workers "
            f"{median([r['workers'] for r in rows]):.1f}, machine {machine:.1f} of "
            f"{cores * wall:.1f} ({machine / (cores * wall):.0%} busy)"
        )
    one, two = median(samples["one worker"]), median(samples["two workers"])
    print(f"speed-up two workers / one worker: {one / two:.2f}x")


if __name__ == "__main__":
    main()
