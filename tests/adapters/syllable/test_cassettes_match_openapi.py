"""Every recorded Syllable exchange follows the vendor's OpenAPI document exactly, and the
cassettes say where they come from (the emulator, no vendor account) and that they were
reviewed against the reference."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from convoport.contracts.cassette import BinaryBody, JsonBody
from tests.adapters.syllable.openapi import DOCUMENT, query_errors
from tests.adapters.syllable.scenarios import CASSETTES, SCENARIOS
from tests.support import cassettes as recorded
from tests.support.cassettes import Exchange

CASSETTE_FILES = recorded.cassette_files(CASSETTES)


def test_every_scenario_has_a_cassette() -> None:
    recorded.assert_one_cassette_each(CASSETTE_FILES, SCENARIOS.applicable())


def _request_problems(exchange: Exchange) -> list[str]:
    """Only declared query parameters; the recording POST has no body; every answer has a
    JSON or a binary body."""
    request, url = exchange.request, exchange.url
    if request.method == "POST":
        assert request.body is None, f"{exchange.where}: the recording POST has no body"
    body = exchange.response.body
    assert isinstance(body, JsonBody | BinaryBody), f"{exchange.where}: an empty answer"
    return [
        f"{exchange.where}: {e}"
        for e in query_errors(request.method, url.path, parse_qsl(url.query))
    ]


@recorded.each_cassette(CASSETTE_FILES)
def test_cassette_follows_the_document(path: Path) -> None:
    cassette = recorded.load_vendor_cassette(path, provider="syllable")
    assert "reviewed by hand" in cassette.meta["review"]
    problems = recorded.cassette_problems(
        cassette, DOCUMENT, host="api.syllable.cloud", check=_request_problems
    )
    if path.stem == "unknown_enum_values":
        # On purpose: members the document's (and the SDK's) closed enums do not list.
        unknown = [
            p for p in problems if "'vad' is not one of" in p or "'ticks' is not one of" in p
        ]
        assert len(unknown) == 4, problems
        problems = [p for p in problems if p not in unknown]
    assert not problems, "\n".join(problems)
