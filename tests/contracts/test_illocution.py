"""The contract kit, run for illocution exactly as a plugin author would."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract


class TestIllocutionCassettes(CassetteContract):
    provider = "illocution"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}


class TestIllocutionEmulator(EmulatorContract):
    provider = "illocution"
