"""``connect``, ``connect_sync`` and ``providers``: the entry points of the library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import httpx

from convoport.adapter import Adapter, ConnectOptions
from convoport.capabilities import Capabilities
from convoport.client import AsyncClient
from convoport.config import build_config
from convoport.errors import ConfigError
from convoport.http import RetryPolicy
from convoport.registry import get_registry

if TYPE_CHECKING:
    from convoport.sandbox import HarnessSettings
    from convoport.sync import SyncClient


@attrs.frozen(kw_only=True)
class ProviderInfo:
    """One installed backend, as ``convoport providers`` shows it. ``error`` is set (and
    ``capabilities`` empty) when the adapter failed to load."""

    name: str
    display_name: str
    package: str
    version: str
    capabilities: Capabilities
    error: str | None = None


def providers() -> list[ProviderInfo]:
    """Every installed backend, sorted by name (this loads each adapter class)."""
    result = []
    for entry in get_registry().entries():
        try:
            cls = entry.load()
        except ConfigError as exc:
            result.append(
                ProviderInfo(
                    name=entry.name,
                    display_name=entry.name,
                    package=entry.package,
                    version=entry.version,
                    capabilities=Capabilities(),
                    error=str(exc),
                )
            )
            continue
        result.append(
            ProviderInfo(
                name=entry.name,
                display_name=cls.display_name or entry.name,
                package=entry.package,
                version=entry.version,
                capabilities=cls.capabilities,
            )
        )
    return result


def adapter_class(provider: str) -> type[Adapter]:
    """The adapter class registered as ``provider`` (``ConfigError`` if unknown)."""
    return get_registry().get(provider).load()


def create_adapter(
    provider: str,
    *,
    sandbox: bool | HarnessSettings = False,
    transport: httpx.AsyncBaseTransport | None = None,
    client: httpx.AsyncClient | None = None,
    timeout: float | None = None,
    retry: RetryPolicy | None = None,
    env: dict[str, str] | None = None,
    **options: Any,
) -> Adapter:
    """Builds the adapter behind :func:`connect` (see there)."""
    if not isinstance(provider, str) or not provider:
        raise ConfigError("a provider name is needed, e.g. connect('gladia')")
    name, sep, target = provider.partition(":")
    cls = adapter_class(name)
    if sep:
        if not cls.target_option:
            raise ConfigError(
                f"{name} takes no target after ':' (got {provider!r})",
                hint=f"use connect({name!r})",
            )
        options.setdefault(cls.target_option, target)
    if sandbox:
        sandbox_options = cls._sandbox_options(None if isinstance(sandbox, bool) else sandbox)
        transport = transport or sandbox_options.pop("transport", None)
        for key, value in sandbox_options.items():
            options.setdefault(key, value)
    config = build_config(cls.config_class, options, provider=name, env=env)
    connect_options = ConnectOptions(
        transport=transport, client=client, timeout=timeout, retry=retry, sandbox=bool(sandbox)
    )
    return cls(config, connect_options)


def connect(
    provider: str,
    *,
    sandbox: bool | HarnessSettings = False,
    transport: httpx.AsyncBaseTransport | None = None,
    client: httpx.AsyncClient | None = None,
    timeout: float | None = None,
    retry: RetryPolicy | None = None,
    **options: Any,
) -> AsyncClient:
    """Connects to a backend and returns an :class:`AsyncClient`.

    ``provider`` is a registered name (``"gladia"``) or ``"name:TARGET"`` for backends that
    take one (``"local:./archive"``). Options come from keyword arguments (``api_key=...``),
    else from the environment variables the adapter's config documents, else a
    ``ConfigError`` names the missing variable. ``sandbox=True`` wires the adapter to its
    in-process emulator, seeded with demo data (no account needed), sized and degraded by the
    ``CONVOPORT_SANDBOX`` variable; ``sandbox=HarnessSettings(...)`` sets that explicitly.
    ``transport``/``client`` inject the HTTP machinery; ``timeout`` is seconds; ``retry`` a
    :class:`RetryPolicy`.

    No I/O happens here; use the client as ``async with connect(...) as client``.
    """
    adapter = create_adapter(
        provider,
        sandbox=sandbox,
        transport=transport,
        client=client,
        timeout=timeout,
        retry=retry,
        **options,
    )
    return AsyncClient(adapter)


def connect_sync(
    provider: str,
    *,
    sandbox: bool | HarnessSettings = False,
    transport: httpx.AsyncBaseTransport | None = None,
    client: httpx.AsyncClient | None = None,
    timeout: float | None = None,
    retry: RetryPolicy | None = None,
    **options: Any,
) -> SyncClient:
    """Like :func:`connect`, returning the blocking :class:`SyncClient` twin."""
    from convoport.sync import SyncClient

    return SyncClient(
        connect(
            provider,
            sandbox=sandbox,
            transport=transport,
            client=client,
            timeout=timeout,
            retry=retry,
            **options,
        )
    )


__all__ = [
    "ProviderInfo",
    "adapter_class",
    "connect",
    "connect_sync",
    "create_adapter",
    "providers",
]
