"""The one cattrs converter for the neutral model, and JSON helpers around it.

``to_json``/``from_json`` round-trip every model class losslessly:

* datetimes as ISO 8601 strings in UTC with microseconds (``2026-09-14T13:02:11.482000+00:00``);
  reading one without an offset is refused (convoport never guesses a timezone);
* tuples as lists, enums as their values;
* live events as objects with a ``"type"`` tag (``{"type": "final", "utterance": {...}}``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter
from cattrs.strategies import configure_tagged_union

from convoport.live import LIVE_EVENT_TYPES, LiveEvent

T = TypeVar("T")

converter: cattrs.Converter = make_converter()


def _unstructure_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp without a timezone: {value!r}")
    return parsed.astimezone(UTC)


converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_structure_hook(datetime, _structure_datetime)
configure_tagged_union(
    LiveEvent,
    converter,
    tag_name="type",
    tag_generator=lambda cls: str(getattr(cls, "kind")),  # noqa: B009
)


def unstructure(value: Any) -> Any:
    """Model object -> JSON-compatible Python data (live events carry their ``"type"``)."""
    if isinstance(value, LIVE_EVENT_TYPES):
        return converter.unstructure(value, unstructure_as=LiveEvent)
    return converter.unstructure(value)


def structure(data: Any, cls: type[T]) -> T:
    """JSON-compatible Python data -> model object (raises cattrs' ``ClassValidationError``)."""
    if cls in LIVE_EVENT_TYPES and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "type"}
    return converter.structure(data, cls)


def to_json(value: Any, *, indent: int | None = None) -> str:
    """Model object -> JSON text (keys sorted, so equal objects give equal text)."""
    return json.dumps(unstructure(value), indent=indent, sort_keys=True, ensure_ascii=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """JSON text -> model object."""
    return structure(json.loads(text), cls)


def structure_event(data: Any) -> LiveEvent:
    """Tagged JSON data -> a live event."""
    return converter.structure(data, LiveEvent)  # type: ignore[arg-type]


assert all(hasattr(t, "kind") for t in LIVE_EVENT_TYPES)

__all__ = ["converter", "from_json", "structure", "structure_event", "to_json", "unstructure"]
