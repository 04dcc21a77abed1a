"""No import circles anywhere in core, contracts or adapters.

Every import counts — at module level, inside functions, and under ``TYPE_CHECKING`` — because a
circle that is only lazy today becomes a real one the day someone moves an import up. An
import of a package counts as an import of its ``__init__``; ``from package import name``
counts as importing the submodule when ``name`` is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "core": "convoport",
    "adapters": "convoport.adapters",
    "contracts": "convoport.contracts",
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        base = ROOT / folder
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(name, is_package, node)
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.append(sub if sub in modules else module)
            for target in targets:
                # "import a.b.c" imports a, a.b and a.b.c; the deepest known one is the edge
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_whole_tree() -> None:
    graph = import_graph()
    assert "convoport.migration" in graph
    assert "convoport.adapters.gladia.adapter" in graph
    assert "convoport.contracts.kit" in graph
    assert "convoport.archive" in graph["convoport.migration"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles() -> None:
    found = cycles(import_graph())
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def _root(module: str) -> str:
    """Which of the three folders a module lives in (adapters and contracts are their own)."""
    for package in ("convoport.adapters", "convoport.contracts"):
        if module == package or module.startswith(package + "."):
            return package
    return "convoport"


def test_private_modules_are_not_imported_across_packages() -> None:
    """A ``_``-prefixed module is private to its folder: core's to core, an adapter's to that
    adapter, the kit's to the kit."""
    graph = import_graph()
    crossings = []
    for module, targets in graph.items():
        for target in targets:
            private = any(part.startswith("_") for part in target.split(".")[1:])
            if not private or target.rsplit(".", 1)[-1] == "__init__":
                continue
            owner = target.rsplit(".", 1)[0]
            other_root = _root(module) != _root(target)
            other_adapter = _root(target) == "convoport.adapters" and not module.startswith(owner)
            if other_root or other_adapter:
                crossings.append(f"{module} imports {target}")
    assert crossings == []
