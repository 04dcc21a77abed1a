"""A vendor's recorded cassettes checked against its OpenAPI document.

Every vendor's cassette test does the same walk: load the file, check the provenance every
vendor cassette carries (:func:`load_vendor_cassette`), go through its HTTP exchanges over
HTTPS (:func:`exchanges`) and check each answer sent by the vendor's API host against the
document (:func:`cassette_problems`). What a vendor checks beyond that (request bodies, query
parameters, WebSocket frames, a storage host) it passes in as ``check`` and ``elsewhere``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import attrs
import pytest

from convoport.contracts.cassette import (
    BinaryBody,
    Cassette,
    Interaction,
    JsonBody,
    RecordedRequest,
    RecordedResponse,
    TextBody,
    load_cassette,
)
from tests.support.openapi import OpenAPIDocument

#: The words every vendor cassette's ``meta.source`` carries: recorded from the emulator.
NO_ACCOUNT = "no vendor account was used"


def cassette_files(directory: Path) -> list[Path]:
    """The cassette files of a folder (``*.json``), sorted by name."""
    return sorted(directory.glob("*.json"))


def each_cassette(files: Iterable[Path]) -> pytest.MarkDecorator:
    """Parametrizes a test's ``path`` argument with each cassette file, named by its stem."""
    return pytest.mark.parametrize("path", list(files), ids=lambda p: p.stem)


def assert_one_cassette_each(files: Iterable[Path], scenarios: Iterable[str]) -> None:
    """Fails unless the files are exactly one cassette per scenario name (file stem)."""
    assert {p.stem for p in files} == set(scenarios)


def load_vendor_cassette(path: Path, *, provider: str) -> Cassette:
    """The cassette at ``path``, after checking its meta: the ``provider``, the scenario named
    like the file, and a ``source`` saying no vendor account was used."""
    cassette = load_cassette(path)
    assert cassette.meta["provider"] == provider
    assert cassette.meta["scenario"] == path.stem
    assert NO_ACCOUNT in cassette.meta["source"]
    return cassette


@attrs.frozen
class Exchange:
    """One recorded HTTP exchange, numbered from 0 in its cassette, with its URL split."""

    index: int
    interaction: Interaction
    url: SplitResult

    @property
    def request(self) -> RecordedRequest:
        """The recorded request."""
        return self.interaction.request

    @property
    def response(self) -> RecordedResponse:
        """The recorded response."""
        return self.interaction.response

    @property
    def where(self) -> str:
        """``interaction #N``, the prefix of every problem line about it."""
        return f"interaction #{self.index}"


def exchanges(cassette: Cassette) -> Iterator[Exchange]:
    """The cassette's HTTP exchanges in order; fails on one that is not over HTTPS."""
    for index, interaction in enumerate(cassette.interactions):
        url = urlsplit(interaction.request.url)
        assert url.scheme == "https", f"interaction #{index}: {url.scheme}"
        yield Exchange(index=index, interaction=interaction, url=url)


def raw_body(response: RecordedResponse) -> bytes:
    """A recorded non-JSON body as the bytes it was (``b""`` for none)."""
    body = response.body
    if isinstance(body, BinaryBody):
        return body.data
    if isinstance(body, TextBody):
        return body.text.encode("utf-8")
    assert body is None, f"a JSON body has no raw bytes: {type(body).__name__}"
    return b""


def answer_problems(exchange: Exchange, document: OpenAPIDocument) -> list[str]:
    """The problems of one recorded answer against ``document``: a JSON body must say so in
    its content type and follow its schema; any other answer as
    :meth:`~tests.support.openapi.OpenAPIDocument.answer_errors` says."""
    request, response = exchange.request, exchange.response
    content_type = response.headers.get("content-type", "")
    if isinstance(response.body, JsonBody):
        assert content_type.startswith("application/json"), f"{exchange.where}: {content_type}"
        errors = document.response_errors(
            request.method, exchange.url.path, response.status, response.body.value
        )
    else:
        errors = document.answer_errors(
            request.method, exchange.url.path, response.status, content_type, raw_body(response)
        )
    return [f"{exchange.where}: {e}" for e in errors]


def cassette_problems(
    cassette: Cassette,
    document: OpenAPIDocument,
    *,
    host: str,
    check: Callable[[Exchange], list[str]] | None = None,
    elsewhere: Callable[[Exchange], None] | None = None,
) -> list[str]:
    """Every problem of the cassette's exchanges with the vendor's API ``host`` (``netloc``):
    ``check``'s (the vendor's own, run first) and :func:`answer_problems`'s. An exchange with
    another host goes to ``elsewhere`` (which asserts what it must); with no ``elsewhere``
    it fails."""
    problems: list[str] = []
    for exchange in exchanges(cassette):
        if exchange.url.netloc != host:
            assert elsewhere is not None, f"{exchange.where}: a request to {exchange.url.netloc}"
            elsewhere(exchange)
            continue
        if check is not None:
            problems += check(exchange)
        problems += answer_problems(exchange, document)
    return problems


__all__ = [
    "NO_ACCOUNT",
    "Exchange",
    "answer_problems",
    "assert_one_cassette_each",
    "cassette_files",
    "cassette_problems",
    "each_cassette",
    "exchanges",
    "load_vendor_cassette",
    "raw_body",
]
