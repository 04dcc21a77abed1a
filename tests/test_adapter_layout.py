"""One way to write an adapter: every in-tree adapter has the same files and the same shape.

The conventions (``docs/adapter-guide.md``, "One way to write an adapter"):

* a vendor adapter's package holds ``__init__.py`` (a docstring, no imports), ``adapter.py``,
  ``wire.py``, ``translate.py``, ``emulator.py`` when it declares an emulator, ``live.py``
  exactly when it declares ``live.ingest``, and the ``cassettes/`` and ``expected/`` folders;
  an archive's package holds ``adapter.py`` and the modules of its own storage;
* ``wire.py`` names the provider (``PROVIDER``), the base URL (``DEFAULT_BASE_URL``) and the
  credential header (``KEY_HEADER``); the adapter class's ``name`` is ``wire.PROVIDER``, its
  config's ``base_url`` defaults to ``wire.DEFAULT_BASE_URL`` and its HTTP client sends the key
  in ``wire.KEY_HEADER`` only;
* ``translate.py`` is pure (no ``async``, no HTTP client); a function that turns a vendor
  payload into a neutral object is named ``<thing>_from_wire``, a request builder
  ``<thing>_to_wire`` (or ``*_params``/``*_body``); the error hook is
  ``error_info_from_wire(response, body)``;
* modules of one adapter import each other relatively and never import another adapter;
* vendor-only operations are ``ex_<operation>`` methods listed under "Extensions" in the
  adapter module's docstring; the class has no other public names of its own.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from convoport.adapters._builtin import BUILTIN_ADAPTERS
from convoport.capabilities import Capability
from convoport.connect import connect
from convoport.spi import Adapter, ArchiveAdapter

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ROOT / "adapters"
NEUTRAL = {
    "Session",
    "Transcript",
    "Summary",
    "Utterance",
    "Word",
    "Recording",
    "Participant",
    "ChatMessage",
    "LiveEvent",
    "IngestResult",
}


def _class(name: str) -> type[Adapter]:
    module, _, attr = BUILTIN_ADAPTERS[name].partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module), attr)
    return cls


VENDORS = sorted(n for n in BUILTIN_ADAPTERS if not issubclass(_class(n), ArchiveAdapter))
ARCHIVES = sorted(n for n in BUILTIN_ADAPTERS if issubclass(_class(n), ArchiveAdapter))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_every_builtin_adapter_is_checked() -> None:
    assert {"gladia", "illocution"} <= set(VENDORS)
    assert {"local", "postgresql"} <= set(ARCHIVES)
    packages = {p.name for p in ADAPTERS.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(BUILTIN_ADAPTERS)


@pytest.mark.parametrize("name", VENDORS)
def test_vendor_files(name: str) -> None:
    cls = _class(name)
    folder = ADAPTERS / name
    modules = {p.name for p in folder.glob("*.py")}
    expected = {"__init__.py", "adapter.py", "wire.py", "translate.py"}
    if cls.emulator:
        expected.add("emulator.py")
    if Capability.LIVE_INGEST in cls.capabilities.ports:
        expected.add("live.py")
    assert modules == expected
    assert (folder / "cassettes").is_dir()
    assert (folder / "expected").is_dir()
    init = _tree(folder / "__init__.py")
    assert not [n for n in init.body if isinstance(n, ast.Import | ast.ImportFrom)], (
        f"{name}/__init__.py imports: importing the package must stay cheap"
    )


@pytest.mark.parametrize("name", VENDORS)
def test_provider_base_url_and_credential_header_live_in_wire(name: str) -> None:
    cls = _class(name)
    wire = importlib.import_module(f"convoport.adapters.{name}.wire")
    assert cls.name == wire.PROVIDER
    source = (ADAPTERS / name / "adapter.py").read_text(encoding="utf-8")
    assert "= wire.PROVIDER" in source, f"{name}: the class's name is wire.PROVIDER, not a copy"
    base_url = attrs.fields_dict(cls.config_class)["base_url"]
    assert base_url.default == wire.DEFAULT_BASE_URL
    adapter: Any = connect(name, sandbox=True).adapter
    sent = adapter.http.credential_headers(httpx.URL(str(adapter.http.base_url)))
    assert [k.lower() for k in sent] == [wire.KEY_HEADER.lower()]


@pytest.mark.parametrize("name", VENDORS)
def test_translate_is_pure_and_named(name: str) -> None:
    path = ADAPTERS / name / "translate.py"
    tree = _tree(path)
    for node in ast.walk(tree):
        assert not isinstance(node, ast.AsyncFunctionDef | ast.Await), (
            f"{name}/translate.py:{getattr(node, 'lineno', '?')}: translators do no I/O"
        )
        if isinstance(node, ast.ImportFrom) and node.module == "convoport.http":
            names = {a.name for a in node.names}
            assert "HttpClient" not in names
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for fn in functions:
        if fn.name.startswith("_") or fn.returns is None:
            continue
        returns = ast.unparse(fn.returns)
        if any(word in returns.replace("[", " ").replace("|", " ").split() for word in NEUTRAL):
            assert fn.name.endswith("_from_wire"), (
                f"{name}/translate.py: {fn.name} returns {returns}: name it <thing>_from_wire"
            )
    translate = importlib.import_module(f"convoport.adapters.{name}.translate")
    hook = translate.error_info_from_wire
    assert list(inspect.signature(hook).parameters) == ["response", "body"]


@pytest.mark.parametrize("name", [*VENDORS, *ARCHIVES])
def test_imports_stay_inside_the_adapter(name: str) -> None:
    own = f"convoport.adapters.{name}"
    for path in (ADAPTERS / name).glob("*.py"):
        for node in ast.walk(_tree(path)):
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            where = f"{name}/{path.name}:{getattr(node, 'lineno', '?')}"
            for module in modules:
                assert not module.startswith(own), f"{where}: import {module} relatively"
                assert not module.startswith("convoport.adapters."), (
                    f"{where}: adapters never import each other"
                )


@pytest.mark.parametrize("name", [*VENDORS, *ARCHIVES])
def test_vendor_only_operations_are_ex_methods_and_documented(name: str) -> None:
    cls = _class(name)
    # the core class it specialises (Adapter, ArchiveAdapter, or a shared archive base such
    # as convoport.store.sqlarchive.SqlArchive): its public names are the port's, not the
    # adapter's own
    base = next(k for k in cls.__mro__[1:] if not k.__module__.startswith("convoport.adapters."))
    assert issubclass(base, ArchiveAdapter if issubclass(cls, ArchiveAdapter) else Adapter)
    own = {
        attr
        for attr, value in vars(cls).items()
        if not attr.startswith("_") and (inspect.isfunction(value) or isinstance(value, property))
    }
    inherited = {a for a in dir(base) if not a.startswith("_")}
    extensions = sorted(own - inherited)
    assert all(e.startswith("ex_") for e in extensions), (
        f"{cls.__name__}: public names of its own must be ex_<operation>: {extensions}"
    )
    module = inspect.getmodule(cls)
    doc = (module.__doc__ if module else None) or ""
    for extension in extensions:
        assert extension in doc, f"{extension} is not listed in the adapter module's docstring"
