"""The contract kit, run for realtimekit exactly as a plugin author would, with RealtimeKit's
own scenarios given through the kit's ``scenarios`` attribute. Its files sit behind pre-signed
links on a storage host: the ``signed_media`` requirement."""

from __future__ import annotations

from typing import Any, ClassVar

from convoport.contracts.kit import CassetteContract, EmulatorContract
from convoport.contracts.scenarios import Scenario
from tests.adapters.realtimekit.scenarios import CONNECT, REALTIMEKIT_SCENARIOS


class TestRealtimeKitCassettes(CassetteContract):
    provider = "realtimekit"
    connect_options: ClassVar[dict[str, Any]] = dict(CONNECT)
    requirements: ClassVar[set[str]] = {"signed_media"}
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(REALTIMEKIT_SCENARIOS.values())


class TestRealtimeKitEmulator(EmulatorContract):
    provider = "realtimekit"
    requirements: ClassVar[set[str]] = {"signed_media"}
    scenarios: ClassVar[tuple[Scenario, ...]] = tuple(REALTIMEKIT_SCENARIOS.values())
