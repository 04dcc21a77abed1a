"""The plugin registry: entry points, broken plugins, disabling, duplicates, unknown names."""

from __future__ import annotations

import types
from typing import Any

import pytest

from convoport import ConfigError, PluginWarning
from convoport.registry import AdapterRegistry, build_registry, hookimpl
from tests.fakes import FakeAdapter


class FakeDist:
    def __init__(self, name: str, version: str = "1.0") -> None:
        self.name = name
        self.version = version
        self.metadata = {"Name": name}


class FakeEntryPoint:
    """Duck-typed ``importlib.metadata.EntryPoint`` with a controllable ``load``."""

    def __init__(self, name: str, target: Any, dist: str) -> None:
        self.name = name
        self.value = f"{dist}.plugin"
        self.group = "convoport.adapters"
        self.dist = FakeDist(dist)
        self._target = target

    def load(self) -> Any:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


def plugin_registering(name: str, target: Any) -> types.SimpleNamespace:
    @hookimpl
    def convoport_register_adapters(registry: AdapterRegistry) -> None:
        registry.register(name, target)

    return types.SimpleNamespace(convoport_register_adapters=convoport_register_adapters)


def build(*eps: FakeEntryPoint) -> AdapterRegistry:
    return build_registry(entry_points=eps)  # type: ignore[arg-type]


def test_registers_by_dotted_path_without_importing() -> None:
    reg = build(FakeEntryPoint("fakes", plugin_registering("fake", "tests.no_such:Nope"), "pkg"))
    entry = reg.get("fake")
    assert (entry.package, entry.version, entry.plugin) == ("pkg", "1.0", "fakes")
    with pytest.raises(ConfigError, match=r"fake adapter \(pkg 1.0\) failed to load"):
        entry.load()


def test_registers_a_class_and_loads_it() -> None:
    reg = build(FakeEntryPoint("fakes", plugin_registering("fake", FakeAdapter), "pkg"))
    assert reg.get("fake").load() is FakeAdapter
    assert reg.names() == ["fake"]


def test_dotted_path_loads_lazily() -> None:
    reg = build(FakeEntryPoint("f", plugin_registering("fake", "tests.fakes:FakeAdapter"), "p"))
    assert reg.get("fake").load() is FakeAdapter


def test_name_mismatch_is_an_error() -> None:
    reg = build(FakeEntryPoint("f", plugin_registering("other", FakeAdapter), "pkg"))
    with pytest.raises(ConfigError, match="name attribute says 'fake'"):
        reg.get("other").load()


def test_broken_plugin_is_skipped_with_a_warning_naming_it() -> None:
    good = FakeEntryPoint("good", plugin_registering("fake", FakeAdapter), "good-pkg")
    bad = FakeEntryPoint("broken", ImportError("no module named vendor_sdk"), "broken-pkg")
    with pytest.warns(PluginWarning, match=r"'broken' \(broken-pkg\) failed to load") as rec:
        reg = build(bad, good)
    assert "vendor_sdk" in str(rec[0].message)
    assert reg.names() == ["fake"]


def test_plugin_whose_hook_raises_is_skipped() -> None:
    @hookimpl
    def convoport_register_adapters(registry: AdapterRegistry) -> None:
        raise RuntimeError("boom")

    ns = types.SimpleNamespace(convoport_register_adapters=convoport_register_adapters)
    with pytest.warns(PluginWarning, match="boom"):
        reg = build(FakeEntryPoint("bad", ns, "bad-pkg"))
    assert reg.names() == []


def test_plugin_without_hook_is_reported() -> None:
    with pytest.warns(PluginWarning, match="no convoport_register_adapters hook"):
        build(FakeEntryPoint("empty", types.SimpleNamespace(), "empty-pkg"))


def test_strict_mode_makes_a_broken_plugin_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOPORT_STRICT_PLUGINS", "1")
    with pytest.raises(ConfigError, match="'broken'"):
        build(FakeEntryPoint("broken", ImportError("x"), "broken-pkg"))


def test_disable_by_entry_point_or_provider_name(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = FakeEntryPoint("broken", ImportError("x"), "broken-pkg")
    good = FakeEntryPoint("good", plugin_registering("fake", FakeAdapter), "good-pkg")
    monkeypatch.setenv("CONVOPORT_DISABLE_PLUGINS", "broken")
    reg = build(bad, good)  # no warning: the broken one is never loaded
    assert reg.names() == ["fake"]
    monkeypatch.setenv("CONVOPORT_DISABLE_PLUGINS", " fake ,broken")
    assert build(bad, good).names() == []


def test_two_adapters_claiming_one_name_names_both_packages() -> None:
    a = FakeEntryPoint("a", plugin_registering("fake", FakeAdapter), "first-pkg")
    b = FakeEntryPoint("b", plugin_registering("fake", FakeAdapter), "second-pkg")
    with pytest.raises(ConfigError) as info:
        build(a, b)
    assert "first-pkg" in str(info.value)
    assert "second-pkg" in str(info.value)


def test_unknown_provider_lists_installed() -> None:
    reg = build(FakeEntryPoint("f", plugin_registering("fake", FakeAdapter), "pkg"))
    with pytest.raises(ConfigError) as info:
        reg.get("nope")
    assert "unknown provider 'nope'" in str(info.value)
    assert "installed providers: fake" in str(info.value)


def test_invalid_provider_name_skips_that_plugin_only() -> None:
    bad = FakeEntryPoint("f", plugin_registering("Bad Name", FakeAdapter), "pkg")
    good = FakeEntryPoint("g", plugin_registering("fake", FakeAdapter), "good-pkg")
    with pytest.warns(PluginWarning, match="invalid provider name"):
        reg = build(bad, good)
    assert reg.names() == ["fake"]


def test_invalid_provider_name_is_fatal_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOPORT_STRICT_PLUGINS", "1")
    with pytest.raises(ConfigError, match="invalid provider name"):
        build(FakeEntryPoint("f", plugin_registering("Bad Name", FakeAdapter), "pkg"))


def test_connect_unknown_lists_installed_providers() -> None:
    import convoport

    with pytest.raises(ConfigError, match="installed providers"):
        convoport.connect("certainly-not-installed")


def test_builtin_adapters_use_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="convoport.adapters")}
    assert eps["builtin"] == "convoport.adapters._builtin"
