"""Re-records Syllable's cassettes and expected files from the emulator with the kit's
recorder, adding the review note every cassette carries.

``python -m tests.adapters.syllable.record [SCENARIO...]`` runs ``python -m
convoport.contracts.record syllable --write-expected`` (Syllable's own scenarios loaded with
``--scenarios``) into a scratch folder and copies the results into ``adapters/syllable``.
Review the diff by hand before committing, against ``shared/vendors/syllable.md`` and
``adapters/syllable/openapi.json``: the cassettes and the expected files are the contract.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from convoport.contracts.record import main as record

#: The source folder (the installed package may be a strict editable copy).
SOURCE = Path(__file__).resolve().parents[3] / "adapters" / "syllable"
REVIEW = (
    "reviewed by hand against shared/vendors/syllable.md and the OpenAPI extract "
    "(adapters/syllable/openapi.json, SDK 0.49.87 shapes): paths with the list endpoints' "
    "trailing slash, repeated-key arrays, 0-based pages, FastAPI error bodies; values are "
    "the emulator's seeded data"
)


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory() as scratch:
        args = ["syllable", "--out", scratch, "--write-expected"]
        args += ["--scenarios", "tests.adapters.syllable.scenarios:SCENARIO_LIST"]
        for name in names:
            args += ["--scenario", name]
        code = record(args)
        out = Path(scratch)
        for path in sorted((out / "cassettes").glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            document["meta"]["review"] = REVIEW
            text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            (SOURCE / "cassettes" / path.name).write_text(text, encoding="utf-8")
        for path in sorted((out / "expected").glob("*.json")):
            (SOURCE / "expected" / path.name).write_text(
                path.read_text(encoding="utf-8"), encoding="utf-8"
            )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
