"""The contract kit, run for syllable exactly as a plugin author would, with Syllable's own
scenarios given through the kit's ``scenarios`` attribute."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract
from convoport.contracts.scenarios import Scenario
from tests.adapters.syllable.scenarios import SYLLABLE_SCENARIOS


class TestSyllableCassettes(CassetteContract):
    provider = "syllable"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(SYLLABLE_SCENARIOS.values())


class TestSyllableEmulator(EmulatorContract):
    provider = "syllable"
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(SYLLABLE_SCENARIOS.values())
