"""Helpers shared by the benchmark scripts (not a benchmark itself).

Every benchmark measures its figure and its baseline in the same run, interleaved (A, B, A, B,
...), and reports medians; it prints the ratio as its last line. Servers are started on
127.0.0.1 only and stopped by the script.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEY = "sandbox-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def emulator(
    *, sessions: int = 36, latency_ms: float = 0.0, big_bytes: int = 0, seed: int = 7
) -> Iterator[str]:
    """A loopback Gladia emulator in a subprocess (``bench/_serve.py``); yields its base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        str(HERE / "_serve.py"),
        "--port",
        str(port),
        "--sessions",
        str(sessions),
        "--seed",
        str(seed),
        "--latency-ms",
        str(latency_ms),
        "--big-bytes",
        str(big_bytes),
    ]
    proc = subprocess.Popen(cmd)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start within 60 s") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def emulator_cpu(base: str) -> float:
    """The emulator process's CPU seconds so far."""
    with urllib.request.urlopen(base + "/__bench__/cpu", timeout=10) as answer:
        return float(json.loads(answer.read())["cpu"])


def request_counts(base: str, *, reset: bool = False) -> dict[str, int]:
    """The emulator's request counts by kind (``list``, ``job``, ``file``, ``other``)."""
    req = urllib.request.Request(base + "/__bench__/requests", method="DELETE" if reset else "GET")
    with urllib.request.urlopen(req, timeout=10) as answer:
        counts: dict[str, int] = json.loads(answer.read())
    return counts


def interleaved(
    variants: Sequence[tuple[str, Callable[[], float]]], rounds: int
) -> dict[str, list[float]]:
    """Runs each variant once per round, in turn (A, B, A, B ...); returns the samples."""
    samples: dict[str, list[float]] = {name: [] for name, _ in variants}
    for i in range(rounds):
        for name, fn in variants:
            value = fn()
            samples[name].append(value)
            print(f"  round {i + 1}/{rounds} {name}: {value:.4f}", file=sys.stderr, flush=True)
    return samples


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs ``code`` in a fresh interpreter; its last stdout line is a JSON object."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise RuntimeError(f"child failed with {out.returncode}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


#: Python code a child runs first: ``rss_kb()`` (current RSS) and ``peak_kb()`` (ru_maxrss).
RSS = r"""
import resource
def rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

#: A child preamble that makes ``import sniffio`` fail, as on an install without it (each
#: failing import still scans ``sys.path`` for a module that is not there, as it would).
NO_SNIFFIO = r"""
import sys
from importlib.machinery import PathFinder
class _NoSniffio:
    def find_spec(self, name, path=None, target=None):
        if name == "sniffio" or name.startswith("sniffio."):
            PathFinder.find_spec("_convoport_bench_absent_module")
            raise ModuleNotFoundError("No module named 'sniffio'", name=name)
        return None
sys.meta_path.insert(0, _NoSniffio())
"""


def build_archive(path: str, sessions: int) -> int:
    """Fills a new local archive at ``path`` with about ``sessions`` Gladia sessions and their
    transcripts (a migration from the in-process sandbox, no recordings); returns how many
    sessions it holds."""
    import asyncio

    import convoport
    from convoport.migration import migrate
    from convoport.sandbox import HarnessSettings

    # The seeded jobs cycle through six statuses; four of six are finished (copied).
    seeded = -(-sessions * 6 // 4)

    async def run() -> int:
        src = convoport.connect("gladia", sandbox=HarnessSettings(sessions=seeded))
        dst = convoport.connect("local:" + path, create=True)
        try:
            report = await migrate(src, dst, include=["transcripts"], concurrency=8, limit=sessions)
        finally:
            await src.aclose()
            await dst.aclose()
        return report.copied

    return asyncio.run(run())
