"""The contract kit, run for gladia exactly as a plugin author would, with Gladia's own
scenarios given through the kit's ``scenarios`` attribute."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract
from convoport.contracts.scenarios import Scenario
from tests.adapters.gladia.scenarios import GLADIA_SCENARIOS


class TestGladiaCassettes(CassetteContract):
    provider = "gladia"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(GLADIA_SCENARIOS.values())


class TestGladiaEmulator(EmulatorContract):
    provider = "gladia"
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(GLADIA_SCENARIOS.values())
