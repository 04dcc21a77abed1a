"""The API key never shows up in a log line, an error message, or a cassette."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

import convoport
from convoport import LiveOptions, SessionQuery
from convoport.adapters.gladia.emulator import SANDBOX_KEY, GladiaEmulator
from convoport.contracts.scan import scan_paths
from convoport.errors import ConvoportError
from convoport.http import RetryPolicy
from convoport.sandbox import Faults, tone_pcm
from tests.adapters.gladia.payloads import JOB_ID, error_body
from tests.adapters.gladia.scenarios import CASSETTES

SECRET = "gk-live-7f3a9c2e5b1d4f60a8e2"


@pytest.mark.anyio
async def test_key_not_in_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    """A vendor that echoes the key in its error bodies and links: the key is still not shown."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("x-gladia-key", "")
        if request.method == "DELETE":
            return httpx.Response(403, json=error_body(403, f"key {key} may not delete"))
        if request.url.path.endswith("/file"):
            return httpx.Response(404, json=error_body(404, f"no file for {key}"))
        if request.url.path == "/v2/live":
            return httpx.Response(
                500, json=error_body(500, f"boom {key}", validation_errors=[f"x-gladia-key: {key}"])
            )
        return httpx.Response(401, json=error_body(401, f"gladia key {key} not found"))

    caplog.set_level(logging.DEBUG)
    errors: list[ConvoportError] = []
    async with convoport.connect(
        "gladia",
        api_key=SECRET,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2, backoff_base=0, backoff_max=0),
    ) as client:
        for call in (
            lambda: client.get_session(JOB_ID),
            lambda: client.delete_session(JOB_ID),
            lambda: client.start_live(LiveOptions()),
        ):
            try:
                await call()
            except ConvoportError as exc:
                errors.append(exc)
        try:
            _ = [s async for s in client.list_sessions(SessionQuery())]
        except ConvoportError as exc:
            errors.append(exc)
        assert SECRET not in repr(client.adapter)
    assert len(errors) == 4
    for error in errors:
        text = " ".join(
            [str(error), repr(error), str(getattr(error, "body_excerpt", "")), str(error.hint)]
        )
        assert SECRET not in text, text
    assert SECRET not in caplog.text
    assert caplog.records, "nothing was logged: the test would prove nothing"


@pytest.mark.anyio
async def test_key_and_socket_token_not_in_logs_during_a_live_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = GladiaEmulator(faults=Faults(drop_ws_after_frames=1))
    async with convoport.connect(
        "gladia",
        transport=harness.transport(),
        live_poll_interval=0.01,
        ws_backoff_base=0.01,
        **harness.connect_options(),
    ) as client:
        async with await client.start_live(LiveOptions()) as live:
            await live.send_audio(tone_pcm(1.5, sample_rate=16000))
            await live.finalize()
            result = await live.wait()
        assert SANDBOX_KEY not in repr(live)
    token = harness.job(live.session_id).token
    assert token is not None
    assert "reconnecting" in caplog.text  # the drop was logged ...
    assert SANDBOX_KEY not in caplog.text
    # ... without the socket's temporary token in convoport's own log lines. (httpx's own
    # INFO line "HTTP Request: GET wss://...?token=..." does show it; a redacting filter on
    # the "httpx" logger belongs in core: see the Gladia report.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("convoport")]
    assert ours
    assert not [line for line in ours if token in line]
    assert token not in repr(live)
    assert SANDBOX_KEY not in json.dumps(convoport.serde.unstructure(result))


def test_cassettes_hold_no_credential() -> None:
    files = sorted(CASSETTES.glob("*.json"))
    assert files
    findings = scan_paths([CASSETTES], secrets=[SANDBOX_KEY, SECRET])
    assert not findings, "\n".join(str(f) for f in findings)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert SANDBOX_KEY not in text
        assert "x-gladia-key" not in text.lower()
        assert "token=test-" in text or "websocket" not in json.loads(text)
