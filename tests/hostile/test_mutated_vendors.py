"""Property tests: mutated vendor answers through every registered vendor adapter.

For each built-in adapter with an emulator (``BUILTIN_ADAPTERS``: adapters that land later are
covered without edits), hypothesis draws a plan of rewrites (:mod:`tests.hostile._mutate`:
wrong types, missing keys, nulls, huge numbers, NaN/inf, garbled or naive timestamps, deep
nesting, non-JSON, truncated bodies, HTML error pages, unexpected statuses, broken SSE framing,
unknown or garbage WebSocket messages, malformed CSV) and drives every operation the adapter
declares through its emulator with the rewritten answers. Asserted:

* only convoport errors come out (``ConvoportError``; never ``KeyError``, ``httpx.*``,
  ``RecursionError``, ``OverflowError`` …);
* nothing waits past its bound: the adapter's bounds (every float setting named ``*_timeout``
  or ``*_wait``) are set to :data:`BOUND` seconds and the request timeout to :data:`BOUND`;
  each operation must end within :data:`GUARD` seconds (a hang detector far above every
  bound, not a timing assertion).

CI runs a fixed seed (``derandomize``) and :data:`EXAMPLES` examples per adapter. The longer
run (documented in ``tests/hostile/README.md``)::

    CONVOPORT_HOSTILE_EXAMPLES=500 CONVOPORT_HOSTILE_SEED=random \\
        pytest -p no:cacheprovider tests/hostile/test_mutated_vendors.py
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, seed, settings

import convoport
from convoport import ConvoportError
from convoport.adapter import Adapter, load_object
from convoport.adapters._builtin import BUILTIN_ADAPTERS
from convoport.capabilities import Capability
from convoport.http import RetryPolicy
from convoport.live import LiveOptions
from convoport.sandbox import EmulatorHarness, HarnessSettings, emulator_transport, tone_pcm

from ._mutate import Mutation, Mutator, plans

#: Seconds every configurable bound of the adapter under test is set to.
BOUND = 1.0
#: Seconds one operation may take before the test calls it a hang (far above BOUND).
GUARD = 20.0
EXAMPLES = int(os.environ.get("CONVOPORT_HOSTILE_EXAMPLES", "12"))
_SEED = os.environ.get("CONVOPORT_HOSTILE_SEED", "20240611")
RANDOM = _SEED == "random"

HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def _vendor_names() -> list[str]:
    """Every built-in adapter; those without an emulator are skipped inside the test (so a
    module that fails to import is a failure of that adapter, not of collection)."""
    return sorted(BUILTIN_ADAPTERS)


def _adapter_class(name: str) -> type[Adapter]:
    cls = load_object(BUILTIN_ADAPTERS[name])
    assert isinstance(cls, type)
    assert issubclass(cls, Adapter)
    return cls


def _bounded_options(cls: type[Adapter]) -> dict[str, Any]:
    """The adapter's own bounds (float settings named ``*_timeout``/``*_wait``) set to BOUND,
    its poll intervals (``*_interval``) short."""
    options: dict[str, Any] = {}
    for field in attrs.fields(cls.config_class):
        name = field.name
        if name.endswith(("_timeout", "_wait")):
            options[name] = BOUND
        elif name.endswith("_interval"):
            options[name] = 0.05
    return options


Operation = Callable[[convoport.AsyncClient], Awaitable[object]]


def _operations(cls: type[Adapter], session_id: str | None) -> list[tuple[str, Operation]]:
    """What the adapter declares, as calls of the user API."""
    ports = cls.capabilities.ports
    ops: list[tuple[str, Operation]] = []

    if Capability.CATALOG_LIST in ports:

        async def listing(client: convoport.AsyncClient) -> object:
            return [s async for s in client.list_sessions(page_size=2, limit=5)]

        ops.append(("list_sessions", listing))
    if session_id is not None:
        sid = session_id
        simple = {
            Capability.CATALOG_GET: ("get_session", lambda c: c.get_session(sid)),
            Capability.TRANSCRIPTS: ("get_transcript", lambda c: c.get_transcript(sid)),
            Capability.SUMMARIES: ("get_summary", lambda c: c.get_summary(sid)),
            Capability.PARTICIPANTS: ("list_participants", lambda c: c.list_participants(sid)),
            Capability.CHAT: ("list_chat", lambda c: c.list_chat(sid)),
        }
        for capability, op in simple.items():
            if capability in ports:
                ops.append(op)
        if Capability.RECORDINGS in ports:

            async def download(client: convoport.AsyncClient) -> object:
                async with client.open_recording(sid) as stream:
                    return sum([len(c) async for c in stream.aiter_bytes()])

            ops.append(("open_recording", download))
    if Capability.LIVE_INGEST in ports:

        async def live(client: convoport.AsyncClient) -> object:
            options = LiveOptions(sample_rate=16000, ttl=60)
            async with await client.start_live(options) as session:
                await session.send_audio(tone_pcm(seconds=1.0, sample_rate=16000))
                await session.finalize()
                return await session.wait()

        ops.append(("live", live))
    if Capability.BATCH_INGEST in ports:

        async def batch(client: convoport.AsyncClient) -> object:
            return await client.analyze(tone_pcm(seconds=1.0, sample_rate=16000))

        ops.append(("analyze", batch))
    return ops


async def _run(name: str, plan: list[Mutation]) -> None:
    cls = _adapter_class(name)
    harness_class = load_object(cls.emulator or "")
    assert issubclass(harness_class, EmulatorHarness)
    harness = harness_class.from_settings(HarnessSettings(sessions=4, seed=3))
    mutator = Mutator(harness.app, plan)
    client = convoport.connect(
        name,
        transport=emulator_transport(mutator),
        timeout=BOUND,
        retry=RetryPolicy(attempts=2, backoff_base=0.0, backoff_max=0.0, retry_after_cap=0.1),
        **{**harness.connect_options(), **_bounded_options(cls)},
    )
    async with client:
        session_id = None
        if Capability.CATALOG_LIST in cls.capabilities.ports:  # one clean listing first
            async for session in client.list_sessions(limit=1):
                session_id = session.id
        mutator.enabled = True
        for label, op in _operations(cls, session_id):
            try:
                async with asyncio.timeout(GUARD):
                    await op(client)
            except ConvoportError:
                pass
            except TimeoutError:
                pytest.fail(
                    f"{name} {label} waited more than {GUARD}s although every bound is "
                    f"{BOUND}s (mutations applied: {mutator.applied})"
                )
            except Exception as exc:
                raise AssertionError(
                    f"{name} {label} raised {type(exc).__name__}: {exc!s:.300} "
                    f"(mutations applied: {mutator.applied})"
                ) from exc


def _seeded(test: Any) -> Any:
    return test if RANDOM else seed(int(_SEED))(test)


@pytest.mark.parametrize("name", _vendor_names())
def test_mutated_answers_give_only_convoport_errors_in_bounded_time(name: str) -> None:
    cls = _adapter_class(name)
    if cls.emulator is None:
        pytest.skip(f"{name} has no vendor emulator (not a vendor adapter)")

    @HOSTILE
    @_seeded
    @given(plan=plans())
    def check(plan: list[Mutation]) -> None:
        asyncio.run(_run(name, plan))

    check()
