"""Wall time of ``import convoport`` against ``import httpx``, each in a fresh interpreter.

    python bench/import_time.py [--rounds 21]

Each round starts ``python -c "import convoport"`` and ``python -c "import httpx"``
(interleaved) and times the whole process (start to exit), and ``python -c pass`` for the
interpreter's own start. Bytecode caches are written once before measuring (a user's first
import writes them; ``PYTHONDONTWRITEBYTECODE`` would otherwise make every run compile
convoport's sources). Prints the medians and last the ratio convoport / httpx (goal <= 1.3x).
``python -X importtime -c "import convoport"`` shows where the time goes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _common import interleaved, median

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=ENV)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    for code in ("import convoport", "import httpx"):
        run(code)  # writes the bytecode caches
    samples = interleaved(
        [
            ("python -c pass", lambda: run("pass")),
            ("import httpx", lambda: run("import httpx")),
            ("import convoport", lambda: run("import convoport")),
        ],
        args.rounds,
    )
    bare = median(samples["python -c pass"])
    httpx_s = median(samples["import httpx"])
    ours = median(samples["import convoport"])
    print(f"medians of {args.rounds} fresh interpreters")
    print(f"python -c pass:   {bare * 1000:6.1f} ms")
    print(f"import httpx:     {httpx_s * 1000:6.1f} ms")
    print(f"import convoport: {ours * 1000:6.1f} ms")
    print(f"import convoport / import httpx (wall): {ours / httpx_s:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
