"""A vendor's scenarios next to the kit's: where its cassettes and expected outcomes live,
looking one up by name, and replaying one cassette through the kit for a closer look.

A vendor's ``scenarios.py`` defines its own :class:`~convoport.contracts.scenarios.Scenario`
objects (given to the kit through its contract classes' ``scenarios`` attribute) and one
:class:`VendorScenarios` that ties them to the adapter's ``cassettes/`` and ``expected/``
folders and the options every cassette run connects with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from convoport import serde
from convoport.contracts.cassette import Cassette, load_cassette
from convoport.contracts.kit import Replayed, gate_reason, replay_cassette
from convoport.contracts.scenarios import BY_NAME, SCENARIOS, Args, Scenario
from convoport.model import SessionQuery
from convoport.registry import get_registry


def by_name(scenarios: Iterable[Scenario]) -> dict[str, Scenario]:
    """``{scenario.name: scenario}``, in the given order; a name given twice fails."""
    table: dict[str, Scenario] = {}
    for s in scenarios:
        assert s.name not in table, f"two scenarios are named {s.name!r}"
        table[s.name] = s
    return table


def query_of(args: Args) -> SessionQuery:
    """The :class:`~convoport.model.SessionQuery` in a scenario's ``args["query"]`` (the
    default query when there is none)."""
    raw = args.get("query")
    return serde.structure(raw, SessionQuery) if raw else SessionQuery()


@attrs.frozen
class VendorScenarios:
    """One vendor's scenarios: ``own`` (by name, beyond the kit's), the adapter ``package``
    whose folder holds ``cassettes/<name>.json`` and ``expected/<name>.json``, and the
    ``connect_options`` a cassette replay connects with (placeholder credentials);
    ``requirements`` are the kit requirements its contract classes declare."""

    provider: str
    package: ModuleType
    own: Mapping[str, Scenario]
    connect_options: Mapping[str, Any] = attrs.field(factory=dict)
    requirements: frozenset[str] = frozenset()

    @property
    def adapter_dir(self) -> Path:
        """The adapter package's folder."""
        return Path(str(self.package.__file__)).parent

    @property
    def cassettes(self) -> Path:
        """The folder of the recorded cassettes."""
        return self.adapter_dir / "cassettes"

    @property
    def expected_dir(self) -> Path:
        """The folder of the expected outcomes."""
        return self.adapter_dir / "expected"

    def applicable(self) -> tuple[str, ...]:
        """The names of the kit's scenarios the adapter's declared capabilities (and
        :attr:`requirements`) reach, in the kit's order, then the vendor's own: exactly the
        scenarios its contract classes run, so exactly the cassettes it must have."""
        adapter = get_registry().get(self.provider).load()
        kit = [s.name for s in SCENARIOS if gate_reason(s, adapter, self.requirements) is None]
        return (*kit, *self.own)

    def scenario(self, name: str) -> Scenario:
        """The vendor's own scenario of that name, else the kit's (``KeyError`` for none)."""
        return self.own.get(name) or BY_NAME[name]

    def replay(self, name: str, cassette: Cassette | None = None) -> Replayed:
        """``cassettes/<name>.json`` (or ``cassette``) replayed through the kit exactly as its
        cassette contract replays it; compares nothing."""
        return replay_cassette(
            self.provider,
            self.scenario(name),
            cassette or load_cassette(self.cassettes / f"{name}.json"),
            connect_options=dict(self.connect_options),
        )

    def expected(self, name: str) -> Any:
        """The JSON of ``expected/<name>.json``."""
        return json.loads((self.expected_dir / f"{name}.json").read_text(encoding="utf-8"))


__all__ = ["VendorScenarios", "by_name", "query_of"]
