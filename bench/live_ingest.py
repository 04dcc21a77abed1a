"""Live ingest of an hour of 16 kHz PCM through the in-process Gladia sandbox.

    python bench/live_ingest.py [--seconds 3600] [--piece 10] [--rounds 3]

Each round runs in a fresh subprocess: ``convoport.connect("gladia", sandbox=True)``, one live
session (16 kHz, 16-bit, mono), ``--seconds`` of generated speech-like PCM sent in
``--piece``-second ``send_audio`` calls while another task drains ``events()``, then
``finalize()`` and ``wait()``. Client and emulator share the process, so the figure covers
both. Prints the median wall time, the speed against real time and the peak RSS growth
(ru_maxrss minus RSS before the session) and, last, the speed ratio against real time (the
goal is >= 500x real time with peak RSS growth <= 32 MB).
"""

from __future__ import annotations

import argparse

from _common import RSS, median, run_child

CHILD = (
    RSS
    + r"""
import asyncio, json, sys, time
import convoport
from convoport import LiveOptions
from convoport.sandbox import tone_pcm

SECONDS, PIECE = int(sys.argv[1]), int(sys.argv[2])
piece = tone_pcm(float(PIECE), sample_rate=16000, channels=1, silence_every=1.0)

async def main():
    async with convoport.connect("gladia", sandbox=True) as client:
        before = rss_kb()
        started = time.perf_counter()
        async with await client.start_live(LiveOptions(sample_rate=16000)) as live:
            finals = 0

            async def drain():
                nonlocal finals
                async for event in live.events():
                    if event.kind == "final":
                        finals += 1

            task = asyncio.create_task(drain())
            for _ in range(SECONDS // PIECE):
                await live.send_audio(piece)
            await live.finalize()
            result = await live.wait()
            await task
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "finals": finals, "before_kb": before,
                      "peak_kb": peak_kb(), "duration": result.session.duration,
                      "utterances": len(result.transcript.utterances),
                      "status": result.session.status.value}))

asyncio.run(main())
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--piece", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for i in range(args.rounds):
        data = run_child(CHILD, str(args.seconds), str(args.piece))
        assert data["status"] == "completed", data
        assert data["utterances"] == args.seconds, data
        runs.append(data)
        print(f"  round {i + 1}/{args.rounds}: {data['seconds']:.2f} s", flush=True)
    wall = median([r["seconds"] for r in runs])
    growth = max((r["peak_kb"] - r["before_kb"]) / 1024 for r in runs)
    print(f"{args.seconds} s of 16 kHz mono PCM, {args.piece} s per send, medians of {args.rounds}")
    print(f"wall: {wall:.2f} s; finals received: {runs[0]['finals']}")
    print(f"peak RSS growth: {growth:.1f} MB (max of {args.rounds}; goal <= 32 MB)")
    print(f"speed vs real time: {args.seconds / wall:.0f}x (goal >= 500x)")


if __name__ == "__main__":
    main()
