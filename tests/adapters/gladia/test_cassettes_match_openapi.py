"""Every recorded Gladia exchange follows the official OpenAPI document exactly."""

from __future__ import annotations

from pathlib import Path

from convoport.contracts.cassette import JsonBody
from convoport.contracts.ws import websocket_sessions
from tests.adapters.gladia.openapi import DOCUMENT, message_errors, schema_errors
from tests.adapters.gladia.scenarios import CASSETTES, SCENARIOS
from tests.support import cassettes as recorded
from tests.support.cassettes import Exchange

CASSETTE_FILES = recorded.cassette_files(CASSETTES)


def test_every_scenario_has_a_cassette() -> None:
    recorded.assert_one_cassette_each(CASSETTE_FILES, SCENARIOS.applicable())


def _request_problems(exchange: Exchange) -> list[str]:
    """An accepted POST's JSON body follows ``StreamingRequest`` (a refused request is
    invalid on purpose)."""
    request = exchange.request
    if not isinstance(request.body, JsonBody) or request.method != "POST":
        return []
    if exchange.response.status >= 300:
        return []
    return [
        f"{exchange.where} request: {e}"
        for e in schema_errors("StreamingRequest", request.body.value)
    ]


@recorded.each_cassette(CASSETTE_FILES)
def test_cassette_follows_the_document(path: Path) -> None:
    cassette = recorded.load_vendor_cassette(path, provider="gladia")
    # the file download is the one binary answer, the started job's 202 the one empty one
    problems = recorded.cassette_problems(
        cassette, DOCUMENT, host="api.gladia.io", check=_request_problems
    )
    for s_index, session in enumerate(websocket_sessions(cassette)):
        for f_index, frame in enumerate(session.frames):
            where = f"websocket[{s_index}] frame #{f_index}"
            if frame.type == "text":
                assert frame.is_json, f"{where}: Gladia's messages are JSON"
                problems += [
                    f"{where}: {e}" for e in message_errors(frame.json, client=frame.dir == "send")
                ]
    assert not problems, "\n".join(problems)
