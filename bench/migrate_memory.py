"""Peak memory of migrating one large recording into a local archive.

    python bench/migrate_memory.py [--mb 200]

Runs two migrations, each in a fresh subprocess so that peak RSS (ru_maxrss) belongs to that
run only: a baseline with a 1 MB recording and the measured one with ``--mb`` MB. Prints the
peak RSS growth of each (peak during the migration minus RSS before it) and their ratio. The
media is generated on the fly by an in-process source adapter, so no network or disk input is
involved; the archive is written to a temporary folder. Memory stays flat when recordings are
streamed: the target is a growth under 50 MB for 200 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import asyncio, json, resource, sys, time
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import attrs
from convoport import AsyncClient, Recording, RecordingStream, Session, SessionStatus, connect
from convoport.spi import Adapter, Page, setting
from convoport import Capabilities, Capability
from convoport.migration import migrate

SIZE = int(sys.argv[1])
ARCHIVE = sys.argv[2]
BLOCK = bytes(range(256)) * 256  # 64 KiB


@attrs.frozen(kw_only=True)
class Config:
    size: int = setting(default=SIZE)


class Stream(RecordingStream):
    def __init__(self, recording):
        self.recording = recording

    async def aiter_bytes(self, chunk_size=1 << 16):
        left = SIZE
        while left > 0:
            piece = BLOCK[: min(len(BLOCK), left)]
            left -= len(piece)
            yield piece


class Big(Adapter):
    name = "big"
    capabilities = Capabilities(ports={Capability.CATALOG_LIST, Capability.CATALOG_GET,
                                       Capability.RECORDINGS})
    config_class = Config
    session = Session(provider="big", id="one", status=SessionStatus.COMPLETED,
                      created_at=datetime(2026, 1, 1, tzinfo=UTC))

    async def _list_sessions_page(self, query, cursor, page_size):
        return Page(items=[] if cursor else [self.session], next=None)

    async def _get_session(self, session_id):
        return self.session

    async def _list_recordings(self, session_id):
        return [Recording(id="r", session_id="one", size=SIZE, media_type="audio/wav")]

    @asynccontextmanager
    async def _open(self, recording):
        yield Stream(recording)

    def _open_recording(self, session_id, recording):
        return self._open(recording)


def rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main():
    source = AsyncClient(Big(Config()))
    dest = connect("local:" + ARCHIVE, create=True)
    before = rss_kb()
    started = time.monotonic()
    report = await migrate(source, dest)
    seconds = time.monotonic() - started
    await dest.aclose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"bytes": report.bytes, "copied": report.copied, "before_kb": before,
                      "peak_kb": peak, "seconds": seconds}))

asyncio.run(main())
"""


def measure(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(size), tmp + "/archive"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    data: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    assert data["copied"] == 1, data
    assert data["bytes"] == size, data
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    base = measure(1 << 20)
    big = measure(args.mb << 20)
    base_growth = (base["peak_kb"] - base["before_kb"]) / 1024
    big_growth = (big["peak_kb"] - big["before_kb"]) / 1024
    print(
        f"baseline   1 MB recording: peak RSS growth {base_growth:6.1f} MB ({base['seconds']:.2f}s)"
    )
    print(
        f"measured {args.mb:3d} MB recording: peak RSS growth {big_growth:6.1f} MB "
        f"({big['seconds']:.2f}s, {args.mb / big['seconds']:.0f} MB/s)"
    )
    print(
        f"ratio measured/baseline growth: {big_growth / max(base_growth, 0.1):.2f} "
        f"(data ratio {args.mb}x)"
    )
    print("PASS: under 50 MB" if big_growth < 50 else "FAIL: 50 MB or more")


if __name__ == "__main__":
    main()
