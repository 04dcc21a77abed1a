"""Rewrites ``adapters/gladia/expected/*.json`` from the cassettes.

``python -m tests.adapters.gladia.regen [SCENARIO...]`` replays each cassette through the
adapter and writes the outcome it produces. Review the diff by hand before committing: the
expected files are the contract, this only saves typing them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.adapters.gladia.scenarios import SCENARIOS

#: The source folder (the installed package may be a strict editable copy).
SOURCE_EXPECTED = Path(__file__).resolve().parents[3] / "adapters" / "gladia" / "expected"


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(SCENARIOS.applicable())
    for name in names:
        outcome = SCENARIOS.replay(name).outcome
        path = SOURCE_EXPECTED / f"{name}.json"
        text = json.dumps(outcome, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        kind = "error " + outcome["error"]["type"] if "error" in outcome else "result"
        print(f"{name}: {kind} -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
