"""Capabilities are data: what a backend can do, declared in its adapter's class body.

::

    class GladiaAdapter(Adapter):
        capabilities = Capabilities(
            ports={Capability.CATALOG_LIST, Capability.CATALOG_GET, Capability.TRANSCRIPTS},
            filters={QueryFilter.CREATED_AFTER, QueryFilter.STATUS},
        )

The client checks the declaration before any I/O and raises ``UnsupportedOperation`` naming the
capability and the provider; the contract kit skips what is not declared, giving the capability
as the reason; ``convoport providers`` prints the matrix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs


class Capability(enum.StrEnum):
    """A port a backend can serve. The value is what messages and tables show."""

    CATALOG_LIST = "catalog.list"
    CATALOG_GET = "catalog.get"
    CATALOG_DELETE = "catalog.delete"
    RECORDINGS = "recordings"
    TRANSCRIPTS = "transcripts"
    SUMMARIES = "summaries"
    PARTICIPANTS = "participants"
    CHAT = "chat"
    LIVE_INGEST = "live.ingest"
    BATCH_INGEST = "batch.ingest"
    ARCHIVE_SINK = "archive.sink"


class QueryFilter(enum.StrEnum):
    """A ``SessionQuery`` field a backend can apply on the server side.

    A filter a backend does not declare is applied by convoport on the listed sessions
    (``created_*``, ``status``, ``metadata`` can be checked on the neutral model), except
    ``search``, whose meaning belongs to the vendor: it raises ``UnsupportedOperation``.
    """

    CREATED_AFTER = "created_after"
    CREATED_BEFORE = "created_before"
    CREATED_ON = "created_on"
    STATUS = "statuses"
    METADATA = "metadata"
    SEARCH = "search"


class ListOrder(enum.StrEnum):
    """The order of a session listing, by creation time: ``newest`` first or ``oldest`` first.
    Ties keep a stable order of the backend's choosing."""

    NEWEST = "newest"
    OLDEST = "oldest"


def _ports(value: Iterable[Capability | str]) -> frozenset[Capability]:
    return frozenset(Capability(v) for v in value)


def _filters(value: Iterable[QueryFilter | str]) -> frozenset[QueryFilter]:
    return frozenset(QueryFilter(v) for v in value)


def _orders(value: Iterable[ListOrder | str]) -> frozenset[ListOrder]:
    return frozenset(ListOrder(v) for v in value)


@attrs.frozen(kw_only=True)
class Capabilities:
    """The ports a backend serves, the list filters it applies server-side, and the listing
    orders it can give (``orders``; empty: the vendor's order, undocumented). A listing is
    newest first wherever the backend can give it; asking for an order it cannot give raises
    ``UnsupportedOperation`` before any I/O (convoport never buffers a listing to reverse it).
    """

    ports: frozenset[Capability] = attrs.field(factory=frozenset, converter=_ports)
    filters: frozenset[QueryFilter] = attrs.field(factory=frozenset, converter=_filters)
    orders: frozenset[ListOrder] = attrs.field(factory=frozenset, converter=_orders)

    @property
    def default_order(self) -> ListOrder | None:
        """The order a listing gives when none is asked for: newest first where the backend
        can, else the one order it declares, else None (the vendor's)."""
        if ListOrder.NEWEST in self.orders:
            return ListOrder.NEWEST
        return next(iter(sorted(self.orders)), None)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, QueryFilter):
            return item in self.filters
        if isinstance(item, str):
            try:
                return Capability(item) in self.ports
            except ValueError:
                return False
        return False

    def supports(self, capability: Capability | str) -> bool:
        """Whether the port is declared."""
        return Capability(capability) in self.ports

    def as_dict(self) -> dict[str, list[str]]:
        """A JSON-friendly form, sorted (used by ``convoport providers --json``)."""
        return {
            "ports": sorted(p.value for p in self.ports),
            "filters": sorted(f.value for f in self.filters),
            "orders": sorted(o.value for o in self.orders),
        }


__all__ = ["Capabilities", "Capability", "ListOrder", "QueryFilter"]
