"""Every recorded Gladia exchange follows the official OpenAPI document exactly."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from convoport.contracts.cassette import JsonBody, load_cassette
from convoport.contracts.ws import websocket_sessions
from tests.adapters.gladia.openapi import message_errors, response_errors, schema_errors, spec
from tests.adapters.gladia.scenarios import ALL_SCENARIOS, CASSETTES

CASSETTE_FILES = sorted(CASSETTES.glob("*.json"))


def test_every_scenario_has_a_cassette() -> None:
    assert {p.stem for p in CASSETTE_FILES} == set(ALL_SCENARIOS)


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: p.stem)
def test_cassette_follows_the_document(path: Path) -> None:
    cassette = load_cassette(path)
    assert cassette.meta["provider"] == "gladia"
    assert cassette.meta["scenario"] == path.stem
    assert "no vendor account was used" in cassette.meta["source"]
    problems: list[str] = []
    for index, interaction in enumerate(cassette.interactions):
        request, response = interaction.request, interaction.response
        url = urlsplit(request.url)
        assert url.scheme == "https"
        assert url.netloc == "api.gladia.io"
        where = f"interaction #{index}"
        accepted = response.status < 300  # a refused request is invalid on purpose
        if isinstance(request.body, JsonBody) and request.method == "POST" and accepted:
            problems += [
                f"{where} request: {e}"
                for e in schema_errors("StreamingRequest", request.body.value)
            ]
        if isinstance(response.body, JsonBody):
            assert response.headers.get("content-type", "").startswith("application/json")
            problems += [
                f"{where}: {e}"
                for e in response_errors(
                    request.method, url.path, response.status, response.body.value
                )
            ]
        elif response.body is not None:
            operation = spec()["paths"]["/v2/live/{id}/file"]["get"]
            assert url.path.endswith("/file"), f"{where}: a binary body off the file route"
            assert (
                "application/octet-stream"
                in operation["responses"][str(response.status)]["content"]
            )
            assert response.headers.get("content-type") == "application/octet-stream"
        else:
            documented = spec()["paths"]
            assert response.status in (202, 204), f"{where}: an empty {response.status}"
            assert documented, where
    for s_index, session in enumerate(websocket_sessions(cassette)):
        for f_index, frame in enumerate(session.frames):
            where = f"websocket[{s_index}] frame #{f_index}"
            if frame.type == "text":
                assert frame.is_json, f"{where}: Gladia's messages are JSON"
                problems += [
                    f"{where}: {e}" for e in message_errors(frame.json, client=frame.dir == "send")
                ]
    assert not problems, "\n".join(problems)
