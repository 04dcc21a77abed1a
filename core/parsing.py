"""Helpers for translators: read vendor payloads strictly, fail with ``MalformedResponse``.

Translators (an adapter's ``translate.py``) are pure functions from a vendor payload to the
neutral model. They use these helpers so that every surprise in a payload becomes one typed
error that names the provider and the field, never a ``KeyError`` or ``ValueError``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from convoport.errors import MalformedResponse

_FRACTION = re.compile(r"\.(\d+)")

#: How deep a vendor's JSON document may nest (arrays and objects), by default. Far above any
#: documented payload, far below the interpreter's recursion limit.
MAX_JSON_DEPTH: Final = 256
#: The longest integer literal accepted in a vendor's JSON, in digits (a float holds ~309).
MAX_INT_DIGITS: Final = 100

#: A table that keeps a JSON text's structure bytes (brackets, quotes, backslashes: UTF-8
#: never uses these byte values inside a multi-byte character) and maps every other byte to a
#: space, and one that maps every digit to ``0`` and every other byte to a space.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_DIGIT_RUNS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_INNERMOST = re.compile(rb"\[\]|\{\}")


def check_json_nesting(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raises ``ValueError`` when the JSON ``text`` nests more than ``max_depth`` arrays/objects
    deep, before a (recursive) decoder sees it. Brackets inside strings do not count; nothing
    recurses, and no Python code runs per character: in the text's UTF-8 bytes, escaped
    backslashes, then escaped quotes go, then every byte but brackets and quotes
    (``bytes.translate``), so every quote left delimits a string and the brackets outside
    strings are in every other piece between quotes; then each pass removes the innermost
    ``[]``/``{}`` pairs, so a document of depth *d* takes *d* passes (at most
    ``max_depth + 1``). A text with no more opening brackets than ``max_depth`` is accepted at
    once."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    # the escapes go first (only backslashes and quotes take part, so removing them before
    # the other bytes changes nothing), then every byte but brackets and quotes in one pass
    structure = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    # most strings hold no bracket and are now '""': dropping adjacent quote pairs keeps every
    # other byte inside or outside a string as it was, and usually leaves no quote at all
    structure = structure.replace(b'""', b"")
    brackets = b"".join(structure.split(b'"')[::2]) if b'"' in structure else structure
    depth = 0
    while brackets:
        reduced = _INNERMOST.sub(b"", brackets)
        if len(reduced) == len(brackets):  # unbalanced: not JSON, the decoder refuses it
            return
        depth += 1
        if depth > max_depth:
            raise ValueError(f"JSON nested deeper than {max_depth} levels")
        brackets = reduced


def _bounded_int(max_digits: int) -> Any:
    def parse_int(text: str) -> int:
        digits = len(text.lstrip("-"))
        if digits > max_digits:
            raise ValueError(f"an integer of {digits} digits (at most {max_digits})")
        return int(text)

    return parse_int


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads_json(
    text: str | bytes,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_int_digits: int = MAX_INT_DIGITS,
) -> Any:
    """Parses a vendor's JSON document defensively; anything unreadable is ``ValueError``.

    Refused: text that is not JSON or not UTF-8, nesting deeper than ``max_depth``, integer
    literals longer than ``max_int_digits`` digits (``10**400`` cannot become a float), and the
    non-standard ``NaN``/``Infinity`` literals. Never raises ``RecursionError``,
    ``OverflowError`` or ``UnicodeDecodeError``. Every JSON body convoport reads from a vendor
    (HTTP bodies, error envelopes, SSE data, WebSocket messages) goes through it.
    """
    if isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8 text") from None
    else:
        data = text.encode("utf-8", "surrogatepass")
    check_json_nesting(data, max_depth)
    # integers are checked one by one only when the text holds a long enough run of digits
    long_digits = data.translate(_DIGIT_RUNS).find(b"0" * (max_int_digits + 1)) >= 0
    parse_int = _bounded_int(max_int_digits) if long_digits else None
    try:
        return json.loads(text, parse_int=parse_int, parse_constant=_no_constant)
    except RecursionError:  # only for a max_depth above the interpreter's limit
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None


class Payload:
    """A JSON object from a vendor, read with field paths in every error message.

    ``Payload(provider, data, path="session")``, then ``p.string("id")``,
    ``p.opt_number("duration")``,
    ``p.obj("file")`` (a nested ``Payload``), ``p.array("items")``.
    Absent and ``null`` are the same for the ``opt_`` readers.
    """

    __slots__ = ("data", "path", "provider")

    def __init__(self, provider: str, data: Any, path: str = "$") -> None:
        if not isinstance(data, Mapping):
            raise malformed(provider, path, f"expected an object, got {_type_name(data)}")
        self.provider = provider
        self.data: Mapping[str, Any] = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _bad(self, key: str, problem: str) -> Exception:
        return malformed(self.provider, self._where(key), problem)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        """The value as-is (``None`` when absent)."""
        return self.data.get(key)

    def string(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return self._as_str(key, value)

    def ident(self, key: str) -> str:
        """A required identifier: a non-empty string (an id names things in paths, refs and
        archives, so ``""`` is as unreadable as a missing one)."""
        value = self.string(key)
        if not value.strip():
            raise self._bad(key, "expected a non-empty id, got an empty string")
        return value

    def opt_string(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else self._as_str(key, value)

    def _as_str(self, key: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self._bad(key, f"expected a string, got {_type_name(value)}")
        return str(value)

    def number(self, key: str) -> float:
        value = self.opt_number(key)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return value

    def opt_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(key, f"expected a number, got {_type_name(value)}")
        try:
            result = float(value)
        except OverflowError:  # an int beyond the float range
            raise self._bad(key, "is not a finite number: too large") from None
        if math.isnan(result) or math.isinf(result):
            raise malformed(self.provider, self._where(key), f"is not a finite number: {value!r}")
        return result

    def opt_fraction(self, key: str) -> float | None:
        """An optional number within 0..1 (a confidence); outside it, ``MalformedResponse``."""
        value = self.opt_number(key)
        if value is not None and not 0.0 <= value <= 1.0:
            raise self._bad(key, f"is outside 0..1: {value!r}")
        return value

    def opt_non_negative(self, key: str) -> float | None:
        """An optional number >= 0 (a duration, an offset); below 0, ``MalformedResponse``."""
        value = self.opt_number(key)
        if value is not None and value < 0:
            raise self._bad(key, f"is negative: {value!r}")
        return value

    def integer(self, key: str) -> int:
        value = self.opt_integer(key)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return value

    def opt_integer(self, key: str) -> int | None:
        raw = self.data.get(key)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw  # exact: going through a float would round beyond 2**53
        value = self.opt_number(key)
        if value is None:
            return None
        if value != int(value):
            raise self._bad(key, f"expected an integer, got {value!r}")
        return int(value)

    def opt_boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._bad(key, f"expected true/false, got {_type_name(value)}")
        return value

    def obj(self, key: str) -> Payload:
        value = self.data.get(key)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return Payload(self.provider, value, self._where(key))

    def opt_obj(self, key: str) -> Payload | None:
        value = self.data.get(key)
        return None if value is None else Payload(self.provider, value, self._where(key))

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return self._as_list(key, value)

    def opt_array(self, key: str) -> list[Any]:
        """The list, or ``[]`` when absent or null."""
        value = self.data.get(key)
        return [] if value is None else self._as_list(key, value)

    def _as_list(self, key: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self._bad(key, f"expected a list, got {_type_name(value)}")
        return value

    def objects(self, key: str, *, required: bool = False) -> list[Payload]:
        """A list of objects, each as a ``Payload`` with an indexed path."""
        items = self.array(key) if required else self.opt_array(key)
        return [
            Payload(self.provider, item, f"{self._where(key)}[{i}]") for i, item in enumerate(items)
        ]

    def mapping(self, key: str) -> dict[str, Any]:
        """A nested object as a plain dict (``{}`` when absent or null)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self._bad(key, f"expected an object, got {_type_name(value)}")
        return dict(value)

    def timestamp(self, key: str, *, naive_is_utc: bool = False) -> datetime:
        value = self.opt_timestamp(key, naive_is_utc=naive_is_utc)
        if value is None:
            raise malformed(self.provider, self._where(key), "is missing")
        return value

    def opt_timestamp(self, key: str, *, naive_is_utc: bool = False) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        return parse_timestamp(
            value, provider=self.provider, field=self._where(key), naive_is_utc=naive_is_utc
        )


def parse_timestamp(
    value: Any, *, provider: str, field: str, naive_is_utc: bool = False
) -> datetime:
    """Reads an ISO 8601 timestamp (``Z`` or an offset, any fraction of seconds, ``T`` or space
    between date and time) into an aware UTC datetime.

    A value without a timezone is ``MalformedResponse`` unless the adapter documents that its
    vendor sends UTC without saying so (``naive_is_utc=True``).
    """
    if not isinstance(value, str):
        raise malformed(provider, field, f"expected an ISO 8601 string, got {_type_name(value)}")
    # Most vendors' timestamps Python reads as they are (``Z``, up to any fraction): then
    # the rewrites below would change nothing
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None and parsed.utcoffset() is not None:
            return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python accepts at most 6 fractional digits; vendors send 1..9.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise malformed(provider, field, f"is not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if not naive_is_utc:
            raise malformed(provider, field, f"has no timezone: {value!r}")
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise malformed(provider, field, f"is out of range: {value!r}") from None


def malformed(provider: str, field: str, problem: str) -> MalformedResponse:
    """A ``MalformedResponse`` naming the field (a JSON path such as ``$.items[2].status``)."""
    return MalformedResponse(
        f"unexpected response: {field} {problem}",
        provider=provider,
        hint="the vendor's API may have changed; please report this with the request id",
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


__all__ = [
    "MAX_INT_DIGITS",
    "MAX_JSON_DEPTH",
    "Payload",
    "check_json_nesting",
    "loads_json",
    "malformed",
    "parse_timestamp",
]
