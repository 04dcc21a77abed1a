"""The contract kit, run for illocution exactly as a plugin author would, with Illocution's
own scenarios given through the kit's ``scenarios`` attribute."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract
from convoport.contracts.scenarios import Scenario
from tests.adapters.illocution.cassette_writer import ILLOCUTION_SCENARIOS


class TestIllocutionCassettes(CassetteContract):
    provider = "illocution"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}
    scenarios: ClassVar[tuple[Scenario, ...]] = ILLOCUTION_SCENARIOS


class TestIllocutionEmulator(EmulatorContract):
    provider = "illocution"
    scenarios: ClassVar[tuple[Scenario, ...]] = ILLOCUTION_SCENARIOS
