"""The adapter registry: pluggy + the ``convoport.adapters`` entry-point group.

A plugin distribution declares an entry point in the group ``convoport.adapters`` whose target
is a module (or object) implementing the one hook::

    # pyproject.toml
    [project.entry-points."convoport.adapters"]
    murmur = "convoport_murmur.plugin"

    # convoport_murmur/plugin.py
    from convoport import hookimpl

    @hookimpl
    def convoport_register_adapters(registry):
        registry.register("murmur", "convoport_murmur.adapter:MurmurAdapter")

Registering by dotted path keeps the adapter module unloaded until first use. The built-in
adapters register through exactly this group (entry point ``builtin``).

Environment:

* ``CONVOPORT_DISABLE_PLUGINS=a,b`` — entry points *or* provider names to ignore;
* ``CONVOPORT_STRICT_PLUGINS=1`` — a plugin that fails to load is an error, not a warning.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import os
import threading
import warnings
from collections.abc import Iterable
from typing import Any

import attrs
import pluggy

from convoport.adapter import Adapter
from convoport.errors import ConfigError, PluginWarning
from convoport.model import validate_provider_name

ENTRY_POINT_GROUP = "convoport.adapters"
PROJECT = "convoport"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorator for a plugin's ``convoport_register_adapters(registry)`` implementation.
hookimpl = pluggy.HookimplMarker(PROJECT)

logger = logging.getLogger("convoport.plugins")


class AdapterNameConflict(ConfigError):
    """Two installed packages register adapters under one provider name."""


class _Spec:
    @hookspec
    def convoport_register_adapters(self, registry: AdapterRegistry) -> None:
        """Register adapters: ``registry.register(name, "package.module:AdapterClass")``."""


@attrs.define(kw_only=True)
class AdapterEntry:
    """One registered adapter: its provider name, where it lives, and who provides it."""

    name: str
    target: str | type[Adapter]
    package: str
    version: str
    plugin: str
    _loaded: type[Adapter] | None = attrs.field(default=None, alias="_loaded")

    def load(self) -> type[Adapter]:
        """Imports the adapter class (once). A failure is a ``ConfigError`` naming the
        package."""
        if self._loaded is not None:
            return self._loaded
        target = self.target
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            try:
                module = importlib.import_module(module_name)
                obj: Any = module
                for part in attr.split(".") if attr else ():
                    obj = getattr(obj, part)
            except Exception as exc:
                raise ConfigError(
                    f"the {self.name} adapter ({self.package} {self.version}) failed to load: "
                    f"{type(exc).__name__}: {exc}",
                    hint=f"reinstall {self.package}, or disable it with "
                    f"CONVOPORT_DISABLE_PLUGINS={self.plugin}",
                ) from exc
        else:
            obj = target
        if not (isinstance(obj, type) and issubclass(obj, Adapter)):
            raise ConfigError(
                f"{self.package} registered {target!r} for {self.name}, which is not an "
                "Adapter subclass"
            )
        if obj.name != self.name:
            raise ConfigError(
                f"{self.package} registered {obj.__qualname__} as {self.name!r}, but its "
                f"name attribute says {obj.name!r}"
            )
        self._loaded = obj
        return obj


class AdapterRegistry:
    """Registered adapters by provider name. Plugins call :meth:`register` from their hook."""

    def __init__(self) -> None:
        self._entries: dict[str, AdapterEntry] = {}
        self._current: tuple[str, str, str] = ("<direct>", "<direct>", "")
        self._blocked: frozenset[str] = frozenset()

    def register(self, name: str, adapter: str | type[Adapter]) -> None:
        """Registers ``adapter`` (a class, or ``"module:Class"`` to import on first use)."""
        try:
            validate_provider_name(name)
        except ValueError as exc:
            raise ConfigError(f"plugin {self._current[0]}: {exc}") from None
        plugin, package, version = self._current
        if name in self._blocked:
            logger.info("adapter %s from %s disabled by CONVOPORT_DISABLE_PLUGINS", name, package)
            return
        if name in self._entries:
            other = self._entries[name]
            raise AdapterNameConflict(
                f"two adapters claim the name {name!r}: {other.package} and {package}",
                hint="uninstall one of them, or disable one with "
                f"CONVOPORT_DISABLE_PLUGINS={plugin}",
            )
        self._entries[name] = AdapterEntry(
            name=name, target=adapter, package=package, version=version, plugin=plugin
        )

    def names(self) -> list[str]:
        """Registered provider names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[AdapterEntry]:
        return [self._entries[n] for n in self.names()]

    def get(self, name: str) -> AdapterEntry:
        """The entry for ``name``; unknown names are a ``ConfigError`` listing the installed."""
        try:
            return self._entries[name]
        except KeyError:
            installed = ", ".join(self.names()) or "none"
            raise ConfigError(
                f"unknown provider {name!r}",
                hint=f"installed providers: {installed}",
            ) from None


def _env_list(name: str) -> frozenset[str]:
    return frozenset(x.strip() for x in os.environ.get(name, "").split(",") if x.strip())


def _strict() -> bool:
    return os.environ.get("CONVOPORT_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes")


def _plugin_failed(plugin: str, package: str, exc: BaseException) -> None:
    message = (
        f"convoport plugin {plugin!r} ({package}) failed to load and was skipped: "
        f"{type(exc).__name__}: {exc}"
    )
    if _strict():
        raise ConfigError(message, hint="CONVOPORT_STRICT_PLUGINS is set") from exc
    logger.warning(message)
    warnings.warn(message, PluginWarning, stacklevel=4)


def _dist_of(ep: md.EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ep.value.split(":")[0].split(".")[0], ""
    return dist.metadata["Name"] or dist.name, dist.version


def build_registry(entry_points: Iterable[md.EntryPoint] | None = None) -> AdapterRegistry:
    """Loads every plugin of the entry-point group and collects their adapters."""
    registry = AdapterRegistry()
    disabled = _env_list("CONVOPORT_DISABLE_PLUGINS")
    registry._blocked = disabled
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(_Spec)
    eps = list(md.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points)
    loaded: list[tuple[str, str, str, Any]] = []
    for ep in sorted(eps, key=lambda e: (e.name != "builtin", e.name)):
        package, version = _dist_of(ep)
        if ep.name in disabled:
            pm.set_blocked(ep.name)
            logger.info("plugin %s (%s) disabled by CONVOPORT_DISABLE_PLUGINS", ep.name, package)
            continue
        if pm.has_plugin(ep.name):
            raise ConfigError(
                f"two plugins use the entry-point name {ep.name!r} ({package} and another)"
            )
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            _plugin_failed(ep.name, package, exc)
            continue
        loaded.append((ep.name, package, version, plugin))
    impls = {id(impl.plugin): impl for impl in pm.hook.convoport_register_adapters.get_hookimpls()}
    for name, package, version, plugin in loaded:
        impl = impls.get(id(plugin))
        if impl is None:
            _plugin_failed(name, package, TypeError("no convoport_register_adapters hook found"))
            continue
        registry._current = (name, package, version)
        try:
            impl.function(registry=registry)
        except AdapterNameConflict:
            raise  # a conflict between packages: the user must choose
        except Exception as exc:  # a ConfigError or a bug: that plugin only
            _plugin_failed(name, package, exc)
        finally:
            registry._current = ("<direct>", "<direct>", "")
    return registry


_lock = threading.Lock()
_registry: AdapterRegistry | None = None


def get_registry(*, reload: bool = False) -> AdapterRegistry:
    """The process-wide registry, built on first use (never at import time)."""
    global _registry
    with _lock:
        if _registry is None or reload:
            _registry = build_registry()
        return _registry


__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterEntry",
    "AdapterNameConflict",
    "AdapterRegistry",
    "build_registry",
    "get_registry",
    "hookimpl",
    "hookspec",
]
