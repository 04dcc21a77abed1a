"""The secret scan over cassette files."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from convoport.contracts.scan import Finding, is_placeholder, main, scan_cassette, scan_paths

KNOWN = "env-api-key-7f3a9c"


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _cassette(*interactions: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"convoport_cassette": 1, "meta": meta or {}, "interactions": list(interactions)}


def _exchange(
    url: str = "https://api.gladia.io/v2/live",
    *,
    request_headers: dict[str, str] | None = None,
    request_body: Any = None,
    response_headers: dict[str, str] | None = None,
    response_body: Any = None,
) -> dict[str, Any]:
    return {
        "request": {
            "method": "GET",
            "url": url,
            "headers": request_headers or {},
            "body": request_body,
        },
        "response": {"status": 200, "headers": response_headers or {}, "body": response_body},
    }


def test_clean_hand_written_cassette_with_placeholders(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "clean.json",
        _cassette(
            _exchange(
                "https://api.gladia.io/v2/live?token=[REDACTED]&limit=2",
                request_headers={"accept": "application/json"},
                response_headers={"x-request-id": "9b2f4c1e-0c4d-4a55-9f07-1b2c3d4e5f60"},
                response_body={
                    "json": {
                        "id": "abc",
                        "url": "wss://api.gladia.io/v2/live?token=fake-session-token",
                        "token": "test-token",
                        "api_key": "example-key",
                        "secret": "",
                        "password": None,
                        "text": "Basic authentication is described in the bearer section.",
                    }
                },
            ),
            _exchange(
                response_body={"text": 'event: ready\ndata: {"token": "[REDACTED]"}\n\n'},
            ),
            meta={"args": {"api_key": "fake-api-key"}},
        ),
    )
    assert scan_cassette(path, secrets=[KNOWN]) == []


def test_dirty_cassette_is_flagged_with_reasons(tmp_path: Path) -> None:
    aws = "AKIA" + "ABCDEFGHIJKLMNOP"
    openai_like = "sk-" + "a1B2c3D4e5F6g7H8i9J0k1L2"
    hex_key = "0123456789abcdef" * 3
    path = _write(
        tmp_path / "dirty.json",
        _cassette(
            _exchange(
                f"https://user:hunter2@api.gladia.io/v2/live?token=live-abc&api_key={hex_key}",
                request_headers={
                    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9",
                    "x-gladia-key": "[REDACTED]",
                    "x-api-key": "fake-key",
                },
                request_body={"json": {"config": {"api_key": "real-looking-key"}, "id": KNOWN}},
                response_headers={"x-request-id": hex_key},
                response_body={
                    "text": f"data: use Bearer Zm9vOmJhcg3x and {openai_like}\n\nsecret=abc&x=1\n"
                },
            ),
            _exchange(response_body={"json": {"aws": aws, "nested": [{"Token": "t0k3n"}]}}),
        ),
    )
    findings = scan_cassette(path, secrets=[KNOWN])
    got = {(f.location, f.reason.split(" (")[0]) for f in findings}
    request = "interactions[0].request"
    response = "interactions[0].response"
    expected = {
        (f"{request}.url", "URL carries user info"),
        (f"{request}.url", "query parameter 'token' holds a value that is not a placeholder"),
        (f"{request}.url", "query parameter 'api_key' holds a value that is not a placeholder"),
        (f"{request}.url", "query parameter 'api_key' holds a run of 40 or more hex digits"),
        (f"{request}.headers.authorization", "credential header 'authorization' is recorded"),
        (f"{request}.headers.authorization", "holds a Bearer credential"),
        (f"{request}.headers.x-api-key", "credential header 'x-api-key' is recorded"),
        (
            f"{request}.body.json.config.api_key",
            "JSON key 'api_key' holds a value that is not a placeholder",
        ),
        (f"{response}.headers.x-request-id", "header value holds a run of 40 or more hex digits"),
        (f"{response}.body.text", "holds a Bearer credential"),
        (f"{response}.body.text", "looks like an 'sk-' API key"),
        (f"{response}.body.text", "'secret=' holds a value that is not a placeholder"),
        (
            "interactions[1].response.body.json.aws",
            "looks like an AWS access key id",
        ),
        (
            "interactions[1].response.body.json.nested[0].Token",
            "JSON key 'Token' holds a value that is not a placeholder",
        ),
    }
    assert expected <= got
    known = [f for f in findings if "known secret" in f.reason]
    assert len(known) == 1
    assert known[0].location.startswith("line ")
    # x-gladia-key holding exactly [REDACTED] is accepted.
    assert not any("x-gladia-key" in f.location for f in findings)
    # Findings never quote what they found.
    for finding in findings:
        for value in (KNOWN, aws, openai_like, "hunter2", "live-abc", "t0k3n", hex_key):
            assert value not in str(finding)


def test_finding_reads_well(tmp_path: Path) -> None:
    finding = Finding(path=tmp_path / "c.json", location="interactions[0].request.url", reason="x")
    assert str(finding) == f"{tmp_path / 'c.json'}: interactions[0].request.url: x"


def test_known_secret_inside_base64_body(tmp_path: Path) -> None:
    body = {"base64": base64.b64encode(b"\x00\x01" + KNOWN.encode() + b"\xff").decode()}
    path = _write(tmp_path / "b.json", _cassette(_exchange(response_body=body)))
    findings = scan_cassette(path, secrets=[KNOWN])
    assert [(f.location, f.reason) for f in findings] == [
        (
            "interactions[0].response.body.base64",
            "the base64 body contains the value of known secret #1",
        )
    ]
    assert scan_cassette(path) == []


def test_json_escaped_secret_is_found(tmp_path: Path) -> None:
    secret = 'pa"ss/wörd\\1'
    path = _write(tmp_path / "e.json", _cassette(_exchange(response_body={"json": {"x": secret}})))
    assert [f.reason for f in scan_cassette(path, secrets=[secret])] == [
        "contains the value of known secret #1"
    ]


def test_scan_paths_recurses_into_cassettes_only(tmp_path: Path) -> None:
    clean = _write(tmp_path / "gladia" / "cassettes" / "ok.json", _cassette(_exchange()))
    dirty = _write(
        tmp_path / "syllable" / "cassettes" / "deep" / "bad.json",
        _cassette(_exchange(request_headers={"syllable-api-key": "abc"})),
    )
    # Not cassettes: ignored even though they hold secret-looking values.
    (tmp_path / "gladia" / "expected").mkdir()
    (tmp_path / "gladia" / "expected" / "result.json").write_text('{"token": "abc"}')
    (tmp_path / "gladia" / "notes.txt").write_text("Bearer Abcdefgh1234")
    broken = tmp_path / "broken.json"
    broken.write_text('{"convoport_cassette": 1, ')

    findings = scan_paths(tmp_path)
    assert {f.path for f in findings} == {dirty, broken}
    assert any(f.reason.startswith("credential header 'syllable-api-key'") for f in findings)
    assert any(f.reason.startswith("not valid JSON") for f in findings)
    assert scan_paths([clean]) == []
    assert scan_paths([clean, dirty], [KNOWN]) == scan_cassette(dirty)


def test_placeholder_rule() -> None:
    for value in ("[REDACTED]", "", "fake-1", "TEST-x", "example", "Example-token"):
        assert is_placeholder(value)
    for value in ("REDACTED", "abc", "fake", "my-test-key"):
        assert not is_placeholder(value)


def test_main_exit_status(tmp_path: Path, capsys: Any) -> None:
    dirty = _write(tmp_path / "d.json", _cassette(_exchange(request_headers={"cookie": "a=b"})))
    clean = _write(tmp_path / "c.json", _cassette(_exchange()))
    assert main([str(clean)]) == 0
    assert main([str(dirty)]) == 1
    assert "credential header 'cookie'" in capsys.readouterr().out
