"""One large recording migrated, against a raw httpx stream-to-file from the same emulator.

    python bench/media_throughput.py [--mib 1024] [--rounds 3]

Serves the Gladia emulator on 127.0.0.1 with one finished job whose ``/file`` is a generated
WAV of ``--mib`` MiB (``bench/_serve.py --big-bytes``, streamed, never held in memory). Each
round runs, each in a fresh subprocess and interleaved:

* ``raw``: ``httpx.AsyncClient.stream("GET", .../file)`` written to a file with
  ``aiter_raw()`` (the baseline);
* ``raw+sha256``: the same, hashing every chunk;
* ``migrate``: ``convoport.migrate("gladia" -> local archive)`` of that one job (download,
  sha256, media file, catalog commit).

The migration's process opens (creates) its archive before the measured run: loading the
catalog's code (SQLAlchemy, Alembic) is a fixed cost of about 30 MB, printed apart.

Prints the median throughput of each (MiB/s), the RSS the archive's opening took, the
migration's peak RSS growth (peak during the run minus RSS before it, ru_maxrss), and last
the throughput ratio migrate / raw (the goal is >= 0.9, with peak RSS growth <= 16 MB).
"""

from __future__ import annotations

import argparse
import tempfile

from _common import KEY, RSS, emulator, interleaved, median, run_child

RAW = (
    RSS
    + r"""
import asyncio, hashlib, json, sys, time
import httpx

BASE, OUT, HASH = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

async def main():
    async with httpx.AsyncClient(base_url=BASE, headers={"x-gladia-key": "@KEY@"}) as client:
        jobs = (await client.get("/v2/live", params={"status": "done"})).json()["items"]
        url = f"/v2/live/{jobs[0]['id']}/file"
        before = rss_kb()
        started = time.perf_counter()
        size = 0
        digest = hashlib.sha256()
        async with client.stream("GET", url) as response:
            with open(OUT, "wb") as fh:
                async for chunk in response.aiter_raw():
                    fh.write(chunk)
                    size += len(chunk)
                    if HASH:
                        digest.update(chunk)
        seconds = time.perf_counter() - started
    print(json.dumps({"bytes": size, "seconds": seconds, "before_kb": before,
                      "peak_kb": peak_kb()}))

asyncio.run(main())
""".replace("@KEY@", KEY)
)

MIGRATE = (
    RSS
    + r"""
import asyncio, json, sys, time
import convoport
from convoport.migration import migrate

BASE, ARCHIVE = sys.argv[1], sys.argv[2]

async def main():
    src = convoport.connect("gladia", api_key="@KEY@", base_url=BASE)
    dst = convoport.connect("local:" + ARCHIVE, create=True)
    query = convoport.SessionQuery(statuses={convoport.SessionStatus.COMPLETED})
    # what is not the transfer comes first: the archive's catalog created (SQLAlchemy and
    # Alembic loaded, about 30 MB of code and data, once per process)
    loading = rss_kb()
    assert [s async for s in dst.list_sessions(limit=1)] == []
    before = rss_kb()
    started = time.perf_counter()
    report = await migrate(src, dst, query=query, include=["recordings"])
    seconds = time.perf_counter() - started
    await src.aclose()
    await dst.aclose()
    assert report.copied == 1, report.as_dict()
    print(json.dumps({"bytes": report.bytes, "seconds": seconds, "before_kb": before,
                      "peak_kb": peak_kb(), "loading_kb": before - loading}))

asyncio.run(main())
""".replace("@KEY@", KEY)
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.mib << 20
    growth: list[float] = []
    raw_growth: list[float] = []
    loading: list[float] = []

    with emulator(sessions=1, big_bytes=size) as base:

        def raw(hashing: bool) -> float:
            with tempfile.TemporaryDirectory() as tmp:
                data = run_child(RAW, base, tmp + "/out.wav", "1" if hashing else "0")
            assert data["bytes"] == size, data
            raw_growth.append((data["peak_kb"] - data["before_kb"]) / 1024)
            return args.mib / float(data["seconds"])

        def migrated() -> float:
            with tempfile.TemporaryDirectory() as tmp:
                data = run_child(MIGRATE, base, tmp + "/archive")
            assert data["bytes"] == size, data
            growth.append((data["peak_kb"] - data["before_kb"]) / 1024)
            loading.append(data["loading_kb"] / 1024)
            return args.mib / float(data["seconds"])

        samples = interleaved(
            [
                ("raw", lambda: raw(False)),
                ("raw+sha256", lambda: raw(True)),
                ("migrate", migrated),
            ],
            args.rounds,
        )
    speed = {name: median(values) for name, values in samples.items()}
    print(f"recording: {args.mib} MiB, medians of {args.rounds} rounds")
    for name, value in speed.items():
        print(f"{name:>11}: {value:7.1f} MiB/s")
    print(f"raw peak RSS growth: {median(raw_growth):.1f} MB")
    print(f"opening the new archive first (its catalog code and schema): {median(loading):.1f} MB")
    print(f"migrate peak RSS growth: {max(growth):.1f} MB (max of {len(growth)}; goal <= 16 MB)")
    print(f"migrate vs raw+sha256: {speed['migrate'] / speed['raw+sha256']:.2f}x")
    print(f"throughput migrate / raw: {speed['migrate'] / speed['raw']:.2f}x (goal >= 0.9x)")


if __name__ == "__main__":
    main()
