"""The contract kit's pytest base classes.

A plugin author proves an adapter with two or three class attributes and nothing else::

    from convoport.contracts import CassetteContract, EmulatorContract

    class TestMurmurCassettes(CassetteContract):
        provider = "murmur"
        connect_options = {"api_key": "test-key"}

    class TestMurmurEmulator(EmulatorContract):      # only if the adapter ships an emulator
        provider = "murmur"

The provider is looked up through the installed entry points (as a user would reach it), so
the suite also proves the plugin is registered. :class:`CassetteContract` replays
``cassettes/<scenario>.json`` next to the adapter module and compares each outcome with
``expected/<scenario>.json``; :class:`EmulatorContract` runs the same scenarios against the
adapter's emulator harness and checks their invariants.

Class attributes a contract class may set:

* ``provider`` (required) and ``connect_options`` (placeholder credentials, base URL);
* ``scenarios`` -- the adapter's own :class:`~convoport.contracts.scenarios.Scenario` values,
  run exactly like the kit's (same cassette/expected layout, same gates and rules; a test
  ``test_<name>`` is added for each). Scenarios registered for the provider with
  :func:`~convoport.contracts.scenarios.register_scenarios` are added too. An own scenario may
  not take a kit scenario's name;
* ``requirements`` -- names from :data:`~convoport.contracts.scenarios.REQUIREMENTS` the
  backend meets that its declaration cannot show (``"signed_media"``).

This is fsspec's ``tests/abstract`` and SQLAlchemy's ``testing/suite`` idea: the suite is a set
of base classes an implementation subclasses, adds its own tests beside, and tells what it
supports through named requirements with reasons.

Rules the kit enforces on itself:

* every scenario whose gates the adapter passes must have a cassette and an expected file (the
  failure names the missing scenario and path); a scenario whose capability is not declared,
  or whose requirement is not met, is skipped with the capability or the requirement and its
  reason;
* every declared capability must be implemented (its primitives overridden);
* every recorded interaction must be used, and no request may go unmatched;
* cassettes must pass the secret scan;
* a kit test may be overridden only with an explicit ``pytest.mark.xfail(reason=...)``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import httpx
import pytest

from convoport.adapter import PRIMITIVES, Adapter, load_object
from convoport.client import AsyncClient
from convoport.connect import connect
from convoport.contracts.cassette import Cassette, load_cassette
from convoport.contracts.scan import scan_paths
from convoport.contracts.scenarios import (
    BY_NAME,
    REQUIREMENTS,
    SCENARIOS,
    ObservingTransport,
    RequestLog,
    Scenario,
    ScenarioContext,
    outcome_json,
    outcome_of_error,
    registered_scenarios,
    scenario_running,
)
from convoport.contracts.transport import ReplayTransport, json_diff
from convoport.errors import ConvoportError
from convoport.http import RetryPolicy
from convoport.registry import get_registry
from convoport.sandbox import EmulatorHarness

#: Retries in kit runs: enough for the *_then_ok scenarios, no waiting between tries.
KIT_RETRY = RetryPolicy(attempts=3, backoff_base=0.0, backoff_max=0.0, retry_after_cap=5.0)


class ContractViolation(AssertionError):
    """The adapter or its test class breaks a rule of the kit."""


def _is_xfail_with_reason(fn: Callable[..., Any]) -> bool:
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "xfail" and str(mark.kwargs.get("reason", "")).strip():
            return True
    return False


def _scenario_test(name: str, own: Scenario | None = None) -> Callable[[Any], None]:
    def test(self: ProviderContract) -> None:
        self.run_scenario(own if own is not None else BY_NAME[name])

    test.__name__ = f"test_{name}"
    test.__doc__ = f"{'Own' if own is not None else 'Kit'} scenario {name!r}."
    return test


def gate_reason(
    scenario: Scenario, adapter_class: type[Adapter], requirements: Collection[str] = ()
) -> str | None:
    """Why ``scenario`` does not apply to the adapter (the skip reason), or ``None``."""
    if scenario.capability is not None and (
        scenario.capability not in adapter_class.capabilities.ports
    ):
        return f"capability {scenario.capability.value} is not declared"
    for name in scenario.requires:
        requirement = REQUIREMENTS[name]
        met = name in requirements or (
            requirement.met is not None and requirement.met(adapter_class)
        )
        if not met:
            return f"requirement {name} is not met: {requirement.reason}"
    return None


class ProviderContract:
    """Shared machinery; subclass :class:`CassetteContract` or :class:`EmulatorContract`."""

    #: the provider name as registered through the entry point
    provider: ClassVar[str] = ""
    #: config options for connecting (placeholder credentials, base URL)
    connect_options: ClassVar[dict[str, Any]] = {}
    #: the adapter's own scenarios, run like the kit's
    scenarios: ClassVar[Sequence[Scenario]] = ()
    #: requirements (names in REQUIREMENTS) the backend meets beyond its declaration
    requirements: ClassVar[Collection[str]] = ()

    _overrides: ClassVar[list[str]] = []
    _own: ClassVar[dict[str, Scenario]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return
        violations = []
        for name, kit_fn in ProviderContract._all_kit_tests().items():
            mine = cls.__dict__.get(name)
            if mine is not None and mine is not kit_fn and not _is_xfail_with_reason(mine):
                violations.append(name)
        cls._overrides = violations
        unknown = sorted(set(cls.requirements) - set(REQUIREMENTS))
        if unknown:
            raise ContractViolation(
                f"{cls.__name__}.requirements names unknown requirement(s) {unknown}; "
                f"known: {sorted(REQUIREMENTS)}"
            )
        own: dict[str, Scenario] = {}
        for scenario in (*cls.scenarios, *registered_scenarios(cls.provider)):
            if scenario.name in BY_NAME:
                raise ContractViolation(
                    f"{cls.__name__}: own scenario {scenario.name!r} has the name of a kit "
                    "scenario; kit scenarios cannot be replaced (override the test with "
                    "pytest.mark.xfail(reason=...) if it cannot pass)"
                )
            own.setdefault(scenario.name, scenario)
        cls._own = own
        for name, scenario in own.items():
            if f"test_{name}" not in cls.__dict__:
                setattr(cls, f"test_{name}", _scenario_test(name, scenario))

    @staticmethod
    def _all_kit_tests() -> dict[str, Callable[..., Any]]:
        tests: dict[str, Callable[..., Any]] = {}
        for base in (ProviderContract, CassetteContract, EmulatorContract):
            for name, value in vars(base).items():
                if name.startswith("test_") and callable(value):
                    tests.setdefault(name, value)
        return tests

    # -- helpers --------------------------------------------------------------------------

    @classmethod
    def adapter_class(cls) -> type[Adapter]:
        if not cls.provider:
            raise ContractViolation(f"{cls.__name__} must set provider = '<name>'")
        return get_registry().get(cls.provider).load()

    @classmethod
    def adapter_dir(cls) -> Path:
        return Path(inspect.getfile(cls.adapter_class())).parent

    @classmethod
    def all_scenarios(cls) -> tuple[Scenario, ...]:
        """The kit's scenarios, then the adapter's own."""
        return (*SCENARIOS, *cls._own.values())

    def gate(self, scenario: Scenario) -> str | None:
        """Why the scenario is skipped for this adapter, or ``None`` when it runs."""
        return gate_reason(scenario, self.adapter_class(), self.requirements)

    def declared(self, scenario: Scenario) -> bool:
        return self.gate(scenario) is None

    def skip_undeclared(self, scenario: Scenario) -> None:
        reason = self.gate(scenario)
        if reason is not None:
            pytest.skip(reason)

    def run_scenario(self, scenario: Scenario) -> None:
        raise NotImplementedError

    @staticmethod
    def execute(
        scenario: Scenario,
        client_factory: Callable[[], AsyncClient],
        args: dict[str, Any],
        context: ScenarioContext | None = None,
    ) -> tuple[dict[str, Any], Any]:
        """Runs the scenario on a fresh event loop: (JSON outcome, raw result or error)."""
        return asyncio.run(run_scenario_async(scenario, client_factory, args, context))

    @staticmethod
    def check_outcome(
        scenario: Scenario,
        outcome: dict[str, Any],
        raw: Any,
        args: dict[str, Any],
        requests: RequestLog | None = None,
    ) -> None:
        check_outcome(scenario, outcome, raw, args, requests)

    # -- tests every mode runs ----------------------------------------------------------------

    def test_registered_through_entry_point(self) -> None:
        """The provider is found through the convoport.adapters entry-point group."""
        entry = get_registry().get(self.provider)
        assert entry.package not in ("<direct>", ""), (
            f"{self.provider} was not registered through an entry point"
        )

    def test_declared_capabilities_are_implemented(self) -> None:
        """Every declared capability has its primitives implemented."""
        cls = self.adapter_class()
        missing = [
            f"{cap.value} (needs {', '.join(PRIMITIVES[cap])})"
            for cap in sorted(cls.capabilities.ports)
            if not cls.implemented(cap)
        ]
        assert not missing, (
            f"{cls.__qualname__} declares capabilities it does not implement: " + "; ".join(missing)
        )

    def test_kit_tests_not_overridden(self) -> None:
        """Kit tests are overridden only with an explicit xfail and a reason."""
        assert not self._overrides, (
            f"{type(self).__name__} overrides kit tests without "
            "pytest.mark.xfail(reason=...): " + ", ".join(self._overrides)
        )


for _scenario in SCENARIOS:
    setattr(ProviderContract, f"test_{_scenario.name}", _scenario_test(_scenario.name))


async def run_scenario_async(
    scenario: Scenario,
    client_factory: Callable[[], AsyncClient],
    args: dict[str, Any],
    context: ScenarioContext | None = None,
) -> tuple[dict[str, Any], Any]:
    """Runs the scenario in the running loop with ``context`` installed: (JSON outcome, raw
    result or error)."""
    with scenario_running(context or ScenarioContext(mode="cassette")):
        async with client_factory() as client:
            try:
                value = await scenario.run(client, args)
            except ConvoportError as exc:
                return outcome_of_error(exc), exc
            return outcome_json(value, scenario), value


def check_outcome(
    scenario: Scenario,
    outcome: dict[str, Any],
    raw: Any,
    args: dict[str, Any],
    requests: RequestLog | None = None,
) -> None:
    """Asserts the scenario's expectations: the error it expects, else its invariants and
    its checks on the requests."""
    if scenario.error is not None:
        got = outcome.get("error", {}).get("type")
        assert got == scenario.error, f"scenario {scenario.name} expects {scenario.error}, got " + (
            f"{got}: {raw}" if got else "a result"
        )
        return
    if "error" in outcome:
        raise AssertionError(f"scenario {scenario.name} failed: {raw}") from (
            raw if isinstance(raw, BaseException) else None
        )
    # The requests first: what the adapter sent explains a wrong result best.
    if scenario.check_requests is not None and requests is not None:
        scenario.check_requests(requests, raw, args)
    if scenario.check is not None:
        scenario.check(raw, args)


class CassetteContract(ProviderContract):
    """Runs every declared scenario from the adapter's cassettes and expected results."""

    def cassette_path(self, scenario: Scenario) -> Path:
        return self.adapter_dir() / "cassettes" / f"{scenario.name}.json"

    def expected_path(self, scenario: Scenario) -> Path:
        return self.adapter_dir() / "expected" / f"{scenario.name}.json"

    def replay_transport(self, cassette: Cassette) -> httpx.AsyncBaseTransport:
        """The replay transport; cassettes with WebSocket frames get the WebSocket replay."""
        return replay_transport(cassette)

    def run_scenario(self, scenario: Scenario) -> None:
        self.skip_undeclared(scenario)
        path = self.cassette_path(scenario)
        expected_path = self.expected_path(scenario)
        if not path.is_file():
            raise ContractViolation(
                f"scenario {scenario.name!r} has no cassette: {path} does not exist "
                f"({self.provider} declares "
                f"{scenario.capability.value if scenario.capability else 'it'})"
            )
        if not expected_path.is_file():
            raise ContractViolation(
                f"scenario {scenario.name!r} has no expected result: {expected_path} does not exist"
            )
        replayed = replay_cassette(
            self.provider,
            scenario,
            load_cassette(path),
            connect_options=self.connect_options,
            transport_factory=self.replay_transport,
        )
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        differences = json_diff(replayed.outcome, expected)
        assert not differences, (
            f"scenario {scenario.name!r}: the outcome differs from {expected_path}:\n  "
            + "\n  ".join(differences)
        )
        self.check_outcome(
            scenario, replayed.outcome, replayed.raw, replayed.args, replayed.requests
        )
        replayed.assert_all_used()

    def test_cassettes_pass_the_secret_scan(self) -> None:
        """No cassette holds a credential."""
        folder = self.adapter_dir() / "cassettes"
        secrets = [str(v) for k, v in self.connect_options.items() if "key" in k or "token" in k]
        findings = scan_paths([folder], secrets=[s for s in secrets if not s.startswith("test-")])
        assert not findings, "secrets in cassettes:\n" + "\n".join(str(f) for f in findings)

    def test_every_declared_scenario_has_fixtures(self) -> None:
        """Each scenario that applies (kit and own) has a cassette and an expected result."""
        missing = []
        for scenario in self.all_scenarios():
            if not self.declared(scenario):
                continue
            for path in (self.cassette_path(scenario), self.expected_path(scenario)):
                if not path.is_file():
                    missing.append(f"{scenario.name}: {path}")
        assert not missing, "missing fixtures for declared scenarios:\n  " + "\n  ".join(missing)


def replay_transport(cassette: Cassette) -> httpx.AsyncBaseTransport:
    """The strict replay of ``cassette``: WebSocket sessions too when it has any."""
    if cassette.extensions.get("websocket"):
        factory = load_object("convoport.contracts.ws:replay_transport")
        transport: httpx.AsyncBaseTransport = factory(cassette)
        return transport
    return ReplayTransport(cassette)


@attrs.frozen(kw_only=True)
class Replayed:
    """One scenario replayed from a cassette: its JSON ``outcome``, the ``raw`` result (or
    the error), the ``args`` it ran with, the ``requests`` the adapter sent and the replay
    ``transport`` (for :meth:`assert_all_used` and closer looks)."""

    outcome: dict[str, Any]
    raw: Any
    args: dict[str, Any]
    requests: RequestLog
    transport: httpx.AsyncBaseTransport

    def assert_all_used(self) -> None:
        """Fails for recorded interactions (and WebSocket sessions) nobody requested."""
        check = getattr(self.transport, "assert_all_used", None)
        if check is not None:
            check()


def replay_cassette(
    provider: str,
    scenario: Scenario,
    cassette: Cassette,
    *,
    connect_options: Mapping[str, Any] | None = None,
    transport_factory: Callable[[Cassette], httpx.AsyncBaseTransport] | None = None,
) -> Replayed:
    """Replays ``cassette`` through ``provider``'s adapter exactly as
    :class:`CassetteContract` does (the scenario's ``replay`` wrapper and
    ``connect_options`` included), on a fresh event loop; compares nothing, checks nothing."""
    return asyncio.run(
        replay_cassette_async(
            provider,
            scenario,
            cassette,
            connect_options=connect_options,
            transport_factory=transport_factory,
        )
    )


async def replay_cassette_async(
    provider: str,
    scenario: Scenario,
    cassette: Cassette,
    *,
    connect_options: Mapping[str, Any] | None = None,
    transport_factory: Callable[[Cassette], httpx.AsyncBaseTransport] | None = None,
) -> Replayed:
    """:func:`replay_cassette` in the running event loop."""
    args = dict(cassette.meta.get("args", {}))
    transport = (transport_factory or replay_transport)(cassette)
    outer = scenario.replay(transport) if scenario.replay is not None else transport
    context = ScenarioContext(mode="cassette")
    observed = ObservingTransport(outer, context.requests)
    options = {**(connect_options or {}), **scenario.connect_options}
    outcome, raw = await run_scenario_async(
        scenario,
        lambda: connect(provider, transport=observed, retry=KIT_RETRY, **options),
        args,
        context,
    )
    return Replayed(
        outcome=outcome, raw=raw, args=args, requests=context.requests, transport=transport
    )


class EmulatorContract(ProviderContract):
    """Runs every declared scenario against the adapter's emulator harness (invariants)."""

    def harness(self) -> EmulatorHarness:
        cls = self.adapter_class()
        if cls.emulator is None:
            pytest.skip(f"{self.provider} ships no emulator")
        harness = load_object(cls.emulator)()
        if not isinstance(harness, EmulatorHarness):
            raise ContractViolation(
                f"{cls.emulator} must subclass convoport.sandbox.EmulatorHarness"
            )
        return harness

    def run_scenario(self, scenario: Scenario) -> None:
        self.skip_undeclared(scenario)
        harness = self.harness()
        found = harness.scenario_args(scenario.name)
        args = found if found is not None else scenario.default_args
        if args is None:
            pytest.skip(f"the {self.provider} emulator has no data for {scenario.name}")
        args = dict(args)
        options = {
            **harness.connect_options(),
            **self.connect_options,
            **scenario.connect_options,
        }
        reason = apply_fault(harness, scenario, options)
        if reason is not None:
            pytest.skip(reason)
        transport = harness.transport()
        if scenario.emulator_transport is not None:
            transport = scenario.emulator_transport(harness, transport, args)
        context = ScenarioContext(mode="emulator", harness=harness)
        observed = ObservingTransport(transport, context.requests)
        outcome, raw = self.execute(
            scenario,
            lambda: connect(self.provider, transport=observed, retry=KIT_RETRY, **options),
            args,
            context,
        )
        self.check_outcome(scenario, outcome, raw, args, context.requests)

    def test_sandbox_connects(self) -> None:
        """``connect(provider, sandbox=True)`` reaches the emulator with no account."""
        cls = self.adapter_class()
        if cls.emulator is None:
            pytest.skip(f"{self.provider} ships no emulator")
        client = connect(self.provider, sandbox=True)
        asyncio.run(client.aclose())
        assert client.provider == self.provider


def apply_fault(
    harness: EmulatorHarness, scenario: Scenario, options: dict[str, Any]
) -> str | None:
    """Sets up the emulator fault the scenario needs (``options`` gets bad credentials);
    returns why it cannot, or ``None``."""
    if scenario.faults is None:
        return None
    if scenario.faults == "bad_credentials":
        options.update(harness.bad_credentials())
        return None
    # The harness's Faults first (rate_limit_next, fail_next), then a knob of the harness
    # itself (expire_links_mid_download): an int, "how many next times".
    holder: object
    for holder in (harness.faults, harness):
        if isinstance(getattr(holder, scenario.faults, None), int):
            setattr(holder, scenario.faults, 1)
            return None
    return f"the emulator cannot inject {scenario.faults}"


__all__ = [
    "KIT_RETRY",
    "CassetteContract",
    "ContractViolation",
    "EmulatorContract",
    "ProviderContract",
    "Replayed",
    "apply_fault",
    "check_outcome",
    "gate_reason",
    "replay_cassette",
    "replay_cassette_async",
    "replay_transport",
    "run_scenario_async",
]
