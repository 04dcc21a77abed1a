"""Wall time of ``convoport --help`` against ``python -c pass``.

    python bench/cli_help.py [--rounds 21]

Each round runs the installed console script ``convoport --help`` (the ``convoport`` next to
this interpreter, else ``python -m convoport``) and ``python -c pass``, interleaved, each a
fresh process timed from start to exit. Bytecode caches are written once before measuring (as
a user's first run does). Prints the medians and last the ratio (the goal is an absolute
<= 0.2 s for ``--help``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import interleaved, median

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def command() -> list[str]:
    script = Path(sys.executable).with_name("convoport")
    if script.exists():
        return [str(script)]
    found = shutil.which("convoport")
    return [found] if found else [sys.executable, "-m", "convoport"]


def run(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    help_cmd = [*command(), "--help"]
    run(help_cmd)  # writes the bytecode caches
    samples = interleaved(
        [
            ("python -c pass", lambda: run([sys.executable, "-c", "pass"])),
            ("convoport --help", lambda: run(help_cmd)),
        ],
        args.rounds,
    )
    bare = median(samples["python -c pass"])
    ours = median(samples["convoport --help"])
    print(f"medians of {args.rounds} runs ({' '.join(help_cmd)})")
    print(f"python -c pass:   {bare * 1000:6.1f} ms")
    print(f"convoport --help: {ours * 1000:6.1f} ms (goal <= 200 ms)")
    print(f"convoport --help / python -c pass: {ours / bare:.1f}x ({ours:.3f} s)")


if __name__ == "__main__":
    main()
