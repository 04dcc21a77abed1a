"""List 10k sessions over a socket: convoport's client against raw httpx, sync or async.

    python bench/list_sessions.py sync|async [--sessions 10000] [--page-size 100] [--rounds 5]

Serves the Gladia emulator with ``--sessions`` seeded jobs on 127.0.0.1 and lists them all,
interleaved, ``--rounds`` times each, in this process:

* baseline: raw httpx (``httpx.Client``, or ``httpx.AsyncClient`` for ``async``) following
  Gladia's ``next`` links and parsing each page's JSON, with the same page size;
* measured: ``convoport.connect_sync("gladia", ...).list_sessions(page_size=...)`` (or the
  async ``connect``), which also turns every job into a ``Session``.

Both reach the same items in the same pages. Prints the median of each and last the ratio
client / raw (goals: sync <= 1.10x, async <= 1.05x).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from _common import KEY, emulator, interleaved, median

import convoport


def raw_sync(base: str, page_size: int) -> int:
    count = 0
    with httpx.Client(headers={"x-gladia-key": KEY}) as client:
        url: str | None = f"{base}/v2/live?offset=0&limit={page_size}"
        while url:
            data = client.get(url).json()
            count += len(data["items"])
            url = data["next"] if data["items"] else None
    return count


async def raw_async(base: str, page_size: int) -> int:
    count = 0
    async with httpx.AsyncClient(headers={"x-gladia-key": KEY}) as client:
        url: str | None = f"{base}/v2/live?offset=0&limit={page_size}"
        while url:
            data = (await client.get(url)).json()
            count += len(data["items"])
            url = data["next"] if data["items"] else None
    return count


def client_sync(base: str, page_size: int) -> int:
    with convoport.connect_sync("gladia", api_key=KEY, base_url=base) as client:
        return sum(1 for _ in client.list_sessions(page_size=page_size))


async def client_async(base: str, page_size: int) -> int:
    async with convoport.connect("gladia", api_key=KEY, base_url=base) as client:
        count = 0
        async for _ in client.list_sessions(page_size=page_size):
            count += 1
        return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["sync", "async"])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    size = args.page_size

    with emulator(sessions=args.sessions) as base:

        def run(fn: object) -> float:
            started = time.perf_counter()
            result = fn(base, size)  # type: ignore[operator]
            count = result if args.mode == "sync" else asyncio.run(result)
            seconds = time.perf_counter() - started
            assert count == args.sessions, count
            return seconds

        if args.mode == "sync":
            raw, ours = raw_sync, client_sync
        else:
            raw, ours = raw_async, client_async  # type: ignore[assignment]
        run(raw)  # warm-up: the emulator's first pages, imports
        run(ours)
        samples = interleaved(
            [
                (f"raw {args.mode} httpx", lambda: run(raw)),
                (f"{args.mode} client", lambda: run(ours)),
            ],
            args.rounds,
        )
    base_s = median(samples[f"raw {args.mode} httpx"])
    ours_s = median(samples[f"{args.mode} client"])
    print(f"{args.sessions} sessions, page size {size}, medians of {args.rounds} rounds")
    print(f"raw {args.mode} httpx: {base_s:.3f} s")
    print(f"{args.mode} client:    {ours_s:.3f} s")
    goal = 1.10 if args.mode == "sync" else 1.05
    print(
        f"{args.mode} client / raw {args.mode} httpx: {ours_s / base_s:.2f}x (goal <= {goal:.2f}x)"
    )


if __name__ == "__main__":
    main()
