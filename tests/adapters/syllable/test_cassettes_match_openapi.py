"""Every recorded Syllable exchange follows the vendor's OpenAPI document exactly, and the
cassettes say where they come from (the emulator, no vendor account) and that they were
reviewed against the reference."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from convoport.contracts.cassette import BinaryBody, JsonBody, load_cassette
from tests.adapters.syllable.openapi import binary_allowed, query_errors, response_errors
from tests.adapters.syllable.scenarios import ALL_SCENARIOS, CASSETTES

CASSETTE_FILES = sorted(CASSETTES.glob("*.json"))


def test_every_scenario_has_a_cassette() -> None:
    assert {p.stem for p in CASSETTE_FILES} == set(ALL_SCENARIOS)


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: p.stem)
def test_cassette_follows_the_document(path: Path) -> None:
    cassette = load_cassette(path)
    assert cassette.meta["provider"] == "syllable"
    assert cassette.meta["scenario"] == path.stem
    assert "no vendor account was used" in cassette.meta["source"]
    assert "reviewed by hand" in cassette.meta["review"]
    problems: list[str] = []
    for index, interaction in enumerate(cassette.interactions):
        request, response = interaction.request, interaction.response
        url = urlsplit(request.url)
        where = f"interaction #{index}"
        assert url.scheme == "https"
        assert url.netloc == "api.syllable.cloud"
        problems += [
            f"{where}: {e}" for e in query_errors(request.method, url.path, parse_qsl(url.query))
        ]
        if request.method == "POST":
            assert request.body is None, f"{where}: the recording POST has no body"
        if isinstance(response.body, JsonBody):
            assert response.headers.get("content-type", "").startswith("application/json")
            problems += [
                f"{where}: {e}"
                for e in response_errors(
                    request.method, url.path, response.status, response.body.value
                )
            ]
        else:
            assert isinstance(response.body, BinaryBody), f"{where}: an empty answer"
            ctype = response.headers.get("content-type", "")
            assert binary_allowed(request.method, url.path, response.status, ctype), (
                f"{where}: a {ctype} body on {url.path} {response.status}"
            )
    if path.stem == "unknown_enum_values":
        # On purpose: members the document's (and the SDK's) closed enums do not list.
        unknown = [
            p for p in problems if "'vad' is not one of" in p or "'ticks' is not one of" in p
        ]
        assert len(unknown) == 4, problems
        problems = [p for p in problems if p not in unknown]
    assert not problems, "\n".join(problems)
