"""Hypothesis strategies that damage realistic vendor payloads, for the translators' fuzz tests.

:func:`mutated` takes a realistic JSON document (a payload the vendor documents, or the
emulator's) and applies one to ``max_mutations`` mutations at places drawn from every key
and index in it (:func:`json_paths`, recomputed after each mutation): a key or item removed,
a value set to null, to another JSON value (``values``), or to a word no vocabulary knows
(``words``). The base document is never changed (a deep copy is mutated).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from hypothesis import strategies as st

#: The keys and indexes leading from a document's root to one of its values.
JsonPath = tuple[Any, ...]
Action = Literal["delete", "null", "value", "word"]
ACTIONS: tuple[Action, ...] = ("delete", "null", "value", "word")


def json_values(*, int_bound: int, text_size: int) -> st.SearchStrategy[Any]:
    """Small JSON values of every type (integers within ``±int_bound``, NaN and infinities
    among the floats, strings of up to ``text_size`` characters, short lists and objects)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-int_bound, max_value=int_bound),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=text_size),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )


def json_paths(value: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every path into ``value`` (object keys and list indexes), each parent before its
    children."""
    out: list[JsonPath] = []
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        out.append((*prefix, key))
        out.extend(json_paths(item, (*prefix, key)))
    return out


def apply_mutation(doc: Any, path: JsonPath, action: Action, value: Any = None) -> None:
    """Mutates ``doc`` in place at ``path``: ``delete`` removes the key or item (a missing
    one is left alone), any other action sets ``value`` there."""
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action != "delete":
        parent[last] = value
    elif isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and 0 <= last < len(parent):
        parent.pop(last)


@st.composite
def mutated(
    draw: st.DrawFn,
    base: Any,
    *,
    values: st.SearchStrategy[Any],
    words: st.SearchStrategy[Any],
    max_mutations: int = 3,
) -> Any:
    """A deep copy of ``base`` with 1 to ``max_mutations`` mutations (see the module)."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        paths = json_paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(ACTIONS))
        value = {"delete": None, "null": None, "value": values, "word": words}[action]
        apply_mutation(doc, path, action, draw(value) if value is not None else None)
    return doc


__all__ = [
    "ACTIONS",
    "Action",
    "JsonPath",
    "apply_mutation",
    "json_paths",
    "json_values",
    "mutated",
]
