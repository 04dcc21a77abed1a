"""docs/adapter-guide.md lists every scenario, requirement and kit harness hook."""

from __future__ import annotations

import re
from pathlib import Path

from convoport.contracts.scenarios import REQUIREMENTS, SCENARIOS, Scenario

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adapter-guide.md"


def _kit_section() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    assert "## The contract kit" in text
    return text.split("## The contract kit", 1)[1]


def test_the_guide_lists_every_kit_scenario_with_its_gate() -> None:
    section = _kit_section()
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    }
    missing = [s.name for s in SCENARIOS if s.name not in rows]
    assert not missing, f"scenarios missing from {GUIDE.name}: {missing}"
    for scenario in SCENARIOS:
        gate = rows[scenario.name]
        if scenario.capability is not None:
            assert f"`{scenario.capability.value}`" in gate, (scenario.name, gate)
        for requirement in scenario.requires:
            assert f"`{requirement}`" in gate, (scenario.name, gate)
        if scenario.faults is not None:
            assert f"`{scenario.faults}`" in gate, (scenario.name, gate)


def test_the_guide_lists_every_requirement_and_scenario_field() -> None:
    section = _kit_section()
    for name in REQUIREMENTS:
        assert f"| `{name}` |" in section, name
    fields = [f for f in Scenario.__attrs_attrs__ if f.name not in ("name", "capability")]
    for field in fields:
        assert f"`{field.name}" in section, f"Scenario.{field.name} is not documented"


def test_the_guide_names_the_harness_hooks_the_kit_uses() -> None:
    section = _kit_section()
    for hook in ("connect_options()", "transport()", "scenario_args(", "bad_credentials()"):
        assert f"`{hook}" in section, hook
    assert "`faults`" in section
