"""The contract kit, run for gladia exactly as a plugin author would."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract


class TestGladiaCassettes(CassetteContract):
    provider = "gladia"
    connect_options: ClassVar[dict[str, Any]] = {"api_key": "test-key"}


class TestGladiaEmulator(EmulatorContract):
    provider = "gladia"
