"""One recording stored through the archive onto S3, against a raw s3fs write of the same bytes.

    python bench/s3_media.py [--mib 256] [--rounds 3]

Starts moto's S3 server on 127.0.0.1 in a subprocess (``tests/support/s3.py``) and creates one
bucket. Each round runs, each in a fresh subprocess and interleaved:

* ``raw``: ``s3fs.S3FileSystem.open(key, "wb", block_size=8 MiB)`` written with the chunks,
  each chunk also fed to ``hashlib.sha256`` (the baseline: what the archive must do at least);
* ``archive``: the local archive's ``_store_media`` of the same chunks into an ``s3://`` media
  root (sha256 on the way, one streamed multipart upload of 8 MiB parts, as a migration does).

The chunks are 64 KiB slices of a 1 MiB pattern, ``--mib`` MiB in all, generated on the fly
(never held whole). Before each measured write, the child stores a small object the same way
(imports, the client and its connection are warm). The object is deleted after each run.

Prints the median throughput of each (MiB/s), the median peak RSS growth of each client process
(peak during the run minus RSS just before it, ``ru_maxrss``; MB), and last the throughput ratio
archive / raw.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import RSS, interleaved, median, run_child

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.s3 import boto_client, moto_server, new_bucket, s3_env

CHUNKS = r"""
import hashlib
CHUNK = 1 << 16
PATTERN = hashlib.sha256(b"bench").digest() * (1 << 15)  # 1 MiB
def chunks(mib):
    for _ in range(mib):
        for i in range(0, len(PATTERN), CHUNK):
            yield PATTERN[i : i + CHUNK]
"""

RAW = (
    RSS
    + CHUNKS
    + r"""
import hashlib, json, sys, time
import s3fs

BUCKET, KEY, MIB = sys.argv[1], sys.argv[2], int(sys.argv[3])
fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)

def write(key, mib):
    digest = hashlib.sha256()
    size = 0
    with fs.open(f"{BUCKET}/{key}", "wb", block_size=8 << 20) as fh:
        for chunk in chunks(mib):
            fh.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()

write(KEY + ".warm", 1)
before = rss_kb()
started = time.perf_counter()
size, sha = write(KEY, MIB)
seconds = time.perf_counter() - started
print(json.dumps({"bytes": size, "sha256": sha, "seconds": seconds, "before_kb": before,
                  "peak_kb": peak_kb()}))
"""
)

ARCHIVE = (
    RSS
    + CHUNKS
    + r"""
import asyncio, json, sys, time
import convoport
from convoport.model import Recording, SessionRef

ARCHIVE, MEDIA, MIB = sys.argv[1], sys.argv[2], int(sys.argv[3])

async def achunks(mib):
    for chunk in chunks(mib):
        yield chunk

async def main():
    async with convoport.connect("local:" + ARCHIVE, media_root=MEDIA, create=True) as client:
        adapter = client.adapter
        warm = SessionRef(provider="bench", id="warm")
        await adapter._store_media(warm, Recording(id="audio", session_id="warm"), achunks(1))
        source = SessionRef(provider="bench", id="big")
        recording = Recording(id="audio", session_id="big")
        before = rss_kb()
        started = time.perf_counter()
        stored = await adapter._store_media(source, recording, achunks(MIB))
        seconds = time.perf_counter() - started
    print(json.dumps({"bytes": stored.size, "sha256": stored.sha256, "seconds": seconds,
                      "before_kb": before, "peak_kb": peak_kb(), "path": stored.path}))

asyncio.run(main())
"""
)


def _empty(client: Any, bucket: str) -> None:
    """Deletes every object of the bucket (the server keeps them in its memory)."""
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=item["Key"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.mib << 20
    growth: dict[str, list[float]] = {"raw": [], "archive": []}
    hashes: set[str] = set()

    with moto_server() as endpoint:
        env = s3_env(endpoint)
        os.environ.update(env)
        bucket = new_bucket(endpoint)
        client = boto_client(endpoint)

        def raw() -> float:
            data = run_child(RAW, bucket, "raw/recording", str(args.mib), env=env)
            _empty(client, bucket)
            assert data["bytes"] == size, data
            hashes.add(data["sha256"])
            growth["raw"].append((data["peak_kb"] - data["before_kb"]) / 1024)
            return args.mib / float(data["seconds"])

        def archive() -> float:
            with tempfile.TemporaryDirectory() as tmp:
                media = f"s3://{bucket}/archive"
                data = run_child(ARCHIVE, tmp + "/archive", media, str(args.mib), env=env)
            _empty(client, bucket)
            assert data["bytes"] == size, data
            hashes.add(data["sha256"])
            growth["archive"].append((data["peak_kb"] - data["before_kb"]) / 1024)
            return args.mib / float(data["seconds"])

        samples = interleaved([("raw", raw), ("archive", archive)], args.rounds)
    assert len(hashes) == 1, f"the two writes hashed differently: {hashes}"
    speed = {name: median(values) for name, values in samples.items()}
    print(f"recording: {args.mib} MiB in 64 KiB chunks, 8 MiB parts, medians of {args.rounds}")
    for name, value in speed.items():
        print(f"{name:>8}: {value:7.1f} MiB/s, peak RSS growth {median(growth[name]):6.1f} MB")
    print(f"throughput archive / raw s3fs+sha256: {speed['archive'] / speed['raw']:.2f}x")


if __name__ == "__main__":
    main()
