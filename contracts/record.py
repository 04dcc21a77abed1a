"""Record the kit's cassettes for an adapter: against its emulator, or against the vendor.

::

    python -m convoport.contracts.record PROVIDER [--scenario NAME ...]
        [--emulator | --base-url URL] --out DIR [--write-expected]
        [--args FILE.json] [--require NAME ...] [--scenarios MODULE:ATTR] [--harness MODULE:ATTR]

For every kit scenario the adapter's capabilities (and ``--require`` requirements) admit —
or only the ``--scenario`` ones, which may also name the adapter's own scenarios
(``--scenarios`` loads them; those registered with ``register_scenarios`` are found too) — the
recorder connects the adapter through a :class:`~convoport.contracts.transport.RecordingTransport`,
runs the scenario exactly as the kit will, checks its invariants, and writes
``DIR/cassettes/<scenario>.json``; with ``--write-expected`` it then replays that cassette as
the kit does and writes the outcome to ``DIR/expected/<scenario>.json`` (review it by hand: it
is the contract). ``meta.source`` says how the cassette was recorded, ``meta.args`` holds the
scenario's arguments. Every written cassette goes through the secret scan
(:mod:`convoport.contracts.scan`, with the credentials used as exact secrets); a cassette with
a finding is deleted and the command exits 1.

Where it records:

* ``--emulator`` (the default): the adapter's emulator harness (``Adapter.emulator``, or
  ``--harness MODULE:ATTR``, any callable returning a harness), in-process. Arguments come
  from the harness's ``scenario_args``; faults (429, 5xx, bad credentials) are injected;
* ``--base-url URL`` or ``--vendor``: the real vendor (``URL`` is the adapter's ``base_url``
  option), with the credentials the adapter's config reads from the environment
  (``MURMUR_API_TOKEN``, ...). Arguments come from ``--args FILE.json`` (``{"scenario":
  {...args}}``), else from a cassette already in ``DIR``; ``auth_failure`` swaps every
  secret setting for an invalid value; scenarios that need an injected fault are skipped.

Exit status: 0 when everything asked for was recorded (skips are reported), 1 when a scenario
failed or a cassette failed the scan, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import attrs
import httpx

from convoport.adapter import Adapter, load_object
from convoport.client import AsyncClient
from convoport.config import build_config, secret_values
from convoport.connect import connect
from convoport.contracts.cassette import CassetteError, RecordedResponse, load_cassette
from convoport.contracts.kit import (
    KIT_RETRY,
    apply_fault,
    check_outcome,
    gate_reason,
    replay_cassette_async,
    run_scenario_async,
)
from convoport.contracts.scan import scan_cassette
from convoport.contracts.scenarios import (
    BY_NAME,
    SCENARIOS,
    ObservingTransport,
    Scenario,
    ScenarioContext,
    registered_scenarios,
)
from convoport.contracts.transport import RecordingTransport, json_diff
from convoport.errors import ConvoportError
from convoport.redact import Redactor
from convoport.registry import get_registry

#: The value ``auth_failure`` puts in every secret setting when recording against a vendor.
INVALID_CREDENTIAL = "convoport-invalid-credential"
#: What stands in for credentials when the recorder replays a cassette it wrote.
REPLAY_PLACEHOLDER = "test-replay-credential"

Status = Literal["recorded", "skipped", "failed"]


@attrs.frozen(kw_only=True)
class Recorded:
    """What happened to one scenario: ``status``, a ``reason`` for skips and failures, and
    the files written."""

    scenario: str
    status: Status
    reason: str = ""
    cassette: Path | None = None
    expected: Path | None = None

    def line(self) -> str:
        """One human-readable report line."""
        where = f" -> {self.cassette}" if self.cassette else ""
        if self.expected:
            where += f" (+ {self.expected.name})"
        why = f": {self.reason}" if self.reason else ""
        return f"{self.status:<8} {self.scenario}{where}{why}"


@attrs.frozen(kw_only=True)
class Target:
    """Where a recording goes: an emulator ``harness_factory``, or the vendor (``base_url``
    ``None`` for the adapter's default)."""

    harness_factory: Callable[[], Any] | None = None
    base_url: str | None = None
    harness_name: str = ""

    @property
    def emulator(self) -> bool:
        return self.harness_factory is not None


def load_scenarios(target: str) -> list[Scenario]:
    """The scenarios at ``"module:ATTR"`` (a ``Scenario``, an iterable of them, or a mapping
    whose values are scenarios)."""
    value = load_object(target)
    if isinstance(value, Scenario):
        return [value]
    items = value.values() if isinstance(value, Mapping) else value
    scenarios = list(items)
    bad = [repr(s) for s in scenarios if not isinstance(s, Scenario)]
    if bad:
        raise ConvoportError(f"{target} holds things that are not Scenario values: {bad[:3]}")
    return scenarios


def _source(provider: str, target: Target) -> str:
    if target.emulator:
        return (
            f"recorded with python -m convoport.contracts.record from the {provider} emulator "
            f"({target.harness_name}); no vendor account was used"
        )
    where = target.base_url or f"the {provider} vendor API"
    return (
        f"recorded with python -m convoport.contracts.record from {where} on "
        f"{datetime.now(UTC).date().isoformat()}"
    )


def _secret_fields(adapter_class: type[Adapter], config: Any) -> list[str]:
    secrets = set(secret_values(config))
    return [
        field.name
        for field in attrs.fields(adapter_class.config_class)
        if getattr(config, field.name, None) in secrets
    ]


class Recorder:
    """Records scenarios of one provider into ``out`` (see the module docstring)."""

    def __init__(
        self,
        provider: str,
        out: Path,
        *,
        target: Target,
        extra: Iterable[Scenario] = (),
        requirements: Iterable[str] = (),
        args: Mapping[str, Mapping[str, Any]] | None = None,
        write_expected: bool = False,
        connect_options: Mapping[str, Any] | None = None,
        stream_chunk_size: int | None = None,
        lost_response: RecordedResponse | None = None,
        source: str | None = None,
    ) -> None:
        self.provider = provider
        self.out = Path(out)
        self.target = target
        self.adapter_class = get_registry().get(provider).load()
        own = {s.name: s for s in (*registered_scenarios(provider), *extra)}
        clash = sorted(set(own) & set(BY_NAME))
        if clash:
            raise ConvoportError(f"own scenarios may not take kit scenario names: {clash}")
        self.scenarios: dict[str, Scenario] = {**{s.name: s for s in SCENARIOS}, **own}
        self.requirements = tuple(requirements)
        self.args = dict(args or {})
        self.write_expected = write_expected
        self.connect_options = dict(connect_options or {})
        self.stream_chunk_size = stream_chunk_size
        self.lost_response = lost_response
        self.source = source or _source(provider, target)

    def cassette_path(self, name: str) -> Path:
        return self.out / "cassettes" / f"{name}.json"

    def expected_path(self, name: str) -> Path:
        return self.out / "expected" / f"{name}.json"

    def selected(self, names: Sequence[str] | None) -> list[Scenario]:
        """The scenarios to record: ``names`` (unknown ones raise), else every kit and own
        scenario."""
        if not names:
            return list(self.scenarios.values())
        unknown = [n for n in names if n not in self.scenarios]
        if unknown:
            raise ConvoportError(
                f"unknown scenario(s) {unknown}; known: {', '.join(sorted(self.scenarios))}",
                hint="own scenarios need --scenarios MODULE:ATTR",
            )
        return [self.scenarios[n] for n in names]

    def record_all(self, names: Sequence[str] | None = None) -> list[Recorded]:
        return [asyncio.run(self.record(s)) for s in self.selected(names)]

    def _args_for(self, scenario: Scenario, harness: Any) -> dict[str, Any] | None:
        if scenario.name in self.args:
            return dict(self.args[scenario.name])
        if harness is not None:
            found = harness.scenario_args(scenario.name)
            if found is not None:
                return dict(found)
        existing = self.cassette_path(scenario.name)
        if not self.target.emulator and existing.is_file():
            return dict(load_cassette(existing).meta.get("args", {}))
        return None if scenario.default_args is None else dict(scenario.default_args)

    async def record(self, scenario: Scenario) -> Recorded:
        """Records one scenario (and its expected file when asked)."""
        name = scenario.name
        reason = gate_reason(scenario, self.adapter_class, self.requirements)
        if reason is not None:
            return Recorded(scenario=name, status="skipped", reason=reason)
        harness = self.target.harness_factory() if self.target.harness_factory else None
        args = self._args_for(scenario, harness)
        if args is None:
            where = "the emulator has no data for it" if harness else "no args (give --args)"
            return Recorded(scenario=name, status="skipped", reason=where)
        options: dict[str, Any] = {}
        inner: httpx.AsyncBaseTransport
        if harness is not None:
            options.update(harness.connect_options())
            options.update(self.connect_options)
            options.update(scenario.connect_options)
            skip = apply_fault(harness, scenario, options)
            if skip is not None:
                return Recorded(scenario=name, status="skipped", reason=skip)
            inner = harness.transport()
            if scenario.emulator_transport is not None:
                inner = scenario.emulator_transport(harness, inner, args)
        else:
            if scenario.faults not in (None, "bad_credentials"):
                return Recorded(
                    scenario=name,
                    status="skipped",
                    reason=f"a vendor cannot be made to {scenario.faults} on purpose",
                )
            if self.target.base_url:
                options["base_url"] = self.target.base_url
            options.update(self.connect_options)
            options.update(scenario.connect_options)
            inner = httpx.AsyncHTTPTransport()
        recorder = RecordingTransport(
            inner,
            redactor=Redactor(),
            lost_response=self.lost_response,
            stream_chunk_size=self.stream_chunk_size,
        )
        context = ScenarioContext(mode="record", harness=harness)
        observed = ObservingTransport(recorder, context.requests)
        try:
            config_fields = {f.name for f in attrs.fields(self.adapter_class.config_class)}
            config = build_config(
                self.adapter_class.config_class,
                {k: v for k, v in options.items() if k in config_fields},
                provider=self.provider,
            )
        except ConvoportError as exc:
            return Recorded(scenario=name, status="failed", reason=_one_line(exc))
        used_secrets = secret_values(config)
        recorder.redactor.add(*used_secrets)
        secret_fields = _secret_fields(self.adapter_class, config)
        replay_options = {**options, **{f: REPLAY_PLACEHOLDER for f in secret_fields}}
        if scenario.faults == "bad_credentials" and harness is None:
            options.update({f: INVALID_CREDENTIAL for f in secret_fields})

        def client() -> AsyncClient:
            return connect(self.provider, transport=observed, retry=KIT_RETRY, **options)

        try:
            outcome, raw = await run_scenario_async(scenario, client, args, context)
            check_outcome(scenario, outcome, raw, args, context.requests)
        except (AssertionError, ConvoportError) as exc:
            return Recorded(scenario=name, status="failed", reason=_one_line(exc))
        finally:
            await recorder.aclose()
        path = self.cassette_path(name)
        meta: dict[str, Any] = {
            "provider": self.provider,
            "scenario": name,
            "source": self.source,
            "args": args,
        }
        if scenario.description:
            meta["description"] = scenario.description
        try:
            recorder.save(path, meta)
        except CassetteError as exc:
            return Recorded(scenario=name, status="failed", reason=_one_line(exc))
        findings = scan_cassette(path, secrets=used_secrets)
        if findings:
            path.unlink()
            return Recorded(
                scenario=name,
                status="failed",
                reason="the secret scan flagged the cassette (deleted): "
                + "; ".join(str(f) for f in findings[:5]),
            )
        if not self.write_expected:
            return Recorded(scenario=name, status="recorded", cassette=path)
        return await self._expect(scenario, path, outcome, replay_options)

    async def _expect(
        self,
        scenario: Scenario,
        path: Path,
        recorded_outcome: dict[str, Any],
        options: Mapping[str, Any],
    ) -> Recorded:
        replay_options = {k: v for k, v in options.items() if k != "transport"}
        try:
            replayed = await replay_cassette_async(
                self.provider, scenario, load_cassette(path), connect_options=replay_options
            )
            replayed.assert_all_used()
            check_outcome(
                scenario, replayed.outcome, replayed.raw, replayed.args, replayed.requests
            )
        except (AssertionError, ConvoportError) as exc:
            return Recorded(
                scenario=scenario.name,
                status="failed",
                cassette=path,
                reason=f"the cassette does not replay: {_one_line(exc)}",
            )
        # The replay's outcome is on the wildcard side: what was redacted matches anything.
        differences = json_diff(recorded_outcome, replayed.outcome)
        if differences:
            return Recorded(
                scenario=scenario.name,
                status="failed",
                cassette=path,
                reason="the replay differs from the recording: " + "; ".join(differences[:5]),
            )
        expected = self.expected_path(scenario.name)
        expected.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(replayed.outcome, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        expected.write_text(text, encoding="utf-8", newline="\n")
        return Recorded(scenario=scenario.name, status="recorded", cassette=path, expected=expected)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:400]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m convoport.contracts.record",
        description="Record the contract kit's cassettes for an adapter.",
    )
    parser.add_argument("provider", help="the provider name, as registered")
    parser.add_argument(
        "--scenario", action="append", dest="names", metavar="NAME", help="only this scenario"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--emulator", action="store_true", help="record from the adapter's emulator (default)"
    )
    where.add_argument("--base-url", metavar="URL", help="record from the vendor at URL")
    where.add_argument(
        "--vendor", action="store_true", help="record from the vendor at its default URL"
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for cassettes/, expected/")
    parser.add_argument(
        "--write-expected", action="store_true", help="also write expected/<scenario>.json"
    )
    parser.add_argument("--args", type=Path, metavar="FILE", help="JSON: scenario -> args")
    parser.add_argument(
        "--require", action="append", default=[], metavar="NAME", help="a requirement met"
    )
    parser.add_argument(
        "--scenarios", action="append", default=[], metavar="MODULE:ATTR", help="own scenarios"
    )
    parser.add_argument("--harness", metavar="MODULE:ATTR", help="the emulator harness factory")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    ns = parser.parse_args(argv)
    try:
        extra = [s for target in ns.scenarios for s in load_scenarios(target)]
        adapter_class = get_registry().get(ns.provider).load()
        target: Target
        if ns.base_url or ns.vendor:
            target = Target(base_url=ns.base_url)
        else:
            harness_name = ns.harness or adapter_class.emulator
            if not harness_name:
                parser.error(f"{ns.provider} ships no emulator: give --base-url or --harness")
            target = Target(harness_factory=load_object(harness_name), harness_name=harness_name)
        args: dict[str, Any] = {}
        if ns.args is not None:
            args = json.loads(ns.args.read_text(encoding="utf-8"))
            if not isinstance(args, dict):
                parser.error(f"{ns.args} must hold a JSON object: scenario -> args")
        recorder = Recorder(
            ns.provider,
            ns.out,
            target=target,
            extra=extra,
            requirements=ns.require,
            args=args,
            write_expected=ns.write_expected,
        )
        results = recorder.record_all(ns.names)
    except (ConvoportError, OSError, ValueError) as exc:
        print(f"record: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    for result in results:
        print(result.line())
    failed = [r for r in results if r.status == "failed"]
    asked = set(ns.names or ())
    skipped_asked = [r for r in results if r.status == "skipped" and r.scenario in asked]
    return 1 if failed or skipped_asked else 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "INVALID_CREDENTIAL",
    "REPLAY_PLACEHOLDER",
    "Recorded",
    "Recorder",
    "Target",
    "load_scenarios",
    "main",
]
