"""Strict payload readers and timestamp parsing: every surprise is a ``MalformedResponse``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoport.errors import MalformedResponse
from convoport.parsing import Payload, malformed, parse_timestamp

P = "vendor"


def payload(data: Any) -> Payload:
    return Payload(P, data, path="$")


def test_payload_must_be_an_object() -> None:
    with pytest.raises(MalformedResponse, match=r"\$ expected an object, got list") as caught:
        Payload(P, [1, 2])
    assert caught.value.provider == P
    assert caught.value.hint is not None
    with pytest.raises(MalformedResponse, match="got null"):
        Payload(P, None, path="$.session")


def test_malformed_names_provider_and_field() -> None:
    error = malformed("gladia", "$.items[2].status", "is missing")
    assert error.message == "unexpected response: $.items[2].status is missing"
    assert error.provider == "gladia"
    assert not error.retryable


# -- strings ------------------------------------------------------------------------------


def test_string() -> None:
    p = payload({"id": "s1", "n": 42})
    assert p.string("id") == "s1"
    assert p.string("n") == "42"  # numeric ids are read as strings


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, r"\$\.id is missing"),
        ({"id": None}, r"\$\.id is missing"),
        ({"id": True}, r"\$\.id expected a string, got boolean"),
        ({"id": 1.5}, r"\$\.id expected a string, got number"),
        ({"id": ["a"]}, r"\$\.id expected a string, got list"),
        ({"id": {"a": 1}}, r"\$\.id expected a string, got object"),
    ],
)
def test_string_refuses(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedResponse, match=problem):
        payload(data).string("id")


def test_opt_string_missing_and_null_are_none() -> None:
    p = payload({"a": None, "c": ""})
    assert p.opt_string("a") is None
    assert p.opt_string("b") is None
    assert p.opt_string("c") == ""
    with pytest.raises(MalformedResponse, match="got boolean"):
        payload({"a": False}).opt_string("a")


def test_has_and_raw() -> None:
    p = payload({"a": None, "b": 0, "c": [1]})
    assert not p.has("a")
    assert not p.has("missing")
    assert p.has("b")
    assert p.raw("c") == [1]
    assert p.raw("missing") is None


# -- numbers ------------------------------------------------------------------------------


def test_number() -> None:
    p = payload({"i": 3, "f": 2.5, "z": 0})
    assert p.number("i") == 3.0
    assert isinstance(p.number("i"), float)
    assert p.number("f") == 2.5
    assert p.number("z") == 0.0
    assert p.opt_number("missing") is None
    assert payload({"x": None}).opt_number("x") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "expected a number, got boolean"),
        (False, "expected a number, got boolean"),
        ("3", "expected a number, got string"),
        ([3], "expected a number, got list"),
        (float("nan"), "is not a finite number"),
        (float("inf"), "is not a finite number"),
        (float("-inf"), "is not a finite number"),
        pytest.param(10**400, "is not a finite number", id="int-beyond-float"),
    ],
)
def test_number_refuses(value: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=problem):
        payload({"x": value}).number("x")
    with pytest.raises(MalformedResponse, match=problem):
        payload({"x": value}).opt_number("x")


def test_number_missing() -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.x is missing"):
        payload({"x": None}).number("x")


def test_integer() -> None:
    p = payload({"a": 3, "b": 4.0, "c": -7, "big": 2**53 + 1, "huge": 10**30})
    assert p.integer("a") == 3
    assert isinstance(p.integer("a"), int)
    assert p.integer("b") == 4
    assert p.integer("c") == -7
    assert p.integer("big") == 2**53 + 1  # exact, not rounded through a float
    assert p.integer("huge") == 10**30
    assert p.opt_integer("missing") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (3.5, "expected an integer, got 3.5"),
        (True, "expected a number, got boolean"),
        ("3", "expected a number, got string"),
        (float("nan"), "is not a finite number"),
    ],
)
def test_integer_refuses(value: Any, problem: str) -> None:
    with pytest.raises(MalformedResponse, match=problem):
        payload({"x": value}).integer("x")


def test_integer_missing() -> None:
    with pytest.raises(MalformedResponse, match="is missing"):
        payload({}).integer("x")


@given(st.integers())
def test_integers_are_read_exactly(value: int) -> None:
    assert payload({"x": value}).integer("x") == value


# -- booleans, objects, arrays ------------------------------------------------------------


def test_opt_boolean() -> None:
    p = payload({"t": True, "f": False, "n": None})
    assert p.opt_boolean("t") is True
    assert p.opt_boolean("f") is False
    assert p.opt_boolean("n") is None
    assert p.opt_boolean("missing") is None


@pytest.mark.parametrize("value", [1, 0, "true", "false", []])
def test_opt_boolean_refuses(value: Any) -> None:
    with pytest.raises(MalformedResponse, match="expected true/false"):
        payload({"x": value}).opt_boolean("x")


def test_nested_objects_carry_their_path() -> None:
    p = Payload(P, {"file": {"meta": {"duration": "long"}}}, path="session")
    meta = p.obj("file").obj("meta")
    assert meta.path == "session.file.meta"
    with pytest.raises(MalformedResponse, match=r"session\.file\.meta\.duration expected a number"):
        meta.number("duration")


def test_obj_refuses_missing_and_non_objects() -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.file is missing"):
        payload({}).obj("file")
    with pytest.raises(MalformedResponse, match=r"\$\.file expected an object, got string"):
        payload({"file": "x"}).obj("file")
    assert payload({"file": None}).opt_obj("file") is None
    inner = payload({"file": {"a": 1}}).opt_obj("file")
    assert inner is not None
    assert inner.integer("a") == 1


def test_objects_have_indexed_paths() -> None:
    p = payload({"items": [{"status": "done"}, {"status": "done"}, {"status": ["?"]}]})
    items = p.objects("items")
    assert [item.path for item in items] == ["$.items[0]", "$.items[1]", "$.items[2]"]
    assert items[0].string("status") == "done"
    with pytest.raises(MalformedResponse) as caught:
        items[2].string("status")
    assert "$.items[2].status expected a string, got list" in caught.value.message


def test_objects_refuses_non_object_items() -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.items\[1\] expected an object, got number"):
        payload({"items": [{}, 5]}).objects("items")


def test_objects_required() -> None:
    assert payload({}).objects("items") == []
    with pytest.raises(MalformedResponse, match=r"\$\.items is missing"):
        payload({}).objects("items", required=True)


def test_array_and_opt_array() -> None:
    p = payload({"a": [1, 2], "n": None, "s": "x"})
    assert p.array("a") == [1, 2]
    assert p.opt_array("n") == []
    assert p.opt_array("missing") == []
    with pytest.raises(MalformedResponse, match=r"\$\.n is missing"):
        p.array("n")
    with pytest.raises(MalformedResponse, match=r"\$\.s expected a list, got string"):
        p.opt_array("s")


def test_mapping() -> None:
    p = payload({"m": {"a": 1}, "n": None, "l": [1]})
    m = p.mapping("m")
    assert m == {"a": 1}
    m["b"] = 2
    assert p.raw("m") == {"a": 1}  # a copy
    assert p.mapping("n") == {}
    assert p.mapping("missing") == {}
    with pytest.raises(MalformedResponse, match="expected an object, got list"):
        p.mapping("l")


# -- timestamps ---------------------------------------------------------------------------

EXPECTED = datetime(2024, 3, 5, 14, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T14:30:15Z", EXPECTED),
        ("2024-03-05T14:30:15z", EXPECTED),
        ("2024-03-05T14:30:15+00:00", EXPECTED),
        ("2024-03-05T15:30:15+01:00", EXPECTED),
        ("2024-03-05T09:00:15-05:30", EXPECTED),
        ("2024-03-05T15:30:15+0100", EXPECTED),
        ("2024-03-05 14:30:15Z", EXPECTED),
        ("  2024-03-05T14:30:15Z ", EXPECTED),
        ("2024-03-05T14:30:15.1Z", EXPECTED.replace(microsecond=100000)),
        ("2024-03-05T14:30:15.12Z", EXPECTED.replace(microsecond=120000)),
        ("2024-03-05T14:30:15.123Z", EXPECTED.replace(microsecond=123000)),
        ("2024-03-05T14:30:15.1234Z", EXPECTED.replace(microsecond=123400)),
        ("2024-03-05T14:30:15.12345Z", EXPECTED.replace(microsecond=123450)),
        ("2024-03-05T14:30:15.123456Z", EXPECTED.replace(microsecond=123456)),
        ("2024-03-05T14:30:15.1234567Z", EXPECTED.replace(microsecond=123456)),
        ("2024-03-05T14:30:15.12345678Z", EXPECTED.replace(microsecond=123456)),
        ("2024-03-05T15:30:15.123456789+01:00", EXPECTED.replace(microsecond=123456)),
        ("2024-03-06T00:00:15+09:30", EXPECTED),
    ],
)
def test_parse_timestamp(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, provider=P, field="$.created_at")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2024-03-05T14:30:15", "2024-03-05 14:30:15.123456789"])
def test_naive_timestamp_is_refused_unless_declared_utc(text: str) -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.created_at has no timezone"):
        parse_timestamp(text, provider=P, field="$.created_at")
    parsed = parse_timestamp(text, provider=P, field="$.created_at", naive_is_utc=True)
    assert parsed.replace(microsecond=0) == EXPECTED
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2024-13-01T00:00:00Z", "2024-03-05T25:00:00Z", "1709649015"]
)
def test_garbage_timestamp_is_malformed(text: str) -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.t is not an ISO 8601 timestamp"):
        parse_timestamp(text, provider=P, field="$.t")


@pytest.mark.parametrize("value", [1709649015, None, 1.5, ["2024-03-05T14:30:15Z"]])
def test_non_string_timestamp_is_malformed(value: Any) -> None:
    with pytest.raises(MalformedResponse, match="expected an ISO 8601 string"):
        parse_timestamp(value, provider=P, field="$.t")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamp_outside_the_representable_range_is_malformed(text: str) -> None:
    with pytest.raises(MalformedResponse, match=r"\$\.t"):
        parse_timestamp(text, provider=P, field="$.t")


def test_timestamp_readers() -> None:
    p = payload({"a": "2024-03-05T14:30:15Z", "b": "", "c": None, "d": "2024-03-05T14:30:15"})
    assert p.timestamp("a") == EXPECTED
    assert p.opt_timestamp("b") is None
    assert p.opt_timestamp("c") is None
    assert p.opt_timestamp("missing") is None
    assert p.timestamp("d", naive_is_utc=True) == EXPECTED
    with pytest.raises(MalformedResponse, match=r"\$\.c is missing"):
        p.timestamp("c")
    with pytest.raises(MalformedResponse, match=r"\$\.d has no timezone"):
        p.timestamp("d")


_OFFSETS = st.integers(min_value=-(24 * 3600 - 1), max_value=24 * 3600 - 1).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=_OFFSETS,
    )
)
def test_isoformat_round_trips_to_the_same_instant(moment: datetime) -> None:
    parsed = parse_timestamp(moment.isoformat(), provider=P, field="$.t")
    assert parsed == moment
    assert parsed.tzinfo is UTC
    assert parsed.utcoffset() == timedelta(0)
    spaced = parse_timestamp(moment.isoformat(sep=" "), provider=P, field="$.t")
    assert spaced == moment


def test_fraction_and_non_negative_readers() -> None:
    p = Payload(P, {"c": 0.5, "hi": 1.5, "d": 0, "neg": -0.1, "none": None})
    assert p.opt_fraction("c") == 0.5
    assert p.opt_fraction("none") is None
    assert p.opt_non_negative("d") == 0.0
    assert p.opt_non_negative("missing") is None
    with pytest.raises(MalformedResponse, match=r"\$\.hi is outside 0\.\.1: 1\.5"):
        p.opt_fraction("hi")
    with pytest.raises(MalformedResponse, match=r"\$\.neg is negative: -0\.1"):
        p.opt_non_negative("neg")


def test_an_id_must_be_a_non_empty_string() -> None:
    from convoport.errors import MalformedResponse
    from convoport.parsing import Payload

    assert Payload("acme", {"id": "a1"}).ident("id") == "a1"
    assert Payload("acme", {"id": 7}).ident("id") == "7"
    for bad in ({"id": ""}, {"id": "  "}, {}):
        with pytest.raises(MalformedResponse, match=r"\$\.id"):
            Payload("acme", bad).ident("id")


def _rewritten(text: str) -> datetime | None:
    """The timestamp read the long way (the rewrites parse_timestamp makes before Python's
    parser), or None where that refuses it."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
        return None if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_STAMPS = st.builds(
    lambda moment, sep, digits, zone: (
        moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
        + (("." + str(moment.microsecond).zfill(6) + "123")[: digits + 1] if digits else "")
        + zone
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["T", " ", "t"]),
    st.integers(0, 9),
    st.sampled_from(["Z", "z", "+00:00", "-05:30", "+0100", "+14:00", "", " ", "Z "]),
)


@given(st.one_of(_STAMPS, st.text(max_size=40)))
def test_timestamps_read_as_the_rewrites_would(text: str) -> None:
    """The direct read Python's parser allows gives what the rewrites give, on any input."""
    expected = _rewritten(text)
    try:
        parsed = parse_timestamp(text, provider=P, field="$.t")
    except MalformedResponse:
        assert expected is None
        return
    assert parsed == expected
    assert parsed.tzinfo is UTC
