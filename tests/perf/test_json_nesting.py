"""The regex-driven nesting check (convoport.parsing.check_json_nesting) gives the verdict of
the character-by-character scan it replaced, on any text."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convoport.parsing import check_json_nesting, loads_json

_STRUCTURAL = re.compile(r'[\[\]{}"\\]')


def reference_too_deep(text: str, max_depth: int) -> bool:
    """The former linear scan: True when some bracket outside strings is deeper than max."""
    depth = 0
    in_string = False
    escaped_at = -2
    for match in _STRUCTURAL.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if char == "\\" and escaped_at != at - 1:
                escaped_at = at
            elif char == '"' and escaped_at != at - 1:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


def too_deep(text: str | bytes, max_depth: int) -> bool:
    try:
        check_json_nesting(text, max_depth)
    except ValueError:
        return True
    return False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:\n\x00é\t/'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k\n'), children, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=8), st.booleans())
def test_valid_json_gets_the_reference_verdict(value: object, max_depth: int, ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii)
    expected = reference_too_deep(text, max_depth)
    assert too_deep(text, max_depth) == expected
    assert too_deep(text.encode(), max_depth) == expected


@pytest.mark.parametrize("depth", [1, 5, 256, 257, 400])
def test_deep_documents(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        assert too_deep(text, 256) == (depth > 256)
    if depth > 256:
        with pytest.raises(ValueError, match="nested deeper"):
            loads_json("[" * depth + "]" * depth)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps(["[" * 500, {"k": "{" * 500 + '\\"'}])
    assert not too_deep(text, 3)
    assert loads_json(text)[0] == "[" * 500


def test_long_integers_are_still_refused_and_short_ones_read() -> None:
    with pytest.raises(ValueError, match="digits"):
        loads_json("[" + "9" * 101 + "]")
    assert loads_json('{"n": ' + "9" * 100 + ', "s": "' + "1" * 300 + '"}')["n"] == int("9" * 100)
